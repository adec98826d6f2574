/**
 * Normalized entropy of a prediction (paper Eq. 3):
 *   E(x) = -(1 / log K) * sum_k pi(k|x) log pi(k|x)
 * computed from logits through a log-softmax in float64, so large or very
 * negative logits neither overflow nor produce 0 * log 0 = NaN.
 */

/** What one row of logits says: the winning class, its softmax probability and E(x). */
export interface Prediction {
  classIndex: number;
  probability: number;
  /** In [0, 1]: 1 for a uniform distribution, 0 for a one-hot one. NaN when the logits are not finite. */
  entropy: number;
}

/** Reads row `row` of a row-major [N, K] logits buffer. */
export function predict(logits: ArrayLike<number>, classes: number, row = 0): Prediction {
  const start = row * classes;
  let max = -Infinity;
  let classIndex = 0;
  for (let k = 0; k < classes; k++) {
    const z = logits[start + k]!;
    if (z > max) {
      max = z;
      classIndex = k;
    }
  }
  if (!Number.isFinite(max)) return { classIndex, probability: NaN, entropy: NaN };
  // log-sum-exp shifted by the max: every exponent is <= 0.
  let sum = 0;
  for (let k = 0; k < classes; k++) sum += Math.exp(logits[start + k]! - max);
  const logSum = Math.log(sum);
  let h = 0;
  for (let k = 0; k < classes; k++) {
    const logP = logits[start + k]! - max - logSum;
    const p = Math.exp(logP);
    if (p > 0) h -= p * logP;
  }
  // Rounding can leave a uniform row a hair above 1; Eq. 3 is bounded by [0, 1].
  const entropy = Math.min(1, Math.max(0, h / Math.log(classes)));
  return { classIndex, probability: Math.exp(-logSum), entropy };
}

/** Eq. 3 for a single vector of logits. */
export function normalizedEntropy(logits: ArrayLike<number>): number {
  return predict(logits, logits.length).entropy;
}

/** Predictions for every row of a row-major [N, K] logits buffer. */
export function predictBatch(logits: ArrayLike<number>, classes: number): Prediction[] {
  const rows = Math.floor(logits.length / classes);
  return Array.from({ length: rows }, (_, row) => predict(logits, classes, row));
}
