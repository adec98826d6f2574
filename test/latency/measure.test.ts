import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/errors.js';
import { measureCases, measureEfforts, roundOrders, turnCalls } from '../../src/latency/index.js';
import { ModelRuntime } from '../../src/model/index.js';
import { family } from '../runtime/helpers.js';

describe('effort latency (src/latency)', () => {
  it('measureEfforts: rounds x iterations calls per effort, at the batch size asked', async () => {
    const runtime = new ModelRuntime(family(), { intraOpThreads: 1 });
    try {
      const timings = await measureEfforts(runtime, [0, 6], { batch: 4, rounds: 3, iterations: 2, warmup: 0 });
      assert.deepEqual(
        timings.map((t) => [t.effort, t.batch, t.calls]),
        [
          [0, 4, 6],
          [6, 4, 6],
        ],
      );
      for (const t of timings) assert.ok(t.medianMs > 0 && t.p95Ms >= t.medianMs);
      await assert.rejects(
        measureEfforts(runtime, [0], { batch: 0, rounds: 1, iterations: 1 }),
        (e: unknown) => e instanceof ConfigError && /--batch/.test(e.message),
      );
    } finally {
      await runtime.close();
    }
  });

  it('reports progress after each warm-up and each turn, up to the total, in order', async () => {
    const runtime = new ModelRuntime(family(), { intraOpThreads: 1 });
    try {
      const seen: [number, number][] = [];
      await measureEfforts(runtime, [0, 1, 6], { batch: 1, rounds: 2, iterations: 1, warmup: 1, onProgress: (d, t) => seen.push([d, t]) });
      assert.deepEqual(
        seen,
        Array.from({ length: 9 }, (_, i) => [i + 1, 9]),
        '3 warm-ups + 2 rounds x 3 efforts',
      );
      const noWarmup: number[] = [];
      await measureEfforts(runtime, [0, 6], { batch: 1, rounds: 2, iterations: 1, warmup: 0, onProgress: (_, t) => noWarmup.push(t) });
      assert.deepEqual(noWarmup, [4, 4, 4, 4]);
    } finally {
      await runtime.close();
    }
  });

  it("roundOrders: every round runs every case once, each family's cases together, in orders that change the neighbours", () => {
    const families = ['a', 'a', 'a', 'b', 'b', 'b', 'c', 'c'];
    const orders = roundOrders(families, 12);
    for (const order of orders) {
      assert.deepEqual([...order].sort(), [0, 1, 2, 3, 4, 5, 6, 7]);
      // One run of cases per family: the family changes exactly twice.
      assert.equal(order.filter((k, i) => i > 0 && families[k] !== families[order[i - 1]!]).length, 2, `${order}`);
    }
    assert.deepEqual(roundOrders(families, 12), orders, 'seeded');
    for (let k = 0; k < families.length; k++) {
      const before = new Set(orders.map((o) => o[o.indexOf(k) - 1]));
      assert.ok(before.size > 2, `case ${k} ran after ${[...before].join(', ')} only`);
    }
    assert.ok(new Set(orders.map((o) => o[0])).size > 3, 'the first case changes');
  });

  it('turnCalls: a short call gets timed calls filling the minimum and an untimed lead-in; a long one the counted calls alone', () => {
    // 0.05 ms calls, 20 ms per turn: 400 timed calls after 40 untimed ones (2 ms).
    assert.deepEqual(turnCalls(0.05, 64, 20), { lead: 40, timed: 400 });
    // 0.3 ms: ceil(20 / 0.3) = 67 timed, floor(2 / 0.3) = 6 untimed.
    assert.deepEqual(turnCalls(0.3, 40, 20), { lead: 6, timed: 67 });
    // Already longer than the minimum with the counted calls: those, and no lead-in for a 50 ms call.
    assert.deepEqual(turnCalls(50, 1, 20), { lead: 0, timed: 1 });
    assert.deepEqual(turnCalls(0.1, 500, 20), { lead: 20, timed: 500 });
    // No warm-up estimate, or no minimum: the counted calls alone.
    assert.deepEqual(turnCalls(undefined, 7, 20), { lead: 0, timed: 7 });
    assert.deepEqual(turnCalls(0.05, 7, 0), { lead: 0, timed: 7 });
    // A clock that reads 0 for a tiny call: bounded (as if 0.01 ms).
    assert.deepEqual(turnCalls(0, 1, 20), { lead: 200, timed: 2000 });
  });

  it('measureCases with minTurnMs: iterations become a minimum, sized per case from the warm-up', async () => {
    const runtime = new ModelRuntime(family(), { intraOpThreads: 1 });
    try {
      const cases = [
        { effort: 0, batch: 1 },
        { effort: 6, batch: 1 },
      ];
      const timings = await measureCases(runtime, cases, { batch: 1, rounds: 2, iterations: 1, warmup: 2, minTurnMs: 5, clock: 'cpu' });
      // Calls of well under a millisecond (this family's, on the CPU clock): more than rounds x iterations = 2 timed calls.
      for (const t of timings) assert.ok(t.calls > 2 && t.roundMs.length === 2, `${t.effort}: ${t.calls} calls`);
      // Without the minimum (the default), exactly rounds x iterations.
      const plain = await measureCases(runtime, cases, { batch: 1, rounds: 2, iterations: 1, warmup: 2 });
      assert.deepEqual(
        plain.map((t) => t.calls),
        [2, 2],
      );
    } finally {
      await runtime.close();
    }
  });
});
