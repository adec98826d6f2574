/**
 * Learn-then-Test (Angelopoulos, Bates, Candès, Jordan, Lei, 2021) with fixed-sequence
 * testing. Each threshold λ of a grid carries the null hypothesis "the expected loss at λ
 * exceeds eps". The hypotheses are ordered from the safest threshold to the most aggressive
 * and tested one after the other at the full level alpha; testing stops at the first
 * hypothesis that is not rejected, and every threshold rejected before it is certified.
 * The chance that any certified threshold has an expected loss above eps is then at most
 * alpha (family-wise error), whatever the order, as long as it is fixed before the data.
 */

interface ThresholdTest {
  /** Position in the tested sequence. */
  index: number;
  threshold: number;
  /** Calibration images with a loss at this threshold. */
  losses: number;
  p_value: number;
  rejected: boolean;
}

export interface FixedSequenceResult {
  /** The tests run, in order: every rejection and the first failure (if any). */
  tests: ThresholdTest[];
  /** The last rejected (most aggressive certified) threshold; undefined when the first test fails. */
  certified?: ThresholdTest;
}

/**
 * Runs the fixed sequence over `thresholds` (safest first). `lossesAt(i)` and `pValueOf(k)`
 * are only called for thresholds actually tested, so nothing after the first failure is looked at.
 */
export function fixedSequence(
  thresholds: readonly number[],
  lossesAt: (index: number) => number,
  pValueOf: (losses: number) => number,
  alpha: number,
): FixedSequenceResult {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
  const tests: ThresholdTest[] = [];
  for (let index = 0; index < thresholds.length; index++) {
    const losses = lossesAt(index);
    const p = pValueOf(losses);
    const rejected = p <= alpha;
    tests.push({ index, threshold: thresholds[index]!, losses, p_value: p, rejected });
    if (!rejected) break;
  }
  const last = tests.at(-1);
  const certified = last?.rejected ? last : tests.at(-2);
  return certified ? { tests, certified } : { tests };
}
