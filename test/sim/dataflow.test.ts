/**
 * Fold and cycle formulas per dataflow. Two independent checks:
 * - hand-worked cases (array larger than the GEMM, exact multiples, 1-row GEMMs);
 * - an oracle that walks the folds one by one and counts the rows SCALE-Sim v2 builds for each
 *   operand's demand matrix (null prefix, streamed rows, null suffix, then the skew that adds
 *   one row per array column/row minus one). SCALE-Sim asserts the three counts agree, and its
 *   stall-free cycle count is their total.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { computeGemm, type DataflowName, type Gemm } from '../../src/sim/dataflow/index.js';

const arr = (rows: number, cols: number) => ({ rows, cols });

/** Per-fold demand-matrix rows of the three operands, following SCALE-Sim v2's construction steps. */
function scaleSimDemandRows(df: DataflowName, g: Gemm, R: number, C: number): number {
  // SCALE-Sim's spatial/temporal dims from its operand matrices (ifmap M x K, filter K x N).
  const [Sr, Sc, T] = df === 'os' ? [g.m, g.n, g.k] : df === 'ws' ? [g.k, g.n, g.m] : [g.k, g.m, g.n];
  const skew = (rows: number, cols: number) => rows + cols - 1;
  let total = 0;
  for (let fc = 0; fc < Math.ceil(Sc / C); fc++)
    for (let fr = 0; fr < Math.ceil(Sr / R); fr++) {
      let counts: number[];
      if (df === 'os') {
        const ifmap = skew(T + (C - 1), R); // T streamed rows + drain suffix, skewed over R rows
        const filter = skew(T + (R - 1), C);
        const ofmap = skew(T - 1 + R, C); // T-1 null prefix + R output rows
        counts = [ifmap, filter, ofmap];
      } else {
        // WS streams the ifmap (T = M); IS streams the filter (T = N): R load cycles, T rows, C-1 drain.
        const streamed = skew(R + T + (C - 1), R);
        const stationary = R + (R + C + T - 2); // R load rows + the fold's suffix, not skewed
        const ofmap = skew(2 * R - 1 + T, C);
        counts = [streamed, stationary, ofmap];
      }
      assert.equal(new Set(counts).size, 1, `${df} operand demands out of sync: ${counts.join(', ')}`);
      total += counts[0]!;
    }
  return total;
}

describe('closed-form GEMM cycles', () => {
  it('OS: K + R + C - 2 per fold, folds over M rows and N columns', () => {
    // 4x4 array, 4x4x4 GEMM: one fold of 4 + 4 + 4 - 2 = 10 cycles.
    const c = computeGemm('os', { m: 4, k: 4, n: 4 }, arr(4, 4));
    assert.deepEqual([c.rowFolds, c.colFolds, c.cyclesPerFold, c.computeCycles], [1, 1, 10, 10]);
    assert.equal(c.mappingEfficiency, 1);
    // exact multiples: M = 8 = 2R, N = 12 = 3C -> 6 folds of 5 + 4 + 4 - 2 = 11
    const m = computeGemm('os', { m: 8, k: 5, n: 12 }, arr(4, 4));
    assert.deepEqual([m.rowFolds, m.colFolds, m.computeCycles], [2, 3, 66]);
  });

  it('WS: 2R + C + M - 2 per fold, folds over K rows and N columns', () => {
    // GEMM smaller than the array: one fold, 2*8 + 6 + 3 - 2 = 23 cycles, 2x5 of 48 PEs mapped
    const c = computeGemm('ws', { m: 3, k: 2, n: 5 }, arr(8, 6));
    assert.deepEqual([c.folds, c.cyclesPerFold, c.computeCycles], [1, 23, 23]);
    assert.equal(c.mappingEfficiency, 10 / 48);
    // K = 9 on 4 rows -> 3 row folds; N = 4 = C -> 1 col fold; 2*4 + 4 + 7 - 2 = 17
    const m = computeGemm('ws', { m: 7, k: 9, n: 4 }, arr(4, 4));
    assert.deepEqual([m.rowFolds, m.colFolds, m.computeCycles], [3, 1, 51]);
  });

  it('IS: 2R + C + N - 2 per fold, folds over K rows and M columns', () => {
    // ZCU102 64x36 array, DeiT-S QKV: K 384 -> 6 row folds, M 197 -> 6 col folds,
    // 2*64 + 36 + 1152 - 2 = 1314 per fold, 36 folds = 47304 cycles.
    const c = computeGemm('is', { m: 197, k: 384, n: 1152 }, arr(64, 36));
    assert.deepEqual([c.rowFolds, c.colFolds, c.cyclesPerFold, c.computeCycles], [6, 6, 1314, 47304]);
    // 1-row GEMM (the classifier head): one token column, 6 row folds of 128 + 36 + 1000 - 2
    const h = computeGemm('is', { m: 1, k: 384, n: 1000 }, arr(64, 36));
    assert.deepEqual([h.folds, h.computeCycles], [6, 6 * 1162]);
    assert.ok(Math.abs(h.mappingEfficiency - 1 / 36) < 1e-12);
  });

  it('1-row GEMMs under OS and WS', () => {
    // OS: M = 1 fills one array row; N = 1000 over 36 columns = 28 folds of 384 + 64 + 36 - 2
    assert.equal(computeGemm('os', { m: 1, k: 384, n: 1000 }, arr(64, 36)).computeCycles, 28 * 482);
    // WS: T = M = 1; 6 x 28 folds of 128 + 36 + 1 - 2
    assert.equal(computeGemm('ws', { m: 1, k: 384, n: 1000 }, arr(64, 36)).computeCycles, 168 * 163);
  });

  it('compute utilization follows SCALE-Sim: MACs over PE-cycles of the fold (OS) or fold + C - 1 (WS, IS)', () => {
    const g = { m: 50, k: 70, n: 30 };
    const os = computeGemm('os', g, arr(16, 8));
    assert.ok(Math.abs(os.computeUtilization - os.macs / (16 * 8 * os.computeCycles)) < 1e-12);
    for (const df of ['ws', 'is'] as const) {
      const c = computeGemm(df, g, arr(16, 8));
      assert.ok(Math.abs(c.computeUtilization - c.macs / (16 * 8 * c.folds * (c.cyclesPerFold + 8 - 1))) < 1e-12, df);
    }
  });

  it('matches the fold-by-fold SCALE-Sim demand-row count on many shapes', () => {
    let seed = 7;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), 1 + (seed % n));
    for (let i = 0; i < 300; i++) {
      const g = { m: rnd(90), k: rnd(90), n: rnd(90) };
      const a = arr(rnd(20), rnd(20));
      for (const df of ['os', 'ws', 'is'] as const)
        assert.equal(
          computeGemm(df, g, a).computeCycles,
          scaleSimDemandRows(df, g, a.rows, a.cols),
          `${df} ${JSON.stringify(g)} on ${a.rows}x${a.cols}`,
        );
    }
  });
});
