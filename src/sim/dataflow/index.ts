/**
 * Closed-form compute model of a GEMM on a systolic array, one function call per GEMM
 * (no per-cycle or per-fold loop). In ideal-bandwidth mode the cycles equal SCALE-Sim v2's:
 * its demand matrices have `foldCycles` rows per fold and every fold has the same length.
 */
import { inputStationary } from './is.js';
import { outputStationary } from './os.js';
import type { ArrayDims, Dataflow, DataflowName, Gemm, SpatialMap } from './types.js';
import { weightStationary } from './ws.js';

export type * from './types.js';
export { CANDIDATE_MAPPINGS, chooseMapping, mappedGemm, mappingName } from './mapping.js';
export type { DataflowChoice, Mapping } from './mapping.js';

export const DATAFLOWS: Record<DataflowName, Dataflow> = {
  os: outputStationary,
  ws: weightStationary,
  is: inputStationary,
};

export interface GemmCompute {
  map: SpatialMap;
  rowFolds: number;
  colFolds: number;
  folds: number;
  cyclesPerFold: number;
  /** Stall-free cycles: folds x cyclesPerFold. */
  computeCycles: number;
  macs: number;
  /** Mean over folds of the fraction of PEs mapped (SCALE-Sim's "Mapping Efficiency"). */
  mappingEfficiency: number;
  /** SCALE-Sim's "Compute Util": mean over folds of MACs / (PEs x its utilization window). */
  computeUtilization: number;
}

export function computeGemm(dataflow: DataflowName, g: Gemm, a: ArrayDims): GemmCompute {
  const df = DATAFLOWS[dataflow];
  const map = df.map(g);
  const rowFolds = Math.ceil(map.sr / a.rows);
  const colFolds = Math.ceil(map.sc / a.cols);
  const folds = rowFolds * colFolds;
  const cyclesPerFold = df.foldCycles(map, a);
  // Summed over folds, the rows used add up to Sr and the columns used to Sc, so the
  // per-fold averages have closed forms.
  const mappingEfficiency = (map.sr * map.sc) / (a.rows * a.cols * folds);
  return {
    map,
    rowFolds,
    colFolds,
    folds,
    cyclesPerFold,
    computeCycles: folds * cyclesPerFold,
    macs: g.m * g.k * g.n,
    mappingEfficiency,
    computeUtilization: (mappingEfficiency * map.t) / df.utilizationCycles(cyclesPerFold, a),
  };
}
