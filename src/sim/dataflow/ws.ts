/**
 * Weight stationary: a R x C tile of the K x N weight is pinned in the array; the M input
 * rows stream through. Per fold SCALE-Sim v2 spends R cycles loading weights, M streaming,
 * R-1 of skew and C-1 of drain: 2R + C + M - 2 cycles.
 */
import type { Dataflow } from './types.js';

export const weightStationary: Dataflow = {
  name: 'ws',
  stationary: 'weight',
  map: ({ m, k, n }) => ({ sr: k, sc: n, t: m }),
  foldCycles: ({ t }, { rows, cols }) => 2 * rows + cols + t - 2,
  utilizationCycles: (foldCycles, { cols }) => foldCycles + cols - 1,
  traffic({ m, k, n }, { rows, cols }) {
    const rowFolds = Math.ceil(k / rows);
    const colFolds = Math.ceil(n / cols);
    return {
      input: { elements: m * k, passes: colFolds, reuseSet: m * k },
      weight: { elements: k * n, passes: 1, reuseSet: 0 },
      // Each K fold adds a partial sum to the same M x C outputs.
      output: { elements: m * n, passes: rowFolds, accumulatorSet: m * Math.min(n, cols) },
    };
  },
};
