/**
 * A fixed reference workload timed beside the efforts, so two runs on the same device can be
 * compared for how fast the device was at the time (a shared machine's speed moves by tens of
 * percent as other jobs come and go). It is the same graph everywhere: a 197-token, 384-wide
 * MLP block (MatMul 384x1536, Relu, MatMul 1536x384: 233 M MACs, DeiT-S's MLP shape) with fixed
 * weights, written once to the temp directory and run by onnxruntime like an effort. Its time
 * says nothing about any model; only its ratio between two runs is used.
 */
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeOnnx, FLOAT, floatValue, type ModelProto } from '../import/onnx.js';
import { createSession, float32Tensor, type SessionOptions } from '../model/ort.js';
import { writeFile } from 'node:fs/promises';

const TOKENS = 197;
const DIM = 384;
const HIDDEN = 1536;

/** Deterministic weights in [-0.05, 0.05] (the values do not change the work; they only must not be all zero). */
function weights(rows: number, cols: number, seed: number): Uint8Array {
  const w = new Float32Array(rows * cols).map((_, i) => Math.sin(i * 0.618 + seed) * 0.05);
  return new Uint8Array(w.buffer);
}

function referenceModel(): ModelProto {
  const tensor = (name: string, rows: number, cols: number, seed: number) => ({
    name,
    dataType: FLOAT,
    dims: [rows, cols],
    rawData: weights(rows, cols, seed),
  });
  return {
    irVersion: 7,
    producerName: 'pivot-edge reference',
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'reference_mlp',
      node: [
        { opType: 'MatMul', name: 'fc1', input: ['x', 'w1'], output: ['h'] },
        { opType: 'Relu', name: 'act', input: ['h'], output: ['a'] },
        { opType: 'MatMul', name: 'fc2', input: ['a', 'w2'], output: ['y'] },
      ],
      initializer: [tensor('w1', DIM, HIDDEN, 1), tensor('w2', HIDDEN, DIM, 2)],
      input: [floatValue('x', [1, TOKENS, DIM])],
      output: [floatValue('y', [1, TOKENS, DIM])],
    },
  };
}

/** The reference graph's file (written on first use). */
export async function referenceFile(): Promise<string> {
  const dir = join(tmpdir(), 'pivot-edge-masks');
  const file = join(dir, `reference-mlp-${TOKENS}x${DIM}x${HIDDEN}.onnx`);
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    const partial = `${file}.${process.pid}.partial`;
    await writeFile(partial, encodeOnnx(referenceModel()));
    renameSync(partial, file);
  }
  return file;
}

/** Something measureCases can time like an effort session. */
export interface TimedGraph {
  readonly sampleSize: number;
  run(input: Float32Array, count: number): Promise<unknown>;
  release(): Promise<void>;
}

/** A session of the reference graph; every call runs one block whatever the count (the batch is 1). */
export async function referenceSession(options: SessionOptions = {}): Promise<TimedGraph> {
  const session = await createSession(await referenceFile(), options);
  const input = new Float32Array(TOKENS * DIM).map((_, i) => Math.cos(i));
  return {
    sampleSize: TOKENS * DIM,
    run: () => session.run({ x: float32Tensor(input, [1, TOKENS, DIM]) }),
    release: () => session.release(),
  };
}
