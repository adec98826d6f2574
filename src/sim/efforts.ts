/**
 * Every effort of a model at once, for Phase 2 sweeps and `pivot bench`: each effort is
 * simulated twice, as a low effort (with Eq. 3's entropy) and as a high effort (without),
 * so any pair is then `pairResult(costs[lo].asLow, costs[hi].asHigh, F_L)` with no re-simulation.
 */
import type { Device } from './hardware.js';
import { simulateVit, type SimResult } from './simulate.js';
import type { VitSource } from './vit-source.js';
import { deepestSkippedMask } from './workload.js';

export interface EffortCost {
  effort: number;
  active: number[];
  asLow: SimResult;
  asHigh: SimResult;
}

/** The manifest's efforts, or 0..depth with the deepest attentions skipped first for presets. */
export function simulateEfforts(source: VitSource, hw: Device): EffortCost[] {
  const masks: [number, number[]][] =
    source.origin === 'manifest'
      ? [...source.efforts.entries()]
      : Array.from({ length: source.vit.depth + 1 }, (_, e) => [e, deepestSkippedMask(source.vit.depth, e)]);
  return masks
    .sort(([a], [b]) => a - b)
    .map(([effort, active]) => ({
      effort,
      active,
      asLow: simulateVit(source.vit, hw, active, { entropy: true }),
      asHigh: simulateVit(source.vit, hw, active),
    }));
}
