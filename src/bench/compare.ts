/**
 * Measured device latency next to PIVOT-Sim's estimate, per effort. Absolute numbers differ
 * by design (a CPU is not a ZCU102), so the comparison is on ratios to the full effort and on
 * rank order (Spearman) and linearity (Pearson) over the efforts.
 */
import { sampleCorrelation, sampleRankCorrelation } from 'simple-statistics';
import { ConfigError } from '../errors.js';
import type { EffortCost } from '../sim/index.js';
import type { EffortTiming } from '../latency/index.js';

export interface EffortComparison {
  effort: number;
  active: number[];
  measured_ms: number;
  measured_p95_ms: number;
  /** measured_ms / measured_ms of the full effort. */
  measured_ratio: number;
  /** PIVOT-Sim delay of the effort alone (no entropy), ms per image. */
  simulated_ms: number;
  simulated_ratio: number;
  /** measured_ratio / simulated_ratio: 1 when the simulator predicts the device's relative cost exactly. */
  ratio_of_ratios: number;
  /** simulated_ms / measured_ms - 1: the prediction error, meaningful when the hardware is this device's profile. */
  error: number;
}

export interface Correlation {
  /** Over the efforts' measured and simulated ms; null with fewer than 3 efforts or a constant column. */
  spearman: number | null;
  pearson: number | null;
}

export interface EffortsComparison {
  /** The effort with every attention active (the largest effort number). */
  full_effort: number;
  rows: EffortComparison[];
  correlation: Correlation;
}

const finiteOrNull = (v: number): number | null => (Number.isFinite(v) ? v : null);

export function correlate(measured: number[], simulated: number[]): Correlation {
  if (measured.length < 3) return { spearman: null, pearson: null };
  return {
    spearman: finiteOrNull(sampleRankCorrelation(measured, simulated)),
    pearson: finiteOrNull(sampleCorrelation(measured, simulated)),
  };
}

export function compareEfforts(timings: readonly EffortTiming[], costs: readonly EffortCost[]): EffortsComparison {
  if (!timings.length) throw new ConfigError('no efforts were measured');
  const full_effort = Math.max(...timings.map((t) => t.effort));
  const costOf = (effort: number): EffortCost => {
    const cost = costs.find((c) => c.effort === effort);
    if (!cost) throw new ConfigError(`effort ${effort}: PIVOT-Sim has no estimate for it (has ${costs.map((c) => c.effort).join(', ')})`);
    return cost;
  };
  const fullMeasured = timings.find((t) => t.effort === full_effort)!.medianMs;
  const fullSimulated = costOf(full_effort).asHigh.delayMs;
  const rows = [...timings]
    .sort((a, b) => a.effort - b.effort)
    .map((t): EffortComparison => {
      const cost = costOf(t.effort);
      const measured_ratio = t.medianMs / fullMeasured;
      const simulated_ratio = cost.asHigh.delayMs / fullSimulated;
      return {
        effort: t.effort,
        active: cost.active,
        measured_ms: t.medianMs,
        measured_p95_ms: t.p95Ms,
        measured_ratio,
        simulated_ms: cost.asHigh.delayMs,
        simulated_ratio,
        ratio_of_ratios: measured_ratio / simulated_ratio,
        error: cost.asHigh.delayMs / t.medianMs - 1,
      };
    });
  return {
    full_effort,
    rows,
    correlation: correlate(
      rows.map((r) => r.measured_ms),
      rows.map((r) => r.simulated_ms),
    ),
  };
}
