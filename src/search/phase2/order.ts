/**
 * The order Phase 2 tries effort pairs in (paper Section 3.3: "the sampling starts with
 * efforts containing maximum active attentions; in each iteration, a smaller effort
 * combination is sampled"). An effort's size is its number of active attentions (the
 * effort number), a pair's size is low + high, and pairs are tried from the largest size
 * down, so no pair is larger than the one before it. Among pairs of equal size the one
 * with the larger high effort comes first (its escalated inputs get the stronger model).
 * For efforts 0..6: (5,6), (4,6), (3,6), (4,5), (2,6), (3,5), (1,6), (2,5), (3,4), ...
 */
import type { EffortPair } from '../../cascade/index.js';

export function pairOrder(efforts: readonly number[]): EffortPair[] {
  const sorted = [...new Set(efforts)].sort((a, b) => a - b);
  const pairs: EffortPair[] = [];
  for (let i = 0; i < sorted.length; i++) for (let j = i + 1; j < sorted.length; j++) pairs.push({ low: sorted[i]!, high: sorted[j]! });
  return pairs.sort((a, b) => b.low + b.high - (a.low + a.high) || b.high - a.high);
}
