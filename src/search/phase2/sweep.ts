/**
 * Phase 2's threshold sweep (paper Section 3.3, Fig. 2c) as pure arithmetic on stored
 * predictions: for a (low, high) pair and a threshold Th, the low effort answers every
 * input with E(x) <= Th and the high effort the rest, exactly as the Cascade routes them
 * (same shouldEscalate), so no threshold or pair needs another inference.
 */
import { shouldEscalate } from '../../cascade/policy.js';
import type { RoutingScore } from '../../cascade/score.js';
import { ConfigError } from '../../errors.js';

/** One effort's answer for every batch image: predicted class and Eq. 3 entropy. */
export interface EffortPredictions {
  classes: Int32Array;
  entropies: Float64Array;
  /** The other routing scores (see cascade/score.ts), when computed (`pivot search --compare-scores`). */
  scores?: Partial<Record<RoutingScore, Float64Array>>;
}

/** A pair at one threshold, in the paper's terms (Fig. 2a). */
export interface OperatingPoint {
  threshold: number;
  images: number;
  correct_low: number;
  correct_high: number;
  incorrect_low: number;
  incorrect_high: number;
  /** F_L: fraction answered by the low effort (F_H = 1 - F_L). */
  fraction_low: number;
  /** (C_L + C_H) / images. */
  accuracy: number;
}

/**
 * Th = 0, step, 2*step, ..., 1 (the last one clamped to 1). Each value is k*step rounded
 * to 12 decimals, so 0.3 is written and compared as 0.3, not 0.30000000000000004.
 */
export function thresholdGrid(step: number): number[] {
  if (!(Number.isFinite(step) && step > 0 && step <= 1)) throw new ConfigError(`--step: ${step} is not a number in (0, 1]`);
  const last = Math.ceil(1 / step - 1e-9);
  return Array.from({ length: last + 1 }, (_, k) => Math.min(1, Number((k * step).toFixed(12))));
}

/** C_L, C_H, I_L, I_H, F_L and accuracy of the pair at `threshold`. */
export function pointAt(low: EffortPredictions, high: EffortPredictions, labels: ArrayLike<number>, threshold: number): OperatingPoint {
  const images = labels.length;
  let correctLow = 0;
  let correctHigh = 0;
  let answeredLow = 0;
  for (let i = 0; i < images; i++) {
    if (shouldEscalate(low.entropies[i]!, threshold)) {
      if (high.classes[i] === labels[i]) correctHigh++;
    } else {
      answeredLow++;
      if (low.classes[i] === labels[i]) correctLow++;
    }
  }
  return {
    threshold,
    images,
    correct_low: correctLow,
    correct_high: correctHigh,
    incorrect_low: answeredLow - correctLow,
    incorrect_high: images - answeredLow - correctHigh,
    fraction_low: images ? answeredLow / images : NaN,
    accuracy: images ? (correctLow + correctHigh) / images : NaN,
  };
}

/** Every grid threshold of a pair (F_L never decreases along it: a larger Th escalates a subset). */
export function sweep(
  low: EffortPredictions,
  high: EffortPredictions,
  labels: ArrayLike<number>,
  grid: readonly number[],
): OperatingPoint[] {
  return grid.map((th) => pointAt(low, high, labels, th));
}

/**
 * The pair's operating point: thresholds are raised from 0 until F_L >= LEC, and that first
 * (smallest) Th is kept, since every larger one answers more inputs with the weaker effort.
 * LEC 0 therefore gives Th = 0 (every input with any uncertainty escalates); LEC 1 gives the
 * smallest grid value at or above the batch's largest entropy (nothing escalates).
 * Undefined when no threshold reaches the LEC (only possible with NaN entropies, which always escalate).
 */
export function operatingPoint(
  low: EffortPredictions,
  high: EffortPredictions,
  labels: ArrayLike<number>,
  lec: number,
  grid: readonly number[],
): OperatingPoint | undefined {
  return firstPoint(low, high, labels, grid, (point) => point.fraction_low >= lec);
}

/** The smallest grid threshold whose point `accept`s (F_L never decreases along the grid); undefined when none does. */
export function firstPoint(
  low: EffortPredictions,
  high: EffortPredictions,
  labels: ArrayLike<number>,
  grid: readonly number[],
  accept: (point: OperatingPoint) => boolean,
): OperatingPoint | undefined {
  for (const th of grid) {
    const point = pointAt(low, high, labels, th);
    if (accept(point)) return point;
  }
  return undefined;
}
