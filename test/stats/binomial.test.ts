/** Binomial tails and p-values against values worked out by hand from the binomial formula. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  binomialCdf,
  binomialPValue,
  calibrationSize,
  certifiableRate,
  clopperPearson,
  hoeffdingBentkusPValue,
} from '../../src/stats/index.js';

const close = (actual: number, expected: number, rel = 1e-9) =>
  assert.ok(Math.abs(actual - expected) <= rel * Math.max(1e-300, Math.abs(expected)), `${actual} != ${expected}`);

describe('binomial tails', () => {
  it('match the binomial formula summed by hand', () => {
    // P(Bin(5, 0.2) <= 1) = 0.8^5 + 5 x 0.2 x 0.8^4 = 0.32768 + 0.4096
    close(binomialCdf(1, 5, 0.2), 0.73728);
    // P(Bin(10, 0.1) <= 0) = 0.9^10
    close(binomialCdf(0, 10, 0.1), 0.3486784401);
    // 0.95^20 + 20 x 0.05 x 0.95^19 + 190 x 0.05^2 x 0.95^18
    close(binomialCdf(2, 20, 0.05), 0.9245163262115028);
    // A far tail: 0.99^1000 and its neighbours, where a rounded cdf would read 0.
    close(binomialCdf(0, 1000, 0.01), 0.99 ** 1000);
    close(binomialCdf(3, 1000, 0.01), 0.010072654772014291, 1e-7);
  });

  it('handle the edges', () => {
    assert.equal(binomialCdf(5, 5, 0.3), 1);
    assert.equal(binomialCdf(0, 5, 0), 1);
    assert.equal(binomialCdf(2, 5, 1), 0);
    assert.equal(binomialCdf(0, 0, 0.5), 1);
    assert.throws(() => binomialCdf(6, 5, 0.5), RangeError);
    assert.throws(() => binomialCdf(1.5, 5, 0.5), RangeError);
    assert.throws(() => binomialCdf(1, 5, 1.5), RangeError);
  });

  it('exact p-value is the lower tail at eps', () => {
    close(binomialPValue(1, 5, 0.2), 0.73728);
    close(binomialPValue(0, 300, 0.01), 0.99 ** 300);
  });

  it('Hoeffding-Bentkus p-value is the smaller of the two bounds, and never below the exact one', () => {
    // k = 0, n = 100, eps = 0.05: Hoeffding exp(100 ln 0.95) = 0.95^100; Bentkus e x 0.95^100.
    close(hoeffdingBentkusPValue(0, 100, 0.05), 0.95 ** 100);
    // k = 2: Hoeffding exp(-100 KL(0.02 || 0.05)) = 0.29692; Bentkus e x P(Bin(100, 0.05) <= 2) = 0.32147.
    close(hoeffdingBentkusPValue(2, 100, 0.05), 0.2969189511670025, 1e-9);
    // At or above eps neither bound says anything.
    assert.equal(hoeffdingBentkusPValue(7, 100, 0.05), 1);
    // (At k = 0 Hoeffding equals the exact tail, (1 - eps)^n, up to rounding.)
    for (const k of [0, 1, 3, 5, 10]) assert.ok(hoeffdingBentkusPValue(k, 200, 0.05) >= binomialPValue(k, 200, 0.05) * (1 - 1e-9));
  });
});

describe('certifiable rate and calibration size', () => {
  it('the binomial certifiable rate is the one-sided Clopper-Pearson upper bound', () => {
    // One-sided at alpha = two-sided at level 1 - 2 alpha.
    for (const [k, n] of [
      [0, 100],
      [3, 250],
      [40, 1000],
    ] as const) {
      const rate = certifiableRate('binomial', k, n, 0.025);
      close(rate, clopperPearson(k, n, 0.95).upper, 1e-6);
      close(binomialPValue(k, n, rate), 0.025, 1e-6);
    }
  });

  it('with no loss observed, n = ceil(log(alpha) / log(1 - eps))', () => {
    assert.equal(calibrationSize(0.01, 0.1), Math.ceil(Math.log(0.1) / Math.log(0.99)));
    assert.equal(calibrationSize(0.01, 0.1), 230);
    assert.equal(calibrationSize(0.05, 0.05), 59);
  });

  it('needs more images when losses are observed, infinitely many at a rate of eps', () => {
    const n = calibrationSize(0.02, 0.05, 0.01);
    assert.ok(n > calibrationSize(0.02, 0.05, 0));
    assert.ok(binomialPValue(Math.floor(0.01 * n), n, 0.02) <= 0.05);
    assert.ok(binomialPValue(Math.floor(0.01 * (n - 1)), n - 1, 0.02) > 0.05);
    assert.ok(calibrationSize(0.02, 0.05, 0.01, 'hoeffding-bentkus') > n);
    assert.equal(calibrationSize(0.02, 0.05, 0.02), Infinity);
  });
});
