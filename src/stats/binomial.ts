/**
 * Binomial tails and the p-values Learn-then-Test uses to certify that a loss rate is at
 * most `eps`: with k losses observed in n independent images, how likely is a count this
 * small if the true rate were eps? A small p-value rejects "the rate exceeds eps".
 */
import jstat from 'jstat';

const { jStat } = jstat;

function checkCount(k: number, n: number): void {
  if (!(Number.isInteger(n) && n >= 0)) throw new RangeError(`n must be a non-negative integer, got ${n}`);
  if (!(Number.isInteger(k) && k >= 0 && k <= n)) throw new RangeError(`k must be an integer in [0, ${n}], got ${k}`);
}

function checkRate(p: number, name: string): void {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`${name} must be in [0, 1], got ${p}`);
}

/**
 * P(X <= k) for X ~ Binomial(n, p), through the regularized incomplete beta function
 * (P(X <= k) = I_{1-p}(n - k, k + 1)): accurate in the far tails, where summing terms or
 * jStat's own binomial cdf (rounded to 10 decimals) is not.
 */
export function binomialCdf(k: number, n: number, p: number): number {
  checkCount(k, n);
  checkRate(p, 'p');
  if (k === n || p === 0) return 1;
  if (p === 1) return 0;
  return jStat.ibeta(1 - p, n - k, k + 1);
}

/** Exact binomial p-value of "the loss rate exceeds eps" after k losses in n images: P(Binomial(n, eps) <= k). */
export function binomialPValue(k: number, n: number, eps: number): number {
  return binomialCdf(k, n, eps);
}

/** Bernoulli relative entropy KL(a || b), the exponent of Hoeffding's bound. */
function klBernoulli(a: number, b: number): number {
  const term = (x: number, y: number) => (x === 0 ? 0 : x * Math.log(x / y));
  return term(a, b) + term(1 - a, 1 - b);
}

/**
 * Hoeffding-Bentkus p-value (Bates et al., 2021; Angelopoulos et al., 2021): the smaller of
 * Hoeffding's exp(-n KL(min(r, eps) || eps)) and Bentkus' e * P(Binomial(n, eps) <= ceil(n r)),
 * r = k / n. Valid for any loss in [0, 1], so more conservative than the exact binomial
 * p-value on 0/1 losses.
 */
export function hoeffdingBentkusPValue(k: number, n: number, eps: number): number {
  checkCount(k, n);
  checkRate(eps, 'eps');
  if (n === 0) return 1;
  const r = k / n;
  const hoeffding = Math.exp(-n * klBernoulli(Math.min(r, eps), eps));
  const bentkus = Math.E * binomialCdf(Math.ceil(n * r), n, eps);
  return Math.min(1, hoeffding, bentkus);
}

export const P_VALUES = ['binomial', 'hoeffding-bentkus'] as const;
export type PValueMethod = (typeof P_VALUES)[number];

export function pValue(method: PValueMethod, k: number, n: number, eps: number): number {
  return method === 'binomial' ? binomialPValue(k, n, eps) : hoeffdingBentkusPValue(k, n, eps);
}

/**
 * The smallest eps that k losses in n images certify at level alpha (p-value <= alpha):
 * a one-sided upper confidence bound on the loss rate. For the binomial p-value it is the
 * Clopper-Pearson upper bound; it is found by bisection so any p-value method works
 * (every one here falls as eps grows).
 */
export function certifiableRate(method: PValueMethod, k: number, n: number, alpha: number): number {
  checkCount(k, n);
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
  if (k === n) return 1;
  let lo = k / n;
  let hi = 1;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (pValue(method, k, n, mid) <= alpha) hi = mid;
    else lo = mid;
  }
  return hi;
}

/**
 * Calibration images needed to certify a loss rate of at most eps at level alpha when the
 * observed rate is `observed` (0: not a single loss in the calibration set): the smallest n
 * with pValue(floor(observed * n), n, eps) <= alpha. Infinite when observed >= eps.
 * With no loss and the binomial p-value this is ceil(log(alpha) / log(1 - eps)).
 */
export function calibrationSize(eps: number, alpha: number, observed = 0, method: PValueMethod = 'binomial'): number {
  if (!(eps > 0 && eps < 1)) throw new RangeError(`eps must be in (0, 1), got ${eps}`);
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
  if (!(observed >= 0) || observed >= eps) return Infinity;
  const certifies = (n: number) => pValue(method, Math.floor(observed * n), n, eps) <= alpha;
  let hi = 1;
  while (!certifies(hi)) {
    hi *= 2;
    if (hi > 1 << 30) return Infinity;
  }
  // The floor makes certification not quite monotone in n; bisection finds the boundary of the trend.
  let lo = Math.floor(hi / 2);
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (certifies(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}
