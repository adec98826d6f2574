/**
 * Per-layer mapping (`dataflow: best`): hand-worked GEMMs on a 4 x 8 array where each of the
 * four distinct mappings is the fastest, and fixed dataflows left exactly as SCALE-Sim counts them.
 * Cycles per mapping (R = 4 rows, C = 8 columns):
 *   IS   ceil(K/R) ceil(M/C) (2R + C + N - 2)     WS   ceil(K/R) ceil(N/C) (2R + C + M - 2)
 *   OS   ceil(M/R) ceil(N/C) (K + R + C - 2)      OS^T ceil(N/R) ceil(M/C) (K + R + C - 2)
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chooseMapping, computeGemm, mappedGemm, mappingName, type Gemm, type Mapping } from '../../src/sim/dataflow/index.js';
import { ZCU102 } from '../../src/sim/hardware.js';
import { VIT_PRESETS } from '../../src/sim/presets.js';
import { simulateOps, simulateVit } from '../../src/sim/simulate.js';
import type { GemmOp } from '../../src/sim/workload.js';

const array = { rows: 4, cols: 8 };
const cycles = (g: Gemm, m: Mapping) => computeGemm(m.dataflow, mappedGemm(g, m), array).computeCycles;
const best = (g: Gemm) =>
  chooseMapping(
    'best',
    (m) => cycles(g, m),
    (c) => c,
  );

describe('per-layer mapping', () => {
  const cases: [string, Gemm, number, Record<string, number>][] = [
    // long M streams through a stationary weight: WS 1 fold of 8 + 8 + 1000 - 2
    ['ws', { m: 1000, k: 4, n: 8 }, 1014, { is: 125 * 22, os: 250 * 14, 'os^T': 2 * 125 * 14 }],
    // long N streams past a stationary input tile: IS
    ['is', { m: 8, k: 4, n: 1000 }, 1014, { ws: 125 * 22, os: 2 * 125 * 14, 'os^T': 250 * 14 }],
    // long K accumulates in place: OS, outputs M = 4 on the rows, N = 8 on the columns
    ['os', { m: 4, k: 1000, n: 8 }, 1010, { 'os^T': 2 * 1010, ws: 250 * 18, is: 250 * 22 }],
    // the same with M and N swapped only fits one fold transposed: OS^T
    ['os^T', { m: 8, k: 1000, n: 4 }, 1010, { os: 2 * 1010, ws: 250 * 22, is: 250 * 18 }],
  ];
  for (const [winner, g, winnerCycles, others] of cases)
    it(`${winner} wins for ${g.m}x${g.k}x${g.n}`, () => {
      const { mapping, result } = best(g);
      assert.equal(mappingName(mapping), winner);
      assert.equal(result, winnerCycles);
      for (const [name, expected] of Object.entries(others)) {
        const m: Mapping = { dataflow: name.slice(0, 2) as Mapping['dataflow'], transposed: name.endsWith('^T') };
        assert.equal(cycles(g, m), expected, name);
        assert.ok(expected > winnerCycles, `${name} should lose`);
      }
    });

  it('a fixed dataflow is used as is, even when another mapping would be faster', () => {
    const g = { m: 1000, k: 4, n: 8 };
    const { mapping, result } = chooseMapping(
      'is',
      (m) => cycles(g, m),
      (c) => c,
    );
    assert.deepEqual(mapping, { dataflow: 'is', transposed: false });
    assert.equal(result, 125 * 22);
  });

  it('conv_dataflow applies to convolutions only; the transformer GEMMs keep the fixed dataflow', () => {
    const lv = VIT_PRESETS['lv-vit-s']!;
    const r = simulateVit(lv, ZCU102, Array(lv.depth).fill(1));
    const stem = r.layers.filter((l) => l.kind === 'stem');
    // stem_conv2: 112x112 outputs x (3*3*64) window x 64 filters. IS: 9 x 349 folds x 226 = 709866;
    // WS: 9 x 2 folds x (128 + 36 + 12544 - 2) = 228708; OS: 196 x 2 x 674 = 264208; OS^T: 1 x 349 x 674 = 235226.
    const conv2 = stem.find((l) => l.name === 'stem_conv2')!;
    assert.equal(mappingName(conv2.mapping!), 'ws');
    assert.equal(conv2.computeCycles, 228708);
    assert.ok(
      r.layers.filter((l) => l.unit === 'pl' && l.kind !== 'stem').every((l) => l.mapping!.dataflow === 'is' && !l.mapping!.transposed),
    );
    const fixed = simulateVit(lv, { ...ZCU102, conv_dataflow: undefined }, Array(lv.depth).fill(1));
    assert.equal(fixed.layers.find((l) => l.name === 'stem_conv2')!.computeCycles, 709866);
  });

  it('best never loses to the fixed dataflow it replaces', () => {
    const ops: GemmOp[] = [
      [3, 50, 7],
      [200, 9, 3],
      [17, 17, 17],
      [1, 384, 1000],
    ].map(([m, k, n], i) => ({
      unit: 'pl',
      name: `g${i}`,
      kind: 'stem',
      module: 'other',
      gemm: { m: m!, k: k!, n: n! },
      repeat: 1,
    }));
    for (const df of ['os', 'ws', 'is'] as const) {
      const fixed = simulateOps(ops, { ...ZCU102, dataflow: df, conv_dataflow: undefined }, { model: 'x', active: [] });
      const chosen = simulateOps(ops, { ...ZCU102, dataflow: df, conv_dataflow: 'best' }, { model: 'x', active: [] });
      fixed.layers.forEach((l, i) => assert.ok(chosen.layers[i]!.totalCycles <= l.totalCycles, `${df} ${l.name}`));
    }
  });
});
