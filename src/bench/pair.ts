/**
 * The deployed low/high pair's per-image delay, D_L + F_H * D_H (= F_L*D_L + F_H*(D_L + D_H)),
 * with F_L measured by running the cascade on a labelled set: once from the measured per-effort
 * latencies and once from PIVOT-Sim (whose low pass also pays Eq. 3's entropy).
 */
import { ConfigError } from '../errors.js';
import { pairAverage, pairResult, type EffortCost } from '../sim/index.js';
import type { EffortsComparison } from './compare.js';

export interface PairSide {
  low_ms: number;
  high_ms: number;
  /** D_L + F_H * D_H, ms per image. */
  pair_ms: number;
  /** pair_ms / the full effort's ms: the pair's cost relative to always running the full model. */
  ratio: number;
}

export interface PairComparison {
  low: number;
  high: number;
  threshold: number;
  /** The labelled set F_L was measured on, and how many of its images were classified. */
  data: string;
  images: number;
  f_l: number;
  f_h: number;
  measured: PairSide;
  simulated: PairSide;
  /** measured.ratio / simulated.ratio. */
  ratio_of_ratios: number;
  /** simulated.pair_ms / measured.pair_ms - 1 (meaningful with a device profile). */
  error: number;
}

export interface PairChoice {
  low: number;
  high: number;
  threshold: number;
  f_l: number;
  data: string;
  images: number;
}

export function comparePair(efforts: EffortsComparison, costs: readonly EffortCost[], choice: PairChoice): PairComparison {
  const { low, high, f_l: fl } = choice;
  const row = (e: number) => {
    const r = efforts.rows.find((x) => x.effort === e);
    if (!r) throw new ConfigError(`effort ${e} of the deployed pair was not measured`);
    return r;
  };
  const cost = (e: number) => {
    const c = costs.find((x) => x.effort === e);
    if (!c) throw new ConfigError(`effort ${e} of the deployed pair has no PIVOT-Sim estimate`);
    return c;
  };
  const lowRow = row(low);
  const highRow = row(high);
  const full = row(efforts.full_effort);
  const measuredPair = pairAverage(lowRow.measured_ms, highRow.measured_ms, fl);
  const simPair = pairResult(cost(low).asLow, cost(high).asHigh, fl);
  const measured: PairSide = {
    low_ms: lowRow.measured_ms,
    high_ms: highRow.measured_ms,
    pair_ms: measuredPair,
    ratio: measuredPair / full.measured_ms,
  };
  const simulated: PairSide = {
    low_ms: simPair.low.delayMs,
    high_ms: simPair.high.delayMs,
    pair_ms: simPair.delayMs,
    ratio: simPair.delayMs / full.simulated_ms,
  };
  return {
    ...choice,
    f_h: 1 - fl,
    measured,
    simulated,
    ratio_of_ratios: measured.ratio / simulated.ratio,
    error: simPair.delayMs / measuredPair - 1,
  };
}
