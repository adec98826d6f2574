/**
 * How a GEMM is laid on the array. A fixed dataflow maps every GEMM the same way (SCALE-Sim's
 * model, exact cycles). `best` does what a compiler for an array that can switch dataflows
 * does per layer (Gemmini selects weight or output stationary per layer at run time; SCALE-Sim
 * studies sweep the dataflow per layer): try each stationary operand and orientation and keep
 * the fewest cycles. Orientation: computing C^T = B^T A^T swaps M and N. For WS and IS that
 * only turns one into the other (WS on the transpose is IS), so the distinct mappings are
 * IS, WS, OS and OS on the transpose (outputs N along the rows, M along the columns), which
 * differs from OS whenever the array is not square.
 */
import type { DataflowName, Gemm } from './types.js';

export type DataflowChoice = DataflowName | 'best';

export interface Mapping {
  dataflow: DataflowName;
  /** The array computes C^T = B^T A^T: M and N swap (and so do the operands' SRAMs). */
  transposed: boolean;
}

/** Every distinct mapping, in the order ties are broken. */
export const CANDIDATE_MAPPINGS: readonly Mapping[] = [
  { dataflow: 'is', transposed: false },
  { dataflow: 'ws', transposed: false },
  { dataflow: 'os', transposed: false },
  { dataflow: 'os', transposed: true },
];

/** The GEMM the array actually runs under a mapping. */
export const mappedGemm = (g: Gemm, m: Mapping): Gemm => (m.transposed ? { m: g.n, k: g.k, n: g.m } : g);

export const mappingName = (m: Mapping): string => `${m.dataflow}${m.transposed ? '^T' : ''}`;

/** The fixed mapping, or the candidate with the lowest cost (first one on ties). */
export function chooseMapping<T>(
  choice: DataflowChoice,
  evaluate: (m: Mapping) => T,
  cost: (t: T) => number,
): { mapping: Mapping; result: T } {
  if (choice !== 'best') {
    const mapping = { dataflow: choice, transposed: false };
    return { mapping, result: evaluate(mapping) };
  }
  let best: { mapping: Mapping; result: T } | undefined;
  for (const mapping of CANDIDATE_MAPPINGS) {
    const result = evaluate(mapping);
    if (!best || cost(result) < cost(best.result)) best = { mapping, result };
  }
  return best!;
}
