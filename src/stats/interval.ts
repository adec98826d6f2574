/** Two-sided confidence intervals for a proportion (k successes in n trials). */
import jstat from 'jstat';

const { jStat } = jstat;

export interface Interval {
  lower: number;
  upper: number;
}

function check(k: number, n: number, level: number): void {
  if (!(Number.isInteger(n) && n > 0)) throw new RangeError(`n must be a positive integer, got ${n}`);
  if (!(Number.isInteger(k) && k >= 0 && k <= n)) throw new RangeError(`k must be an integer in [0, ${n}], got ${k}`);
  if (!(level > 0 && level < 1)) throw new RangeError(`level must be in (0, 1), got ${level}`);
}

/**
 * Clopper-Pearson ("exact") interval: the beta quantiles that invert two one-sided binomial
 * tests. Its coverage is never below `level`, at the price of being a little wide.
 */
export function clopperPearson(k: number, n: number, level = 0.95): Interval {
  check(k, n, level);
  const a = (1 - level) / 2;
  return {
    lower: k === 0 ? 0 : jStat.ibetainv(a, k, n - k + 1),
    upper: k === n ? 1 : jStat.ibetainv(1 - a, k + 1, n - k),
  };
}

/** Wilson score interval: narrower than Clopper-Pearson, coverage close to `level` on average. */
export function wilson(k: number, n: number, level = 0.95): Interval {
  check(k, n, level);
  const z = jStat.normal.inv(1 - (1 - level) / 2, 0, 1);
  const p = k / n;
  const z2n = (z * z) / n;
  const centre = (p + z2n / 2) / (1 + z2n);
  const half = (z / (1 + z2n)) * Math.sqrt((p * (1 - p)) / n + z2n / (4 * n));
  return { lower: Math.max(0, centre - half), upper: Math.min(1, centre + half) };
}

/** "92.19% [88.3, 94.9]" for a proportion and its interval, in percent. */
export function percentWithInterval(value: number, interval: Interval, digits = 2): string {
  return `${(value * 100).toFixed(digits)}% [${(interval.lower * 100).toFixed(1)}, ${(interval.upper * 100).toFixed(1)}]`;
}
