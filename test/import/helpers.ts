/** Fixtures of test/fixtures/import (made by scripts/make_import_fixtures.py) and a runner comparing a graph with PyTorch's logits. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { type ModelProto, onnx } from '../../src/import/onnx.js';
import type { Architecture } from '../../src/model/manifest.js';

export const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'import');
export const fixture = (name: string) => join(FIXTURES, name);

export interface Reference {
  architecture: Architecture;
  input_shape: number[];
  inputs: number[];
  /** PyTorch logits by mask ("1010": attention 1 and 3 active) for all inputs, row-major. */
  logits: Record<string, number[]>;
}

export function reference(name: 'tv-vit' | 'hf-vit' | 'mean-vit'): Reference {
  return JSON.parse(readFileSync(fixture(`${name}-reference.json`), 'utf8')) as Reference;
}

/** Largest |difference| between `file`'s logits on the reference inputs and PyTorch's for `mask`; fixed-batch graphs run one input at a time. */
export async function maxLogitError(
  file: string,
  ref: Reference,
  mask: readonly number[],
  input: string,
  output = 'logits',
): Promise<number> {
  const session = await ort.InferenceSession.create(file, { intraOpNumThreads: 1 });
  try {
    const expected = ref.logits[mask.join('')]!;
    const [n, ...sample] = ref.input_shape as [number, ...number[]];
    const size = sample.reduce((a, b) => a * b, 1);
    const fixed = session.inputMetadata[0]?.isTensor && session.inputMetadata[0].shape[0] === 1;
    const got: number[] = [];
    for (let start = 0; start < n; start += fixed ? 1 : n) {
      const count = fixed ? 1 : n;
      const data = Float32Array.from(ref.inputs.slice(start * size, (start + count) * size));
      const out = await session.run({ [input]: new ort.Tensor('float32', data, [count, ...sample]) });
      got.push(...(out[output]!.data as Float32Array));
    }
    if (got.length !== expected.length) throw new Error(`${file}: ${got.length} logits, expected ${expected.length}`);
    return Math.max(...got.map((v, i) => Math.abs(v - expected[i]!)));
  } finally {
    await session.release();
  }
}

/** The model with every initializer's bytes moved to `dir/file`, as the ONNX exporter stores models over 2 GB. */
export function externalise(model: ModelProto, dir: string, file: string): ModelProto {
  const chunks: Buffer[] = [];
  let offset = 0;
  const initializer = model.graph!.initializer!.map((t) => {
    if (!t.rawData?.length) return t;
    const location = [
      { key: 'location', value: file },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(t.rawData.length) },
    ];
    chunks.push(Buffer.from(t.rawData));
    offset += t.rawData.length;
    return { ...t, rawData: new Uint8Array(0), dataLocation: onnx.TensorProto.DataLocation.EXTERNAL, externalData: location };
  });
  writeFileSync(join(dir, file), Buffer.concat(chunks));
  return { ...model, graph: { ...model.graph, initializer } };
}
