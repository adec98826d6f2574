/**
 * Activation taps for Phase 1: runs the analysis graph with every attention active on
 * the tap images and turns each residual-stream tap (MLP_0..MLP_D, A_1..A_D, each
 * [n, tokens, dim], flattened to n x tokens*dim) into its centred Gram matrix.
 */
import type { AnalysisModel } from '../../model/analysis.js';
import { type CenteredGram, centeredGram, ckaMatrix } from './cka.js';
import type { ImageSet } from './images.js';

export interface TapGrams {
  mlp: CenteredGram[];
  attn: CenteredGram[];
}

/** Images per analysis run: bounds the tap memory per run (13 taps x batch x tokens x dim floats). */
const BATCH = 64;

/** Collects all taps over `images` (attn_gate all ones) and returns their centred Gram matrices. */
export async function collectTapGrams(model: AnalysisModel, images: ImageSet): Promise<TapGrams> {
  const n = images.count;
  const size = model.tapSize;
  const mlp = Array.from({ length: model.depth + 1 }, () => new Float32Array(n * size));
  const attn = Array.from({ length: model.depth }, () => new Float32Array(n * size));
  const allActive = new Array<number>(model.depth).fill(1);
  for (let start = 0; start < n; start += BATCH) {
    const batch = Math.min(BATCH, n - start);
    const pixels = images.pixels.subarray(start * model.imageSize, (start + batch) * model.imageSize);
    const out = await model.run(pixels, batch, allActive, true);
    out.mlp.forEach((t, i) => mlp[i]!.set(t, start * size));
    out.attn.forEach((t, j) => attn[j]!.set(t, start * size));
  }
  return {
    mlp: mlp.map((x, i) => centeredGram(x, n, `MLP_${i}`)),
    attn: attn.map((x, j) => centeredGram(x, n, `A_${j + 1}`)),
  };
}

/** The (D+1) x D CKA matrix of `model` over `images`. */
export async function measureCkaMatrix(model: AnalysisModel, images: ImageSet): Promise<number[][]> {
  const grams = await collectTapGrams(model, images);
  return ckaMatrix(grams.mlp, grams.attn);
}
