import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { predictBatch } from '../../../src/cascade/index.js';
import { ConfigError } from '../../../src/errors.js';
import { seededRandom } from '../../../src/search/phase1/rng.js';
import { operatingPoint, pointAt, sweep, thresholdGrid, type EffortPredictions } from '../../../src/search/phase2/index.js';

const K = 10;

/** Predictions from row-major logits, through the same predict() the Cascade uses. */
function fromLogits(logits: number[]): EffortPredictions {
  const p = predictBatch(logits, K);
  return { classes: Int32Array.from(p, (x) => x.classIndex), entropies: Float64Array.from(p, (x) => x.entropy) };
}

/** A row whose winner is `cls` with margin `margin` over the other (equal) logits. */
const row = (cls: number, margin: number) => Array.from({ length: K }, (_, k) => (k === cls ? margin : 0));

/** N random rows of random sharpness, so the entropies spread over (0, 1). */
function randomLogits(n: number, seed: number): number[] {
  const random = seededRandom(seed);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const scale = random() * 8;
    for (let k = 0; k < K; k++) out.push(random() * scale);
  }
  return out;
}

/** A random pair on n images with labels cycling through the classes. */
function randomPair(n: number, seed: number) {
  return {
    low: fromLogits(randomLogits(n, seed)),
    high: fromLogits(randomLogits(n, seed + 1)),
    labels: Array.from({ length: n }, (_, i) => i % K),
  };
}

describe('threshold grid', () => {
  it('runs 0, step, ..., 1 with decimal values', () => {
    const grid = thresholdGrid(0.01);
    assert.equal(grid.length, 101);
    assert.equal(grid[0], 0);
    assert.equal(grid.at(-1), 1);
    assert.ok(grid.includes(0.3) && grid.includes(0.07), 'k * 0.01 must land on the decimal value');
    assert.deepEqual(thresholdGrid(0.3), [0, 0.3, 0.6, 0.9, 1]);
    assert.deepEqual(thresholdGrid(1), [0, 1]);
  });

  it('refuses steps outside (0, 1]', () => {
    for (const bad of [0, -0.1, 1.5, NaN])
      assert.throws(
        () => thresholdGrid(bad),
        (e: Error) => e instanceof ConfigError && /--step/.test(e.message),
      );
  });
});

describe('operating point of a pair (hand-made logits)', () => {
  it('counts C_L, I_L, C_H, I_H exactly as the routing rule E(x) > Th escalates', () => {
    // Image 0: low confident and right. 1: low confident and wrong. 2: low unsure (uniform), high right. 3: low unsure, high wrong.
    const low = fromLogits([...row(0, 20), ...row(1, 20), ...row(0, 0), ...row(0, 0)]);
    const high = fromLogits([...row(0, 20), ...row(2, 20), ...row(2, 20), ...row(9, 20)]);
    const labels = [0, 2, 2, 3];
    assert.ok(low.entropies[0]! < 1e-6 && low.entropies[2] === 1);
    const p = pointAt(low, high, labels, 0.5);
    assert.deepEqual(
      { cl: p.correct_low, il: p.incorrect_low, ch: p.correct_high, ih: p.incorrect_high, fl: p.fraction_low, acc: p.accuracy },
      { cl: 1, il: 1, ch: 1, ih: 1, fl: 0.5, acc: 0.5 },
    );
    // Th = 1: nothing escalates (E <= 1 always), so the uniform rows are answered (wrongly/rightly) by the low effort's argmax 0.
    const all = pointAt(low, high, labels, 1);
    assert.equal(all.fraction_low, 1);
    assert.equal(all.correct_low, 1);
  });

  it('F_L never decreases with Th, counts add up, accuracy = (C_L + C_H) / images', () => {
    const n = 200;
    const low = fromLogits(randomLogits(n, 1));
    const high = fromLogits(randomLogits(n, 2));
    const random = seededRandom(3);
    const labels = Array.from({ length: n }, () => Math.floor(random() * K));
    const points = sweep(low, high, labels, thresholdGrid(0.01));
    assert.ok(points[0]!.fraction_low < 0.2 && points.at(-1)!.fraction_low === 1, 'the batch should span the grid');
    for (const [i, p] of points.entries()) {
      assert.equal(p.correct_low + p.correct_high + p.incorrect_low + p.incorrect_high, n);
      assert.equal(p.accuracy, (p.correct_low + p.correct_high) / n);
      assert.equal(p.fraction_low, (p.correct_low + p.incorrect_low) / n);
      if (i) assert.ok(p.fraction_low >= points[i - 1]!.fraction_low, `F_L fell at Th ${p.threshold}`);
    }
  });

  it('keeps the smallest Th whose F_L reaches the LEC', () => {
    const { low, high, labels } = randomPair(200, 4);
    const grid = thresholdGrid(0.01);
    for (const lec of [0.1, 0.5, 0.8, 0.95]) {
      const p = operatingPoint(low, high, labels, lec, grid)!;
      assert.ok(p.fraction_low >= lec);
      const i = grid.indexOf(p.threshold);
      assert.ok(i > 0, `LEC ${lec} should need a positive threshold on this batch`);
      assert.ok(pointAt(low, high, labels, grid[i - 1]!).fraction_low < lec, `Th ${grid[i - 1]} already met LEC ${lec}`);
    }
  });

  it('LEC 0 gives Th = 0; LEC 1 the first grid value at or above the largest entropy (F_L = 1)', () => {
    const { low, high, labels } = randomPair(100, 6);
    const grid = thresholdGrid(0.01);
    assert.equal(operatingPoint(low, high, labels, 0, grid)!.threshold, 0);
    const top = operatingPoint(low, high, labels, 1, grid)!;
    assert.equal(top.fraction_low, 1);
    const maxEntropy = Math.max(...low.entropies);
    assert.ok(top.threshold >= maxEntropy && grid[grid.indexOf(top.threshold) - 1]! < maxEntropy);
  });

  it('a NaN entropy always escalates, so LEC 1 is unreachable', () => {
    const low = fromLogits([...row(0, 5), ...row(1, 5).map((v, k) => (k === 3 ? NaN : v))]);
    const high = fromLogits([...row(0, 5), ...row(1, 5)]);
    assert.equal(operatingPoint(low, high, [0, 1], 1, thresholdGrid(0.1)), undefined);
    assert.equal(operatingPoint(low, high, [0, 1], 0.5, thresholdGrid(0.1))!.fraction_low, 0.5);
  });
});
