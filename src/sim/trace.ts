/**
 * Fold-level timeline of the PL, on request (`--trace`): one row per fold of every GEMM with
 * the PEs it maps and its start/end cycle, and one row per GEMM for its stall cycles (the
 * memory model gives stalls per GEMM, not per fold). Host operations appear as gaps in the
 * PL timeline with their duration in cycles of the PL clock. This walks every fold, so it is
 * the slow path; the simulator itself never needs it.
 */
import { DATAFLOWS, mappedGemm } from './dataflow/index.js';
import type { Hardware } from './hardware.js';
import type { SimResult } from './simulate.js';

export const TRACE_HEADER = 'layer,repeat,fold,row_fold,col_fold,rows_used,cols_used,start_cycle,end_cycle,kind';

export function foldTrace(result: SimResult, hw: Hardware): string {
  const lines = [TRACE_HEADER];
  const cyclesPerMs = hw.clock_mhz * 1e3;
  let cycle = 0;
  for (const l of result.layers) {
    if (!l.gemm || !l.compute || !l.mapping) {
      const span = Math.round(l.timeMs * cyclesPerMs);
      if (span > 0) lines.push(`${l.name},,,,,,,${cycle},${cycle + span},host`);
      cycle += span;
      continue;
    }
    const map = DATAFLOWS[l.mapping.dataflow].map(mappedGemm(l.gemm, l.mapping));
    const { rowFolds, colFolds, cyclesPerFold } = l.compute;
    for (let rep = 0; rep < l.gemm.repeat; rep++) {
      let fold = 0;
      // SCALE-Sim's fold order: column folds outer, row folds inner
      for (let fc = 0; fc < colFolds; fc++)
        for (let fr = 0; fr < rowFolds; fr++) {
          const rows = Math.min(hw.array.rows, map.sr - fr * hw.array.rows);
          const cols = Math.min(hw.array.cols, map.sc - fc * hw.array.cols);
          lines.push(`${l.name},${rep},${fold++},${fr},${fc},${rows},${cols},${cycle},${cycle + cyclesPerFold},compute`);
          cycle += cyclesPerFold;
        }
    }
    if (l.stallCycles > 0) {
      lines.push(`${l.name},,,,,,,${cycle},${cycle + l.stallCycles},stall`);
      cycle += l.stallCycles;
    }
  }
  return lines.join('\n') + '\n';
}
