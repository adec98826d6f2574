import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalizedEntropy, predict, predictBatch } from '../../src/cascade/entropy.js';
import { escalations, firstEffort, shouldEscalate } from '../../src/cascade/policy.js';

/** Eq. 3 written out directly (fine for moderate logits): -(1/log K) sum p log p. */
function naive(logits: number[]): number {
  const exps = logits.map(Math.exp);
  const z = exps.reduce((a, b) => a + b, 0);
  return -exps.map((e) => e / z).reduce((h, p) => h + (p > 0 ? p * Math.log(p) : 0), 0) / Math.log(logits.length);
}

describe('normalized entropy (Eq. 3)', () => {
  it('is 1 for uniform logits, whatever their value and K', () => {
    for (const k of [2, 3, 10, 1000]) for (const v of [0, -7.5, 42]) assert.equal(normalizedEntropy(new Array(k).fill(v)), 1);
  });

  it('is 0 for a one-hot distribution', () => {
    assert.equal(normalizedEntropy([0, 0, 1e4, 0, 0, 0, 0, 0, 0, 0]), 0);
    assert.ok(normalizedEntropy([0, 0, 50, 0]) < 1e-18);
  });

  it('matches worked values', () => {
    // p = (1/4, 3/4): H = -(1/4 ln 1/4 + 3/4 ln 3/4) / ln 2
    const expected = -(0.25 * Math.log(0.25) + 0.75 * Math.log(0.75)) / Math.log(2);
    assert.ok(Math.abs(normalizedEntropy([0, Math.log(3)]) - expected) < 1e-15);
    // two equal winners among four, the rest impossible: log 2 / log 4 = 0.5
    assert.ok(Math.abs(normalizedEntropy([5, 5, -1e5, -1e5]) - 0.5) < 1e-15);
  });

  it('agrees with the textbook formula on random logits and is shift invariant', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 12 - 6;
    for (let trial = 0; trial < 200; trial++) {
      const logits = Array.from({ length: 10 }, rand);
      const e = normalizedEntropy(logits);
      assert.ok(Math.abs(e - naive(logits)) < 1e-12, `trial ${trial}`);
      assert.ok(Math.abs(e - normalizedEntropy(logits.map((z) => z + 1000))) < 1e-12);
      assert.ok(e > 0 && e < 1);
    }
  });

  it('stays finite for logits that overflow a naive softmax', () => {
    const e = normalizedEntropy([1000, 999, -1000]);
    assert.ok(Number.isFinite(e) && e > 0 && e < 1);
    assert.ok(Math.abs(e - naive([1, 0, -1999])) < 1e-12);
  });

  it('reports the winning class and its softmax probability per row of a float32 batch', () => {
    const logits = Float32Array.from([0, Math.log(3), 0, 0, 2, 2]);
    const [a, b] = predictBatch(logits, 3);
    assert.equal(a!.classIndex, 1);
    assert.ok(Math.abs(a!.probability - 3 / 5) < 1e-6);
    assert.equal(b!.classIndex, 1); // ties go to the first maximum
    assert.ok(Math.abs(b!.probability - Math.exp(2) / (1 + 2 * Math.exp(2))) < 1e-6);
    assert.deepEqual(predict(logits, 3, 1), b);
  });

  it('gives NaN for non-finite logits rather than a confident answer', () => {
    assert.ok(Number.isNaN(normalizedEntropy([NaN, 1, 2])));
    assert.ok(Number.isNaN(normalizedEntropy([Infinity, 1, 2])));
  });
});

describe('routing policy', () => {
  it('escalates E(x) > Th only, and anything not a number', () => {
    assert.equal(shouldEscalate(0.31, 0.3), true);
    assert.equal(shouldEscalate(0.3, 0.3), false);
    assert.equal(shouldEscalate(0.29, 0.3), false);
    assert.equal(shouldEscalate(NaN, 1), true);
  });

  it('threshold 0 escalates every uncertain input, threshold 1 none', () => {
    const entropies = [0.01, 0.5, 0.99, 1];
    assert.deepEqual(escalations('cascade', entropies, 0), [0, 1, 2, 3]);
    assert.deepEqual(escalations('cascade', entropies, 1), []);
    assert.deepEqual(escalations('cascade', entropies, 0.5), [2, 3]);
  });

  it('single-effort policies never escalate and pick their effort', () => {
    assert.deepEqual(escalations('low', [1, 1], 0), []);
    assert.deepEqual(escalations('high', [1, 1], 0), []);
    assert.equal(firstEffort('cascade', { low: 2, high: 6 }), 2);
    assert.equal(firstEffort('low', { low: 2, high: 6 }), 2);
    assert.equal(firstEffort('high', { low: 2, high: 6 }), 6);
  });
});
