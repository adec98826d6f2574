/**
 * Activation taps for Phase 1: runs the analysis graph with every attention active on
 * the tap images and turns each residual-stream tap (MLP_0..MLP_D, A_1..A_D, each
 * [n, tokens, dim], flattened to n x tokens*dim) into its centred Gram matrix.
 *
 * Raw taps of a large ViT do not fit in memory all at once (DeiT-S, 256 images: 25 taps
 * x 77 MB), so taps are fetched in groups that fit `budgetBytes`, one pass over the
 * images per group; only the n x n Gram matrices are kept. With `spillDir`, taps that do
 * not fit are instead written to files there in a single pass and read back a column
 * block at a time: one forward pass instead of one per group, and a few MB of raw taps in
 * memory (spillTaps also lets the caller close the session before the Gram step).
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { AnalysisModel } from '../../model/analysis.js';
import { type CenteredGram, type ColumnReader, centeredGram, centeredGramByColumns, ckaMatrix } from './cka.js';
import type { ImageSet } from './images.js';

export interface TapGrams {
  mlp: CenteredGram[];
  attn: CenteredGram[];
}

export interface TapOptions {
  /** Images per analysis run. */
  batch?: number;
  /** Memory for raw float32 taps held at once (default 512 MiB). */
  budgetBytes?: number;
  /** A directory for raw taps when they exceed the budget (a temporary folder is made in it and removed). */
  spillDir?: string;
}

type Tap = { name: string; label: string };

/** Reads a column block of the n x p float32 matrix in file `fd` (row-major), one row's segment at a time. */
function columnsFromFile(fd: number, n: number, p: number): ColumnReader {
  let segment = new Float32Array(0);
  return (block, from, count) => {
    if (segment.length < count) segment = new Float32Array(count);
    const bytes = new Uint8Array(segment.buffer, 0, count * 4);
    for (let r = 0; r < n; r++) {
      for (let done = 0; done < bytes.length; ) {
        const got = readSync(fd, bytes, done, bytes.length - done, (r * p + from) * 4 + done);
        if (got === 0) throw new Error(`spilled tap file ended at row ${r} of ${n}`);
        done += got;
      }
      block.set(segment.subarray(0, count), r * count);
    }
  };
}

/** Raw taps written to disk by one forward pass: the analysis session can be closed before their Gram matrices are computed. */
export interface SpilledTaps {
  /** Centred Gram matrices of the spilled taps, each computed from its file a column block at a time. */
  grams(): TapGrams;
  /** Deletes the tap files. */
  remove(): void;
}

/**
 * One pass over the images (attn_gate all ones) writing every tap to its own file in a
 * temporary folder made in `dir`: in memory, one batch of taps at a time.
 */
export async function spillTaps(model: AnalysisModel, images: ImageSet, options: { batch: number; dir: string }): Promise<SpilledTaps> {
  const n = images.count;
  const size = model.tapSize;
  const taps = tapList(model);
  const dir = mkdtempSync(join(options.dir, '.taps-'));
  const files = taps.map((_, k) => join(dir, `${k}.f32`));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  try {
    const fds = files.map((f) => openSync(f, 'w'));
    try {
      const allActive = new Array<number>(model.depth).fill(1);
      for (let start = 0; start < n; start += options.batch) {
        const batch = Math.min(options.batch, n - start);
        const out = await model.run(
          images.batch(start, batch),
          batch,
          allActive,
          taps.map((t) => t.name),
        );
        taps.forEach((t, k) => {
          const data = out.taps.get(t.name)!;
          writeSync(fds[k]!, new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 0, data.byteLength, start * size * 4);
        });
      }
    } finally {
      for (const fd of fds) closeSync(fd);
    }
  } catch (err) {
    remove();
    throw err;
  }
  const mlpNames = [...model.mlpNames];
  const attnNames = [...model.attnNames];
  return {
    grams() {
      const grams = new Map<string, CenteredGram>();
      taps.forEach((t, k) => {
        const fd = openSync(files[k]!, 'r');
        try {
          grams.set(t.name, centeredGramByColumns(columnsFromFile(fd, n, size), n, size));
        } finally {
          closeSync(fd);
        }
      });
      return { mlp: mlpNames.map((name) => grams.get(name)!), attn: attnNames.map((name) => grams.get(name)!) };
    },
    remove,
  };
}

function tapList(model: AnalysisModel): Tap[] {
  return [
    ...model.mlpNames.map((name, i) => ({ name, label: `MLP_${i}` })),
    ...model.attnNames.map((name, j) => ({ name, label: `A_${j + 1}` })),
  ];
}

/** Collects all taps over `images` (attn_gate all ones) and returns their centred Gram matrices. */
export async function collectTapGrams(model: AnalysisModel, images: ImageSet, options: TapOptions = {}): Promise<TapGrams> {
  const n = images.count;
  const size = model.tapSize;
  const batchSize = options.batch ?? 64;
  const perGroup = Math.max(1, Math.floor((options.budgetBytes ?? 512 * 2 ** 20) / (n * size * 4)));
  const taps = tapList(model);
  if (options.spillDir !== undefined && perGroup < taps.length) {
    const spilled = await spillTaps(model, images, { batch: batchSize, dir: options.spillDir });
    try {
      return spilled.grams();
    } finally {
      spilled.remove();
    }
  }
  const allActive = new Array<number>(model.depth).fill(1);
  const grams = new Map<string, CenteredGram>();
  for (let g = 0; g < taps.length; g += perGroup) {
    const group = taps.slice(g, g + perGroup);
    const buffers = group.map(() => new Float32Array(n * size));
    const names = group.map((t) => t.name);
    for (let start = 0; start < n; start += batchSize) {
      const batch = Math.min(batchSize, n - start);
      const out = await model.run(images.batch(start, batch), batch, allActive, names);
      group.forEach((t, k) => buffers[k]!.set(out.taps.get(t.name)!, start * size));
    }
    group.forEach((t, k) => grams.set(t.name, centeredGram(buffers[k]!, n, t.label)));
  }
  return {
    mlp: model.mlpNames.map((name) => grams.get(name)!),
    attn: model.attnNames.map((name) => grams.get(name)!),
  };
}

/** The (D+1) x D CKA matrix of `model` over `images`. */
export async function measureCkaMatrix(model: AnalysisModel, images: ImageSet, options?: TapOptions): Promise<number[][]> {
  const grams = await collectTapGrams(model, images, options);
  return ckaMatrix(grams.mlp, grams.attn);
}
