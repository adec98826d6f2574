/** SRAM/DRAM traffic and bandwidth stalls. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DATAFLOWS } from '../../src/sim/dataflow/index.js';
import { ZCU102, type Hardware } from '../../src/sim/hardware.js';
import { gemmTraffic } from '../../src/sim/memory.js';

const qkv = { m: 197, k: 384, n: 1152 };
const is = DATAFLOWS.is;

describe('memory model', () => {
  it('IS re-streams a weight that does not fit for every column fold and spills partial sums', () => {
    const t = gemmTraffic(is, qkv, ZCU102.array, ZCU102, 47304);
    // weight 384 x 1152 > 4 KiB half-buffer: 6 column folds of M -> 6 passes from DRAM
    assert.equal(t.dram.weightReads, 384 * 1152 * 6);
    assert.equal(t.dram.inputReads, 197 * 384);
    // 36 x 1152 accumulators > 4 KiB: 6 K-folds write 6 times, read back 5 times
    assert.equal(t.dram.outputWrites, 197 * 1152 * 6);
    assert.equal(t.dram.outputReads, 197 * 1152 * 5);
    assert.equal(t.sram.weightReads, 384 * 1152 * 6);
    assert.equal(t.stallCycles, 0);
  });

  it('operands that fit on chip come from DRAM once', () => {
    const roomy: Hardware = { ...ZCU102, sram_kb: { global: 16, input: 2048, weight: 2048, output: 2048 } };
    const t = gemmTraffic(is, qkv, roomy.array, roomy, 47304);
    assert.deepEqual(t.dram, { inputReads: 197 * 384, weightReads: 384 * 1152, outputReads: 0, outputWrites: 197 * 1152 });
  });

  it('stalls only for transfer time beyond the compute time; ideal bandwidth never stalls', () => {
    const slow: Hardware = { ...ZCU102, dram_bandwidth_gbps: 1.25 }; // 10 bytes per 125 MHz cycle
    const t = gemmTraffic(is, qkv, slow.array, slow, 47304);
    assert.equal(t.stallCycles, Math.ceil(t.dramBytes / 10) - 47304);
    const ideal = gemmTraffic(is, qkv, ZCU102.array, { ...ZCU102, dram_bandwidth_gbps: 'ideal' }, 47304);
    assert.equal(ideal.stallCycles, 0);
  });

  it('OS keeps outputs in the array and reuses a K x C weight slice across row folds', () => {
    const t = gemmTraffic(DATAFLOWS.os, { m: 128, k: 16, n: 36 }, ZCU102.array, ZCU102, 1);
    assert.equal(t.dram.outputReads, 0);
    assert.equal(t.dram.outputWrites, 128 * 36);
    assert.equal(t.dram.weightReads, 16 * 36);
  });
});
