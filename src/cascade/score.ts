/**
 * Routing scores: how unsure the low effort is about one input, in [0, 1] (0 sure, larger
 * less sure); the cascade escalates when the score exceeds the threshold. The paper's is
 * Eq. 3's normalized entropy; the maximum softmax probability and the top-2 margin are the
 * usual alternatives, written here as uncertainties so every threshold means "escalate above":
 *   entropy:  E(x)
 *   max_prob: 1 - p_1
 *   margin:   1 - (p_1 - p_2)
 * with p_1 >= p_2 the two largest softmax probabilities.
 */
import type { Prediction } from './entropy.js';

export const ROUTING_SCORES = ['entropy', 'max_prob', 'margin'] as const;
export type RoutingScore = (typeof ROUTING_SCORES)[number];

/** The score of row `row` of a row-major [N, K] logits buffer, from its prediction (NaN when the logits are not finite). */
export function routingScore(score: RoutingScore, prediction: Prediction, logits: ArrayLike<number>, classes: number, row: number): number {
  if (score === 'entropy') return prediction.entropy;
  // prediction.probability is p_1 = 1 / sum_k exp(z_k - z_max); NaN for non-finite logits.
  if (score === 'max_prob') return 1 - prediction.probability;
  const start = row * classes;
  const top = logits[start + prediction.classIndex]!;
  let second = -Infinity;
  for (let k = 0; k < classes; k++) if (k !== prediction.classIndex && logits[start + k]! > second) second = logits[start + k]!;
  // p_2 = exp(z_2 - z_max) * p_1.
  const p2 = classes > 1 ? Math.exp(second - top) * prediction.probability : 0;
  return 1 - (prediction.probability - p2);
}
