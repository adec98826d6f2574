/**
 * Path-Score (PIVOT, Algorithm 1).
 *
 * A path is an active-attention mask over encoders 1..D (active[e-1] = 1 when encoder
 * e's attention runs). For every encoder i whose attention is active, plus i = 0 (the
 * patch embedding, so a path that skips attention 1 is scored too), walk forward over
 * the run of skipped attentions j = i+1, i+2, ... and add CKA(MLP_i, A_j): how well the
 * residual stream that enters the skipped run already resembles what each skipped
 * attention would have produced. High scores mark paths that drop redundant attentions.
 *
 * Example from the paper (D = 12, attentions 3, 4, 9, 10 skipped):
 *   S = CKA[2][3] + CKA[2][4] + CKA[8][9] + CKA[8][10].
 */
import { InputError } from '../../errors.js';

/** 0/1 per encoder (length D). */
export type Mask = readonly number[];

/**
 * CKA matrix in the Phase 1 layout: cka[i][j-1] = CKA(MLP_i, A_j), i = 0..D, j = 1..D.
 */
export type CkaMatrix = readonly (readonly number[])[];

export function checkMask(active: Mask, depth: number, name = 'path'): void {
  if (active.length !== depth) throw new InputError(name, `mask has ${active.length} entries for depth ${depth}`);
  if (active.some((a) => a !== 0 && a !== 1)) throw new InputError(name, `mask [${active.join(',')}] must be 0/1 values`);
}

/** Algorithm 1: the Path-Score of `active` under `cka`. */
export function pathScore(active: Mask, cka: CkaMatrix): number {
  const depth = active.length;
  checkMask(active, depth);
  if (cka.length !== depth + 1 || cka.some((row) => row.length !== depth))
    throw new InputError('CKA matrix', `must be ${depth + 1} x ${depth} for depth ${depth}`);
  const isActive = (encoder: number) => active[encoder - 1] === 1;
  let score = 0;
  for (let i = 0; i <= depth; i++) {
    if (i > 0 && !isActive(i)) continue;
    for (let j = i + 1; j <= depth && !isActive(j); j++) score += cka[i]![j - 1]!;
  }
  return score;
}
