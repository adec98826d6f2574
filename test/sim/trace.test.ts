/** The fold-level trace agrees with the closed form it expands. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ZCU102 } from '../../src/sim/hardware.js';
import { VIT_PRESETS } from '../../src/sim/presets.js';
import { simulateVit } from '../../src/sim/simulate.js';
import { foldTrace, TRACE_HEADER } from '../../src/sim/trace.js';
import { deepestSkippedMask } from '../../src/sim/workload.js';

describe('fold trace', () => {
  it('has one row per fold, contiguous, ending where the delay ends', () => {
    const hw = { ...ZCU102, dram_bandwidth_gbps: 2 }; // slow DRAM so stall rows appear too
    const r = simulateVit(VIT_PRESETS['deit-t']!, hw, deepestSkippedMask(12, 4));
    const lines = foldTrace(r, hw).trim().split('\n');
    assert.equal(lines[0], TRACE_HEADER);
    const rows = lines.slice(1).map((l) => l.split(','));
    const compute = rows.filter((c) => c[9] === 'compute');
    assert.equal(
      compute.length,
      r.layers.reduce((s, l) => s + (l.compute && l.gemm ? l.compute.folds * l.gemm.repeat : 0), 0),
    );
    const busy = (kind: string) => rows.filter((c) => c[9] === kind).reduce((s, c) => s + Number(c[8]) - Number(c[7]), 0);
    assert.equal(busy('compute'), r.computeCycles);
    assert.equal(busy('stall'), r.stallCycles);
    assert.ok(r.stallCycles > 0);
    rows.slice(1).forEach((c, i) => assert.equal(c[7], rows[i]![8], `row ${i + 2} starts where row ${i + 1} ends`));
    const end = Number(rows.at(-1)![8]);
    assert.ok(Math.abs(end - r.delayMs * hw.clock_mhz * 1e3) <= r.layers.length, `${end} vs ${r.delayMs} ms`);
  });
});
