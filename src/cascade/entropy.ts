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
  let finite = true;
  for (let k = 0; k < classes; k++) {
    const z = logits[start + k]!;
    if (!Number.isFinite(z)) finite = false;
    if (z > max) {
      max = z;
      classIndex = k;
    }
  }
  if (!finite) return { classIndex, probability: NaN, entropy: NaN };
  // With d_k = z_k - max <= 0 and S = sum exp(d_k): log p_k = d_k - log S, so
  // H = -sum p_k log p_k = log S - sum p_k d_k: two non-negative terms, no cancellation,
  // and exactly log K (E = 1) for a uniform row.
  let sum = 0;
  for (let k = 0; k < classes; k++) sum += Math.exp(logits[start + k]! - max);
  let weighted = 0;
  for (let k = 0; k < classes; k++) {
    const d = logits[start + k]! - max;
    weighted -= (Math.exp(d) / sum) * d;
  }
  const h = Math.log(sum) + weighted;
  // Rounding can leave a row a hair outside [0, 1], the range Eq. 3 guarantees.
  const entropy = Math.min(1, Math.max(0, h / Math.log(classes)));
  return { classIndex, probability: 1 / sum, entropy };
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
