/**
 * Input stationary: a R x C tile of the input (K along rows, M along columns) is pinned in
 * the array; the N weight columns stream through. Per fold SCALE-Sim v2 spends R cycles
 * loading inputs, N streaming, R-1 of skew and C-1 of drain: 2R + C + N - 2 cycles.
 */
import type { Dataflow } from './types.js';

export const inputStationary: Dataflow = {
  name: 'is',
  stationary: 'input',
  map: ({ m, k, n }) => ({ sr: k, sc: m, t: n }),
  foldCycles: ({ t }, { rows, cols }) => 2 * rows + cols + t - 2,
  utilizationCycles: (foldCycles, { cols }) => foldCycles + cols - 1,
  traffic({ m, k, n }, { rows, cols }) {
    const rowFolds = Math.ceil(k / rows);
    const colFolds = Math.ceil(m / cols);
    return {
      input: { elements: m * k, passes: 1, reuseSet: 0 },
      // The whole weight streams again for every column fold of inputs.
      weight: { elements: k * n, passes: colFolds, reuseSet: k * n },
      output: { elements: m * n, passes: rowFolds, accumulatorSet: Math.min(m, cols) * n },
    };
  },
};
