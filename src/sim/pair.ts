/**
 * Low/high effort pairs (Section 3.4): every input runs the low effort; the fraction F_H
 * whose entropy exceeds the threshold also runs the high effort, so
 *   D = F_L * D_L + F_H * (D_L + D_H)   (F_H * D_L is the re-computation overhead)
 * and energy likewise. The entropy of Eq. 3 belongs to the low-effort pass.
 */
import { ConfigError } from '../errors.js';
import type { Component } from './hardware.js';
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
  energyByComponent: Record<Component, number>;
}

/** D = F_L*a + F_H*(a + b) for any additive quantity. */
export const pairCombine = (fl: number, low: number, high: number): number => fl * low + (1 - fl) * (low + high);

export function checkFraction(fl: number, source = '--fl'): number {
  if (!Number.isFinite(fl) || fl < 0 || fl > 1) throw new ConfigError(`${source}: F_L must be a number in [0, 1], got ${fl}`);
  return fl;
}

export function combinePair(low: SimResult, high: SimResult, fl: number): PairResult {
  checkFraction(fl);
  const fh = 1 - fl;
  const delayMs = pairCombine(fl, low.delayMs, high.delayMs);
  const energyJ = pairCombine(fl, low.energyJ, high.energyJ);
  const breakdownMs = {} as ModuleRecord;
  const breakdown = {} as ModuleRecord;
  for (const m of MODULES) {
    breakdownMs[m] = pairCombine(fl, low.breakdownMs[m], high.breakdownMs[m]);
    breakdown[m] = delayMs > 0 ? breakdownMs[m] / delayMs : 0;
  }
  const energyByComponent = {} as Record<Component, number>;
  for (const c of Object.keys(low.energy.byComponent) as Component[])
    energyByComponent[c] = pairCombine(fl, low.energy.byComponent[c], high.energy.byComponent[c]);
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
