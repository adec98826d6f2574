/** Intervals: exact coverage of a known proportion, summed over every possible count. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { auroc, binomialCdf, clopperPearson, wilson, type Interval } from '../../src/stats/index.js';

/** P(interval covers p) when k ~ Binomial(n, p), summed exactly over k. */
function coverage(method: (k: number, n: number) => Interval, n: number, p: number): number {
  let covered = 0;
  for (let k = 0; k <= n; k++) {
    const mass = binomialCdf(k, n, p) - (k ? binomialCdf(k - 1, n, p) : 0);
    const { lower, upper } = method(k, n);
    if (lower <= p && p <= upper) covered += mass;
  }
  return covered;
}

describe('confidence intervals', () => {
  it('Clopper-Pearson covers a known proportion at least 95% of the time', () => {
    for (const n of [20, 100, 500])
      for (const p of [0.02, 0.1, 0.5, 0.9]) assert.ok(coverage(clopperPearson, n, p) >= 0.95, `n ${n} p ${p}`);
  });

  it('Wilson covers about 95% of the time', () => {
    const all: number[] = [];
    for (const n of [50, 200, 1000]) for (const p of [0.05, 0.2, 0.5, 0.8, 0.95]) all.push(coverage(wilson, n, p));
    const mean = all.reduce((a, b) => a + b, 0) / all.length;
    assert.ok(Math.abs(mean - 0.95) < 0.01, `mean coverage ${mean}`);
    assert.ok(Math.min(...all) > 0.92);
  });

  it('contain the estimate, stay in [0, 1] and shrink with n', () => {
    for (const f of [clopperPearson, wilson]) {
      const small = f(18, 20);
      const large = f(1800, 2000);
      assert.ok(small.lower < 0.9 && 0.9 < small.upper);
      assert.ok(large.upper - large.lower < small.upper - small.lower);
      assert.equal(f(0, 10).lower, 0);
      assert.equal(f(10, 10).upper, 1);
    }
    // Clopper-Pearson at k = 0: upper = 1 - (alpha / 2)^(1 / n).
    assert.ok(Math.abs(clopperPearson(0, 10).upper - (1 - 0.025 ** (1 / 10))) < 1e-9);
    assert.throws(() => wilson(3, 0), RangeError);
  });
});

describe('auroc', () => {
  it('counts the pairs a score orders correctly, ties as half', () => {
    // positives 0.35 and 0.8 against negatives 0.1 and 0.4: 3 of 4 pairs ordered.
    assert.equal(auroc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]), 0.75);
    assert.equal(auroc([1, 2, 3, 4], [0, 0, 1, 1]), 1);
    assert.equal(auroc([4, 3, 2, 1], [0, 0, 1, 1]), 0);
    assert.equal(auroc([1, 1, 1, 1], [0, 1, 0, 1]), 0.5);
    // positive 0.5 ties negative 0.5 (half) and beats 0.2: 1.5 of 2.
    assert.equal(auroc([0.2, 0.5, 0.5], [false, false, true]), 0.75);
    // NaN ranks as the most uncertain.
    assert.equal(auroc([NaN, 0.1, 0.2], [1, 0, 0]), 1);
    assert.ok(Number.isNaN(auroc([1, 2], [0, 0])));
  });
});
