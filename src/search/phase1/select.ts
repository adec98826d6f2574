/**
 * Optimal path per effort: enumerate all C(D, k) active-attention masks of each effort k
 * and keep the one with the highest Path-Score.
 *
 * Ties (scores equal within a relative 1e-12, e.g. effort-adjacent CKA values that are
 * identical, or a flat matrix) go to the path that skips the deeper attentions, i.e. the
 * mask with an active attention at the first encoder where the two differ. The paper
 * observes that deep attentions are the redundant ones, so this is the informed default.
 */
import { InputError } from '../../errors.js';
import { type CkaMatrix, type Mask, pathScore } from './path-score.js';

export interface ScoredPath {
  active: number[];
  score: number;
}

export interface EffortChoice extends ScoredPath {
  effort: number;
  /** How many paths this effort has: C(D, effort). */
  candidates: number;
  /** True when another path had the same score and the deeper-skip rule decided. */
  tieBroken: boolean;
}

/** All masks of length `depth` with exactly `effort` ones, in a fixed order. */
export function enumeratePaths(depth: number, effort: number): number[][] {
  if (!Number.isInteger(effort) || effort < 0 || effort > depth) throw new InputError('effort', `${effort} is not in 0..${depth}`);
  const out: number[][] = [];
  const mask: number[] = new Array<number>(depth).fill(0);
  const place = (from: number, left: number): void => {
    if (left === 0) {
      out.push([...mask]);
      return;
    }
    for (let e = from; e <= depth - left; e++) {
      mask[e] = 1;
      place(e + 1, left - 1);
      mask[e] = 0;
    }
  };
  place(0, effort);
  return out;
}

/** Negative when `a` skips deeper attentions than `b` (so `a` wins a tie). */
export function deeperSkipFirst(a: Mask, b: Mask): number {
  for (let e = 0; e < a.length; e++) if (a[e] !== b[e]) return (b[e] ?? 0) - (a[e] ?? 0);
  return 0;
}

export function sameScore(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(a), Math.abs(b));
}

/** Scores every path of one effort, best first (ties ordered by the deeper-skip rule). */
export function rankPaths(cka: CkaMatrix, effort: number): ScoredPath[] {
  const depth = cka[0]?.length ?? 0;
  return enumeratePaths(depth, effort)
    .map((active) => ({ active, score: pathScore(active, cka) }))
    .sort((a, b) => (sameScore(a.score, b.score) ? deeperSkipFirst(a.active, b.active) : b.score - a.score));
}

/** The highest-scoring path of every effort 0..D. */
export function selectOptimalPaths(cka: CkaMatrix): EffortChoice[] {
  const depth = cka[0]?.length ?? 0;
  if (depth === 0) throw new InputError('CKA matrix', 'is empty');
  return Array.from({ length: depth + 1 }, (_, effort) => {
    const ranked = rankPaths(cka, effort);
    const best = ranked[0]!;
    const runnerUp = ranked[1];
    return {
      effort,
      active: best.active,
      score: best.score,
      candidates: ranked.length,
      tieBroken: runnerUp !== undefined && sameScore(best.score, runnerUp.score),
    };
  });
}
