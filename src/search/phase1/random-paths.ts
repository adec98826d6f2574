/**
 * Fig. 4a's check: for one effort, draw distinct random paths, measure each path's
 * accuracy without fine-tuning (the analysis graph with attn_gate = the path's mask), and
 * report the Spearman rank correlation between accuracy and Path-Score.
 */
import { sampleRankCorrelation } from 'simple-statistics';
import { predict } from '../../cascade/entropy.js';
import type { AnalysisModel } from '../../model/analysis.js';
import type { ImageSet } from './images.js';
import { type CkaMatrix, type Mask, pathScore } from './path-score.js';
import { seededRandom, sampleDistinct } from './rng.js';
import { enumeratePaths } from './select.js';

export interface RandomPath {
  active: number[];
  score: number;
  accuracy: number;
}

export interface RandomPathsReport {
  effort: number;
  /** Number of evaluation images. */
  images: number;
  paths: RandomPath[];
  /** Spearman's rho of accuracy vs Path-Score (NaN when either is constant). */
  spearman: number;
}

const BATCH = 256;

/** Top-1 accuracy of `model` gated by `active` on `images`. */
export async function gatedAccuracy(model: AnalysisModel, images: ImageSet, active: Mask): Promise<number> {
  let correct = 0;
  for (let start = 0; start < images.count; start += BATCH) {
    const batch = Math.min(BATCH, images.count - start);
    const { logits } = await model.run(images.batch(start, batch), batch, active);
    for (let b = 0; b < batch; b++) if (predict(logits, model.classes, b).classIndex === images.labels[start + b]) correct++;
  }
  return correct / images.count;
}

export interface RandomPathsOptions {
  effort: number;
  /** Distinct paths to draw (capped at C(D, effort)). */
  count: number;
  seed: number;
  onPath?: (path: RandomPath, index: number, total: number) => void;
}

export async function randomPathsCheck(
  model: AnalysisModel,
  cka: CkaMatrix,
  images: ImageSet,
  options: RandomPathsOptions,
): Promise<RandomPathsReport> {
  const drawn = sampleDistinct(enumeratePaths(model.depth, options.effort), options.count, seededRandom(options.seed));
  const paths: RandomPath[] = [];
  for (const active of drawn) {
    const path = { active, score: pathScore(active, cka), accuracy: await gatedAccuracy(model, images, active) };
    paths.push(path);
    options.onPath?.(path, paths.length, drawn.length);
  }
  return { effort: options.effort, images: images.count, paths, spearman: rankCorrelation(paths) };
}

/** Spearman's rank correlation of accuracy and Path-Score over the paths; NaN for fewer than two. */
export function rankCorrelation(paths: readonly Pick<RandomPath, 'accuracy' | 'score'>[]): number {
  return paths.length >= 2
    ? sampleRankCorrelation(
        paths.map((p) => p.accuracy),
        paths.map((p) => p.score),
      )
    : Number.NaN;
}

/**
 * An earlier run's random paths against a new CKA matrix: their accuracies do not depend on the
 * tap images, so they are kept; their Path-Scores (and the correlation) are recomputed.
 */
export function rescoreRandomPaths<P extends { active: Mask; score: number; accuracy: number }>(
  earlier: readonly P[],
  cka: CkaMatrix,
): { paths: P[]; spearman: number } {
  const paths = earlier.map((p) => ({ ...p, score: pathScore(p.active, cka) }));
  return { paths, spearman: rankCorrelation(paths) };
}
