/**
 * Shared types of the three systolic dataflows. A GEMM is SCALE-Sim's: an M x K input
 * (SCALE-Sim's IFMAP operand matrix) times a K x N weight (its FILTER), giving M x N outputs.
 */
export type DataflowName = 'os' | 'ws' | 'is';

export interface Gemm {
  m: number;
  k: number;
  n: number;
}

export interface ArrayDims {
  rows: number;
  cols: number;
}

/**
 * How a dataflow lays a GEMM on the array: `sr` operands along the array rows, `sc` along
 * the columns, `t` streamed in time (SCALE-Sim's Sr, Sc and T).
 */
export interface SpatialMap {
  sr: number;
  sc: number;
  t: number;
}

/** Element traffic of one operand between the array and its SRAM, and what it needs on chip to be reused. */
export interface StreamedOperand {
  /** Distinct elements of the operand. */
  elements: number;
  /** How many times the whole operand streams through the array. */
  passes: number;
  /** Elements that must stay on chip between passes for the operand to come from DRAM only once. */
  reuseSet: number;
}

/** Partial-sum behaviour of the output operand. */
export interface OutputOperand {
  elements: number;
  /** Accumulation passes (folds along the reduction dimension K); 1 when outputs finish in the array. */
  passes: number;
  /** Outputs accumulated at once; they stay in the output SRAM between passes if they fit. */
  accumulatorSet: number;
}

export interface OperandTraffic {
  input: StreamedOperand;
  weight: StreamedOperand;
  output: OutputOperand;
}

/** One dataflow: its mapping, per-fold cycle count and operand traffic. */
export interface Dataflow {
  name: DataflowName;
  /** Which operand stays in the PEs for a whole fold. */
  stationary: 'output' | 'weight' | 'input';
  map(g: Gemm): SpatialMap;
  /** Cycles of one fold with every operand ready (SCALE-Sim v2's demand-matrix rows per fold). */
  foldCycles(map: SpatialMap, a: ArrayDims): number;
  /**
   * Fold length SCALE-Sim divides by for its "Compute Util": the rows of the matrix it measures
   * plus its width minus one. That is the fold itself for OS and the fold plus C-1 for WS and IS.
   */
  utilizationCycles(foldCycles: number, a: ArrayDims): number;
  traffic(g: Gemm, a: ArrayDims): OperandTraffic;
}
