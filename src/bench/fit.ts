/**
 * Fits a device profile (`kind: cpu`, src/sim/device.ts) to measured per-image latencies:
 * every measurement (an effort at a batch size) is a row of the simulator's features for that
 * effort's operation list (cpuFeatures), and the costs are the non-negative least-squares
 * solution (Lawson-Hanson, src/sim/nnls.ts) on relative residuals, so a 0.2 ms effort weighs
 * as much as a 0.4 ms one. Batch sizes are what separate per-call costs (shared by a batch)
 * from per-image work; efforts separate attention work from the rest.
 *
 * On a shared machine a burst of load can spoil one measurement by 2x, so the fit is robust:
 * iteratively reweighted (Huber weights, tuning constant 1.345 times the residuals' scale
 * estimated by their median absolute deviation / 0.6745), which keeps the least-squares
 * answer when nothing is off and down-weights a point that disagrees with all the others.
 */
import { ConfigError } from '../errors.js';
import { CPU_COSTS, cpuFeatures, nnls, type CpuCosts, type CpuFeatures, type VitSource } from '../sim/index.js';
import { buildWorkload } from '../sim/workload.js';

export interface FitPoint {
  effort: number;
  batch: number;
  /** Measured median ms per image. */
  measured_ms: number;
}

export interface FittedPoint extends FitPoint {
  predicted_ms: number;
  /** predicted / measured - 1. */
  error: number;
}

export interface DeviceFit {
  costs: CpuCosts;
  points: FittedPoint[];
  /** Huber weight each point ended with (1 = a full least-squares point). */
  weights: number[];
  /** Root mean square and maximum of |error| over the points. */
  rms_error: number;
  max_error: number;
}

const predictNs = (costs: CpuCosts, f: CpuFeatures): number => CPU_COSTS.reduce((s, c) => s + costs[c] * f[c], 0);

function featuresOf(source: VitSource, effort: number, batch: number): CpuFeatures {
  const active = source.efforts.get(effort);
  if (!active) throw new ConfigError(`effort ${effort}: not in ${source.vit.name}'s manifest`);
  return cpuFeatures(buildWorkload(source.vit, active), batch);
}

export function fitDevice(source: VitSource, points: readonly FitPoint[]): DeviceFit {
  if (points.length < 2) throw new ConfigError(`a device fit needs at least 2 measurements, got ${points.length}`);
  const features = points.map((p) => featuresOf(source, p.effort, p.batch));
  // Relative residuals: divide each row and its target by the measured time (ns).
  const rows = features.map((f, i) => CPU_COSTS.map((c) => f[c] / (points[i]!.measured_ms * 1e6)));
  let weights = points.map(() => 1);
  let x: number[] = [];
  for (let iteration = 0; iteration < 10; iteration++) {
    const sw = weights.map(Math.sqrt);
    ({ x } = nnls(
      rows.map((r, i) => r.map((v) => v * sw[i]!)),
      sw,
    ));
    const residuals = rows.map((r) => r.reduce((s, v, j) => s + v * x[j]!, 0) - 1);
    const abs = residuals.map(Math.abs).sort((a, b) => a - b);
    const scale = abs[Math.floor(abs.length / 2)]! / 0.6745;
    if (!(scale > 0)) break;
    const next = residuals.map((r) => Math.min(1, (1.345 * scale) / Math.abs(r)));
    const settled = next.every((w, i) => Math.abs(w - weights[i]!) < 1e-6);
    weights = next;
    if (settled) break;
  }
  const costs = { entropy: 0 } as CpuCosts;
  CPU_COSTS.forEach((c, j) => (costs[c] = x[j]!));
  const fitted = points.map((p, i): FittedPoint => {
    const predicted_ms = predictNs(costs, features[i]!) / 1e6;
    return { ...p, predicted_ms, error: predicted_ms / p.measured_ms - 1 };
  });
  const errors = fitted.map((p) => Math.abs(p.error));
  return {
    costs,
    points: fitted,
    weights,
    rms_error: Math.sqrt(errors.reduce((s, e) => s + e * e, 0) / errors.length),
    max_error: Math.max(...errors),
  };
}

/** Refit without every measurement of one effort, then predict that effort at `batch`: an out-of-sample check per effort. */
export function leaveOneEffortOut(source: VitSource, points: readonly FitPoint[], batch: number): FittedPoint[] {
  const efforts = [...new Set(points.map((p) => p.effort))].sort((a, b) => a - b);
  return efforts.flatMap((effort) => {
    const held = points.find((p) => p.effort === effort && p.batch === batch);
    if (!held) return [];
    const { costs } = fitDevice(
      source,
      points.filter((p) => p.effort !== effort),
    );
    const predicted_ms = predictNs(costs, featuresOf(source, effort, batch)) / 1e6;
    return [{ ...held, predicted_ms, error: predicted_ms / held.measured_ms - 1 }];
  });
}
