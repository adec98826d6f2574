/** Energy: power x busy time per component, idle power for the rest. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { busyTimes, energyOf } from '../../src/sim/energy.js';
import { totalPower, ZCU102, type Hardware } from '../../src/sim/hardware.js';
import { VIT_PRESETS } from '../../src/sim/presets.js';
import { simulateVit } from '../../src/sim/simulate.js';

const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12 * Math.max(1, Math.abs(b)), `${a} != ${b}`);

describe('energy model', () => {
  it('ZCU102 components sum to the paper 7.92 W and, ungated, energy = 7.92 W x delay', () => {
    close(totalPower(ZCU102), 7.92);
    const r = simulateVit(VIT_PRESETS['deit-t']!, ZCU102, Array(12).fill(1));
    close(r.energyJ, (7.92 * r.delayMs) / 1000);
    close(r.fpsPerW, 1000 / r.delayMs / r.powerW);
  });

  it('with gating, each component is charged for its busy time only', () => {
    const gated: Hardware = { ...ZCU102, idle_fraction: { ps: 0, pe_array: 0, sram: 0, periphery: 0 } };
    // 10 ms inference: 6 ms host, 3 ms compute, 1 ms stalls
    const e = energyOf(gated, busyTimes(6, 3, 1, 10), 10);
    close(e.byComponent.ps, (3.2 * 6) / 1000);
    close(e.byComponent.pe_array, (2.3 * 3) / 1000);
    close(e.byComponent.sram, (0.62 * 4) / 1000);
    close(e.byComponent.periphery, (1.8 * 10) / 1000);
    const half = energyOf({ ...gated, idle_fraction: { ...gated.idle_fraction, ps: 0.5 } }, busyTimes(6, 3, 1, 10), 10);
    close(half.byComponent.ps, (3.2 * (6 + 0.5 * 4)) / 1000);
  });
});
