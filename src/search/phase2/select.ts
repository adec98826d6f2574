/**
 * Picking the pair (paper Section 3.3): pairs are tried in pairOrder; each gets its
 * operating point (smallest Th with F_L >= LEC) and its delay D = D_L + F_H * D_H
 * (PIVOT-Sim's pairAverage); the first whose delay is at most target * (1 + tolerance) wins.
 * With LEC `auto` the delay target sets each pair's threshold instead: the smallest Th whose
 * delay meets the target, i.e. as many escalations as the target pays for.
 */
import { ConfigError } from '../../errors.js';
import { pairAverage } from '../../sim/index.js';
import type { EffortDelays } from './cost.js';
import type { EffortPair } from '../../cascade/index.js';
import { firstPoint, operatingPoint, type EffortPredictions, type OperatingPoint } from './sweep.js';

/** A fraction F_L >= LEC every pair must reach, or `auto`: the F_L each pair needs to meet the delay target. */
export type Lec = number | 'auto';

export interface PairTrial extends EffortPair {
  /** Undefined when no grid threshold reaches the LEC (with LEC auto: when D_L alone misses the target). */
  point?: OperatingPoint;
  delay_low_ms: number;
  delay_high_ms: number;
  /** D = D_L + F_H * D_H at the operating point. */
  delay_ms?: number;
  meets: boolean;
}

export interface DelayTarget {
  ms: number;
  /** How the user gave it: an absolute delay or a fraction of the full effort's delay. */
  given: { delay_ms: number } | { delay_ratio: number; full_effort: number; full_delay_ms: number };
  tolerance: number;
}

export interface Selection {
  tried: PairTrial[];
  chosen?: PairTrial;
  /** With no winner: the tried pair with the smallest delay. */
  closest?: PairTrial;
}

export interface TargetOptions {
  delay?: number;
  delayRatio?: number;
  tolerance: number;
}

/** --delay or --delay-ratio (exactly one) and --tolerance; needs no delays, so runSearch calls it before any work. */
export function checkTarget(opts: TargetOptions): void {
  if ((opts.delay === undefined) === (opts.delayRatio === undefined))
    throw new ConfigError('give one of --delay <ms> or --delay-ratio <r>');
  if (!(opts.tolerance >= 0 && Number.isFinite(opts.tolerance)))
    throw new ConfigError(`--tolerance: ${opts.tolerance} is not a non-negative number`);
  if (opts.delay !== undefined && !(opts.delay > 0 && Number.isFinite(opts.delay)))
    throw new ConfigError(`--delay: ${opts.delay} is not a positive number of milliseconds`);
  if (opts.delayRatio !== undefined && !(opts.delayRatio > 0 && Number.isFinite(opts.delayRatio)))
    throw new ConfigError(`--delay-ratio: ${opts.delayRatio} is not a positive number`);
}

/** The checked target in milliseconds; the full effort is the largest one, run alone. */
export function resolveTarget(opts: TargetOptions, delays: EffortDelays): DelayTarget {
  checkTarget(opts);
  if (opts.delay !== undefined) return { ms: opts.delay, given: { delay_ms: opts.delay }, tolerance: opts.tolerance };
  const ratio = opts.delayRatio!;
  const full = Math.max(...delays.byEffort.keys());
  const fullMs = delays.byEffort.get(full)!.asHigh;
  return { ms: ratio * fullMs, given: { delay_ratio: ratio, full_effort: full, full_delay_ms: fullMs }, tolerance: opts.tolerance };
}

export const meetsTarget = (delayMs: number, target: DelayTarget): boolean => delayMs <= target.ms * (1 + target.tolerance);

/**
 * How the winner is picked among pairs that meet the target: `first` in pair order (the paper:
 * later pairs are smaller, so usually less accurate), or the most `accurate` on the batch
 * (every pair is tried; ties go to the earlier pair).
 */
export const PICKS = ['first', 'accurate'] as const;
export type Pick = (typeof PICKS)[number];

/** Tries pairs in order until one meets the target (pick 'first'), or all of them (pick 'accurate'). */
export function selectPair(
  order: readonly EffortPair[],
  predictions: ReadonlyMap<number, EffortPredictions>,
  labels: ArrayLike<number>,
  delays: EffortDelays,
  lec: Lec,
  grid: readonly number[],
  target: DelayTarget,
  pick: Pick = 'first',
): Selection {
  const tried: PairTrial[] = [];
  let chosen: PairTrial | undefined;
  for (const { low, high } of order) {
    const lowDelay = delays.byEffort.get(low)!.asLow;
    const highDelay = delays.byEffort.get(high)!.asHigh;
    const [lowPredictions, highPredictions] = [predictions.get(low)!, predictions.get(high)!];
    const point =
      lec === 'auto'
        ? firstPoint(lowPredictions, highPredictions, labels, grid, (p) =>
            meetsTarget(pairAverage(lowDelay, highDelay, p.fraction_low), target),
          )
        : operatingPoint(lowPredictions, highPredictions, labels, lec, grid);
    const delay = point ? pairAverage(lowDelay, highDelay, point.fraction_low) : undefined;
    const trial: PairTrial = {
      low,
      high,
      point,
      delay_low_ms: lowDelay,
      delay_high_ms: highDelay,
      delay_ms: delay,
      meets: delay !== undefined && meetsTarget(delay, target),
    };
    tried.push(trial);
    if (!trial.meets) continue;
    if (pick === 'first') return { tried, chosen: trial };
    if (!chosen || trial.point!.accuracy > chosen.point!.accuracy) chosen = trial;
  }
  if (chosen) return { tried, chosen };
  const timed = tried.filter((t) => t.delay_ms !== undefined);
  const closest = timed.reduce<PairTrial | undefined>((best, t) => (!best || t.delay_ms! < best.delay_ms! ? t : best), undefined);
  return { tried, closest };
}
