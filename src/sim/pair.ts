/**
 * Low/high effort pairs (Section 3.4): every input runs the low effort; the fraction F_H
 * whose entropy exceeds the threshold also runs the high effort, so
 *   D = F_L * D_L + F_H * (D_L + D_H)   (F_H * D_L is the re-computation overhead)
 * and energy likewise. The entropy of Eq. 3 belongs to the low-effort pass.
 */
import { ConfigError } from '../errors.js';
import type { PowerComponent } from './hardware.js';
import type { ModuleRecord, SimResult } from './simulate.js';
import { MODULES } from './workload.js';

export interface PairResult {
  fl: number;
  fh: number;
  low: SimResult;
  high: SimResult;
  delayMs: number;
  energyJ: number;
  edp: number;
  fpsPerW: number;
  /** Per-image delay of the re-computation overhead F_H * D_L. */
  recomputeMs: number;
  breakdownMs: ModuleRecord;
  breakdown: ModuleRecord;
  energyByComponent: Record<PowerComponent, number>;
}

/** Per-image average of an additive quantity (delay, energy) over a pair: F_L*low + F_H*(low + high). */
export const pairAverage = (low: number, high: number, fl: number): number => fl * low + (1 - fl) * (low + high);

export function checkFraction(fl: number, source = '--fl'): number {
  if (!Number.isFinite(fl) || fl < 0 || fl > 1) throw new ConfigError(`${source}: F_L must be a number in [0, 1], got ${fl}`);
  return fl;
}

/** The pair's delay, energy and breakdowns from the two efforts' simulations (no re-simulation per F_L). */
export function pairResult(low: SimResult, high: SimResult, fl: number): PairResult {
  checkFraction(fl);
  const fh = 1 - fl;
  const delayMs = pairAverage(low.delayMs, high.delayMs, fl);
  const energyJ = pairAverage(low.energyJ, high.energyJ, fl);
  const breakdownMs = {} as ModuleRecord;
  const breakdown = {} as ModuleRecord;
  for (const m of MODULES) {
    breakdownMs[m] = pairAverage(low.breakdownMs[m], high.breakdownMs[m], fl);
    breakdown[m] = delayMs > 0 ? breakdownMs[m] / delayMs : 0;
  }
  const energyByComponent = {} as Record<PowerComponent, number>;
  for (const c of Object.keys(low.energy.byComponent) as PowerComponent[])
    energyByComponent[c] = pairAverage(low.energy.byComponent[c], high.energy.byComponent[c], fl);
  return {
    fl,
    fh,
    low,
    high,
    delayMs,
    energyJ,
    edp: energyJ * delayMs,
    fpsPerW: energyJ > 0 ? 1 / energyJ : 0,
    recomputeMs: fh * low.delayMs,
    breakdownMs,
    breakdown,
    energyByComponent,
  };
}
