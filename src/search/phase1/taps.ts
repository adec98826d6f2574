/**
 * Activation taps for Phase 1: runs the analysis graph with every attention active on
 * the tap images and turns each residual-stream tap (MLP_0..MLP_D, A_1..A_D, each
 * [n, tokens, dim], flattened to n x tokens*dim) into its centred Gram matrix.
 *
 * Raw taps of a large ViT do not fit in memory all at once (DeiT-S, 256 images: 25 taps
 * x 77 MB), so taps are fetched in groups that fit `budgetBytes`, one pass over the
 * images per group; only the n x n Gram matrices are kept. With `spillDir`, taps that do
 * not fit are instead written to files there in a single pass and read back one tap at a
 * time: one forward pass instead of one per group, and one raw tap in memory.
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { AnalysisModel } from '../../model/analysis.js';
import { type CenteredGram, centeredGram, ckaMatrix } from './cka.js';
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

/** One pass over the images writing every tap to its own file, then one Gram matrix per tap read back. */
async function spilledGrams(
  model: AnalysisModel,
  images: ImageSet,
  taps: Tap[],
  batchSize: number,
  spillDir: string,
): Promise<Map<string, CenteredGram>> {
  const n = images.count;
  const size = model.tapSize;
  const dir = mkdtempSync(join(spillDir, '.taps-'));
  const files = taps.map((_, k) => join(dir, `${k}.f32`));
  try {
    const fds = files.map((f) => openSync(f, 'w'));
    try {
      const allActive = new Array<number>(model.depth).fill(1);
      for (let start = 0; start < n; start += batchSize) {
        const batch = Math.min(batchSize, n - start);
        const pixels = images.pixels.subarray(start * model.imageSize, (start + batch) * model.imageSize);
        const out = await model.run(
          pixels,
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
    const grams = new Map<string, CenteredGram>();
    const buffer = new Float32Array(n * size);
    taps.forEach((t, k) => {
      const fd = openSync(files[k]!, 'r');
      try {
        readSync(fd, new Uint8Array(buffer.buffer), 0, buffer.byteLength, 0);
      } finally {
        closeSync(fd);
      }
      grams.set(t.name, centeredGram(buffer, n, t.label));
    });
    return grams;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Collects all taps over `images` (attn_gate all ones) and returns their centred Gram matrices. */
export async function collectTapGrams(model: AnalysisModel, images: ImageSet, options: TapOptions = {}): Promise<TapGrams> {
  const n = images.count;
  const size = model.tapSize;
  const batchSize = options.batch ?? 64;
  const perGroup = Math.max(1, Math.floor((options.budgetBytes ?? 512 * 2 ** 20) / (n * size * 4)));
  const taps: Tap[] = [
    ...model.mlpNames.map((name, i) => ({ name, label: `MLP_${i}` })),
    ...model.attnNames.map((name, j) => ({ name, label: `A_${j + 1}` })),
  ];
  if (options.spillDir !== undefined && perGroup < taps.length) {
    const grams = await spilledGrams(model, images, taps, batchSize, options.spillDir);
    return { mlp: model.mlpNames.map((name) => grams.get(name)!), attn: model.attnNames.map((name) => grams.get(name)!) };
  }
  const allActive = new Array<number>(model.depth).fill(1);
  const grams = new Map<string, CenteredGram>();
  for (let g = 0; g < taps.length; g += perGroup) {
    const group = taps.slice(g, g + perGroup);
    const buffers = group.map(() => new Float32Array(n * size));
    const names = group.map((t) => t.name);
    for (let start = 0; start < n; start += batchSize) {
      const batch = Math.min(batchSize, n - start);
      const pixels = images.pixels.subarray(start * model.imageSize, (start + batch) * model.imageSize);
      const out = await model.run(pixels, batch, allActive, names);
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
