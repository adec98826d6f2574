/** Effort pairs: D = F_L*D_L + F_H*(D_L + D_H), energy likewise, entropy on the low pass. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/errors.js';
import { ZCU102 } from '../../src/sim/hardware.js';
import { simulateEfforts } from '../../src/sim/efforts.js';
import { pairAverage, pairResult } from '../../src/sim/pair.js';
import { VIT_PRESETS } from '../../src/sim/presets.js';
import { simulateVit } from '../../src/sim/simulate.js';
import { resolveVit } from '../../src/sim/vit-source.js';
import { deepestSkippedMask } from '../../src/sim/workload.js';

const deitS = VIT_PRESETS['deit-s']!;
const low = simulateVit(deitS, ZCU102, deepestSkippedMask(12, 6), { entropy: true });
const high = simulateVit(deitS, ZCU102, deepestSkippedMask(12, 9));
const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-9 * Math.max(1, Math.abs(b)), `${a} != ${b}`);

describe('effort pairs', () => {
  it('combines delay and energy with the re-computation term', () => {
    const p = pairResult(low, high, 0.7);
    close(p.delayMs, 0.7 * low.delayMs + 0.3 * (low.delayMs + high.delayMs));
    close(p.energyJ, 0.7 * low.energyJ + 0.3 * (low.energyJ + high.energyJ));
    close(p.recomputeMs, 0.3 * low.delayMs);
    close(p.edp, p.energyJ * p.delayMs);
    close(p.fpsPerW, 1 / p.energyJ);
    const shares = Object.values(p.breakdown).reduce((s, v) => s + v, 0);
    close(shares, 1);
  });

  it('F_L = 1 is the low effort alone; F_L = 0 runs both for every input', () => {
    close(pairResult(low, high, 1).delayMs, low.delayMs);
    close(pairResult(low, high, 0).delayMs, low.delayMs + high.delayMs);
    assert.equal(pairAverage(4, 8, 0.25), 0.25 * 4 + 0.75 * 12);
  });

  it('charges the 0.03 ms entropy (1000 classes) to the low-effort pass', () => {
    const plain = simulateVit(deitS, ZCU102, deepestSkippedMask(12, 6));
    close(low.delayMs - plain.delayMs, 0.03);
  });

  it('rejects F_L outside [0, 1] with a ConfigError naming --fl', () => {
    assert.throws(
      () => pairResult(low, high, 1.2),
      (e: unknown) => e instanceof ConfigError && /--fl/.test(e.message),
    );
  });
});

describe('simulateEfforts', () => {
  it('gives every preset effort as low (with entropy) and high, ready for pair sweeps', () => {
    const costs = simulateEfforts(resolveVit('deit-s'), ZCU102);
    assert.deepEqual(
      costs.map((c) => c.effort),
      [...Array(13).keys()],
    );
    const [c6, c9] = [costs[6]!, costs[9]!];
    close(c6.asLow.delayMs, low.delayMs);
    close(pairResult(c6.asLow, c9.asHigh, 0.7).delayMs, pairResult(low, high, 0.7).delayMs);
    // each extra active attention adds the same QKV..Proj GEMMs and softmax
    close(costs[12]!.asHigh.delayMs - costs[11]!.asHigh.delayMs, costs[1]!.asHigh.delayMs - costs[0]!.asHigh.delayMs);
  });
});
