import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { driftCorrected, type EffortTiming } from '../../src/latency/index.js';

const timing = (effort: number, roundMs: number[]): EffortTiming => ({
  effort,
  batch: 1,
  calls: roundMs.length,
  medianMs: [...roundMs].sort((a, b) => a - b)[Math.floor(roundMs.length / 2)]!,
  p95Ms: Math.max(...roundMs),
  roundMs,
});

describe('drift-corrected latency (median polish over rounds)', () => {
  it('removes a slow stretch that fell on different rounds for different cases', () => {
    const truth = [1, 2, 3, 4];
    // Rounds 2 and 3 ran 1.5x and 2x slower for every case (the machine got busy).
    const speed = [1, 1.5, 2, 1, 1];
    const timings = truth.map((t, c) =>
      timing(
        c,
        speed.map((s) => t * s),
      ),
    );
    const level = driftCorrected(timings);
    level.forEach((l, c) => assert.ok(Math.abs(l / truth[c]! - 1) < 1e-9, `case ${c}: ${l}`));
  });

  it('one disturbed cell does not move its case', () => {
    const truth = [1, 2, 3, 4];
    const timings = truth.map((t, c) =>
      timing(
        c,
        [t, t * 1.1, t * 0.95, t, t * 1.05].map((v, r) => (c === 2 && r === 1 ? v * 3 : v)),
      ),
    );
    const level = driftCorrected(timings);
    level.forEach((l, c) => assert.ok(Math.abs(l / truth[c]! - 1) < 0.06, `case ${c}: ${l}`));
  });

  it('is the plain median with one round', () => {
    const timings = [timing(0, [2]), timing(1, [3])];
    assert.deepEqual(driftCorrected(timings), [2, 3]);
  });
});
