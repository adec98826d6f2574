import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pathScore } from '../../src/search/phase1/path-score.js';
import { seededRandom } from '../../src/search/phase1/rng.js';

/** A (D+1) x D matrix of distinct random values, so each sum identifies its terms. */
function randomCka(depth: number, seed: number): number[][] {
  const random = seededRandom(seed);
  return Array.from({ length: depth + 1 }, () => Array.from({ length: depth }, () => random()));
}

/** cka[i][j-1] = CKA(MLP_i, A_j). */
const at = (cka: number[][], i: number, j: number) => cka[i]![j - 1]!;
const maskSkipping = (depth: number, skipped: number[]) => Array.from({ length: depth }, (_, e) => (skipped.includes(e + 1) ? 0 : 1));

describe('Path-Score (Algorithm 1)', () => {
  it("reproduces the paper's worked example: depth 12, attentions 3, 4, 9, 10 skipped", () => {
    const cka = randomCka(12, 3);
    const expected = at(cka, 2, 3) + at(cka, 2, 4) + at(cka, 8, 9) + at(cka, 8, 10);
    assert.ok(Math.abs(pathScore(maskSkipping(12, [3, 4, 9, 10]), cka) - expected) < 1e-15);
  });

  it('scores the full model 0 and lets MLP_0 start a skipped run at attention 1', () => {
    const cka = randomCka(6, 5);
    assert.equal(pathScore([1, 1, 1, 1, 1, 1], cka), 0);
    assert.ok(Math.abs(pathScore([0, 0, 1, 1, 1, 0], cka) - (at(cka, 0, 1) + at(cka, 0, 2) + at(cka, 5, 6))) < 1e-15);
    const allSkipped = [1, 2, 3, 4, 5, 6].reduce((s, j) => s + at(cka, 0, j), 0);
    assert.ok(Math.abs(pathScore([0, 0, 0, 0, 0, 0], cka) - allSkipped) < 1e-15);
  });

  it('refuses a mask of the wrong length or with values other than 0/1', () => {
    const cka = randomCka(4, 1);
    assert.throws(() => pathScore([1, 0, 1], cka), /depth 4|4 x 3/);
    assert.throws(() => pathScore([1, 0, 2, 1], cka), /0\/1/);
  });
});
