/**
 * Routing decisions of the cascade (paper Section 3.1), as pure functions: every input
 * goes through the low effort; those with E(x) > Th are re-run on the high effort.
 */

export const POLICIES = ['cascade', 'low', 'high'] as const;
/** cascade: low effort, escalate uncertain inputs; low/high: a single effort for everything. */
export type Policy = (typeof POLICIES)[number];

export interface EffortPair {
  low: number;
  high: number;
}

/**
 * E(x) > Th escalates. Written as !(E <= Th) so that an entropy of NaN (non-finite
 * logits from the low effort) also escalates rather than being trusted.
 */
export function shouldEscalate(entropy: number, threshold: number): boolean {
  return !(entropy <= threshold);
}

/** The effort every input runs first under `policy`. */
export function firstEffort(policy: Policy, pair: EffortPair): number {
  return policy === 'high' ? pair.high : pair.low;
}

/** Positions (within the batch) of the inputs the high effort must re-run. */
export function escalations(policy: Policy, entropies: ArrayLike<number>, threshold: number): number[] {
  const picked: number[] = [];
  if (policy !== 'cascade') return picked;
  for (let i = 0; i < entropies.length; i++) if (shouldEscalate(entropies[i]!, threshold)) picked.push(i);
  return picked;
}
