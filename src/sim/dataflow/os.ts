/**
 * Output stationary: each PE owns one output. Outputs (M rows x N columns) are spread over
 * the array; the reduction K streams through in time. Per fold SCALE-Sim v2 streams K
 * operands, then waits R-1 cycles of skew and C-1 cycles of drain: K + R + C - 2 cycles.
 */
import type { Dataflow } from './types.js';

export const outputStationary: Dataflow = {
  name: 'os',
  stationary: 'output',
  map: ({ m, k, n }) => ({ sr: m, sc: n, t: k }),
  foldCycles: ({ t }, { rows, cols }) => t + rows + cols - 2,
  utilizationCycles: (foldCycles) => foldCycles,
  traffic({ m, k, n }, { rows, cols }) {
    const rowFolds = Math.ceil(m / rows);
    const colFolds = Math.ceil(n / cols);
    return {
      // The whole input is re-streamed for every column fold (SCALE-Sim folds columns in the outer loop).
      input: { elements: m * k, passes: colFolds, reuseSet: m * k },
      // A K x C weight slice serves every row fold of its column fold.
      weight: { elements: k * n, passes: rowFolds, reuseSet: k * Math.min(n, cols) },
      output: { elements: m * n, passes: 1, accumulatorSet: 0 },
    };
  },
};
