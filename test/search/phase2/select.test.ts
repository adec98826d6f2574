import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '../../../src/errors.js';
import {
  pairOrder,
  resolveTarget,
  selectPair,
  simDelays,
  thresholdGrid,
  type EffortDelays,
  type EffortPredictions,
} from '../../../src/search/phase2/index.js';
import { pairAverage, pairResult, loadHardware, resolveVit, simulateEfforts } from '../../../src/sim/index.js';

const MODEL = join(import.meta.dirname, '..', '..', '..', 'models', 'fmnist-vit');
const EFFORTS = [0, 1, 2, 3, 4, 5, 6];

describe('pair order', () => {
  it('starts from the most active efforts and never grows', () => {
    const order = pairOrder(EFFORTS);
    assert.equal(order.length, 21);
    assert.deepEqual(order.slice(0, 4), [
      { low: 5, high: 6 },
      { low: 4, high: 6 },
      { low: 3, high: 6 },
      { low: 4, high: 5 },
    ]);
    assert.deepEqual(order.at(-1), { low: 0, high: 1 });
    for (const [i, p] of order.entries()) {
      assert.ok(p.low < p.high);
      if (i) assert.ok(p.low + p.high <= order[i - 1]!.low + order[i - 1]!.high, `(${p.low},${p.high}) is larger than the pair before it`);
    }
    assert.equal(new Set(order.map((p) => `${p.low},${p.high}`)).size, 21);
  });

  it('works on any set of effort numbers (the paper: 9 and 12 before 6 and 9)', () => {
    const order = pairOrder([12, 6, 9, 3]);
    assert.deepEqual(order[0], { low: 9, high: 12 });
    assert.ok(order.findIndex((p) => p.low === 9 && p.high === 12) < order.findIndex((p) => p.low === 6 && p.high === 9));
  });
});

/** Every effort perfectly sure and right, except that low efforts (< 4) are unsure on every other image. */
function predictions(n: number): Map<number, EffortPredictions> {
  return new Map(
    EFFORTS.map((e) => [
      e,
      { classes: new Int32Array(n), entropies: Float64Array.from({ length: n }, (_, i) => (e < 4 && i % 2 ? 0.9 : 0.01)) },
    ]),
  );
}

describe('pair selection on PIVOT-Sim delays', () => {
  const delays = simDelays(MODEL, 'zcu102', EFFORTS);
  const labels = new Int32Array(10);
  const grid = thresholdGrid(0.01);

  it("charges D = D_L + F_H * D_H, PIVOT-Sim's pair delay with the low effort simulated with entropy", () => {
    const costs = simulateEfforts(resolveVit(MODEL), loadHardware('zcu102'));
    const target = resolveTarget({ delayRatio: 10, tolerance: 0 }, delays);
    const order = pairOrder(EFFORTS);
    const { tried, chosen } = selectPair(order, predictions(10), labels, delays, 0.5, grid, target);
    assert.equal(tried.length, 1, 'a generous target is met by the first pair');
    assert.equal(chosen, tried[0]);
    for (const t of tried) {
      const fl = t.point!.fraction_low;
      const sim = pairResult(costs[t.low]!.asLow, costs[t.high]!.asHigh, fl);
      assert.ok(Math.abs(t.delay_ms! - sim.delayMs) < 1e-12);
      assert.ok(Math.abs(t.delay_ms! - (t.delay_low_ms + (1 - fl) * t.delay_high_ms)) < 1e-12);
      assert.ok(costs[t.low]!.asLow.delayMs > costs[t.low]!.asHigh.delayMs, 'the low effort pays for the entropy');
    }
  });

  it('stops at the first pair within tolerance of the target', () => {
    const order = pairOrder(EFFORTS);
    const full = delays.byEffort.get(6)!.asHigh;
    const target = resolveTarget({ delayRatio: 0.7, tolerance: 0.05 }, delays);
    assert.equal(target.ms, 0.7 * full);
    const { tried, chosen } = selectPair(order, predictions(10), labels, delays, 0.8, grid, target);
    assert.ok(chosen);
    assert.equal(chosen, tried.at(-1));
    assert.ok(chosen.delay_ms! <= target.ms * 1.05);
    for (const t of tried.slice(0, -1)) assert.ok(t.delay_ms! > target.ms * 1.05 && !t.meets);
    assert.deepEqual(
      tried.map(({ low, high }) => ({ low, high })),
      order.slice(0, tried.length),
    );
  });

  it('pick "accurate" tries every pair and keeps the most accurate that meets the target (earliest on a tie)', () => {
    // Efforts 5 and 4 are confidently wrong on some images (never escalated); the others are right.
    const preds = predictions(10);
    for (const [effort, wrong] of [
      [5, 3],
      [4, 1],
    ] as const)
      for (let i = 0; i < wrong; i++) preds.get(effort)!.classes[i] = 1;
    const target = resolveTarget({ delayRatio: 10, tolerance: 0 }, delays);
    const first = selectPair(pairOrder(EFFORTS), preds, labels, delays, 0.5, grid, target, 'first');
    assert.deepEqual([first.chosen!.low, first.chosen!.high], [5, 6]);
    assert.equal(first.chosen!.point!.accuracy, 0.7);
    const accurate = selectPair(pairOrder(EFFORTS), preds, labels, delays, 0.5, grid, target, 'accurate');
    assert.equal(accurate.tried.length, 21);
    const best = Math.max(...accurate.tried.filter((t) => t.meets).map((t) => t.point!.accuracy));
    assert.equal(accurate.chosen!.point!.accuracy, best);
    assert.deepEqual([accurate.chosen!.low, accurate.chosen!.high], [3, 6], 'the first pair in order with the best accuracy');
  });

  it('with no pair fast enough, tries them all and names the fastest as the closest', () => {
    const target = resolveTarget({ delay: 1e-6, tolerance: 0.05 }, delays);
    const { tried, chosen, closest } = selectPair(pairOrder(EFFORTS), predictions(10), labels, delays, 0.8, grid, target);
    assert.equal(chosen, undefined);
    assert.equal(tried.length, 21);
    assert.equal(closest!.delay_ms, Math.min(...tried.map((t) => t.delay_ms!)));
  });

  it('with LEC auto, gives each pair the smallest threshold whose delay meets the target, and skips pairs whose low effort alone misses it', () => {
    // Graded uncertainty: image i has E = (i + 0.5) / n in every effort, so F_L grows with Th in steps of 1/n.
    const n = 100;
    const graded = new Map(
      EFFORTS.map((e) => [e, { classes: new Int32Array(n), entropies: Float64Array.from({ length: n }, (_, i) => (i + 0.5) / n) }]),
    );
    const target = resolveTarget({ delayRatio: 0.6, tolerance: 0 }, delays);
    const { tried, chosen } = selectPair(pairOrder(EFFORTS), graded, new Int32Array(n), delays, 'auto', grid, target, 'accurate');
    assert.equal(tried.length, 21);
    const delayAt = (t: (typeof tried)[number], th: number) =>
      pairAverage(t.delay_low_ms, t.delay_high_ms, graded.get(t.low)!.entropies.filter((e) => e <= th).length / n);
    let reachable = 0;
    for (const t of tried) {
      if (t.delay_low_ms > target.ms) {
        assert.equal(t.point, undefined, `(${t.low},${t.high}): its low effort alone misses the target`);
        assert.equal(t.meets, false);
        continue;
      }
      reachable++;
      const th = t.point!.threshold;
      assert.ok(t.meets && t.delay_ms! <= target.ms, `(${t.low},${t.high}) at Th ${th}`);
      if (th > 0) assert.ok(delayAt(t, Number((th - 0.01).toFixed(2))) > target.ms, `(${t.low},${t.high}): Th ${th} is not the smallest`);
    }
    assert.ok(reachable > 0 && reachable < 21, 'the target splits the pairs');
    assert.ok(chosen?.meets);
  });

  it('refuses targets given twice, not at all, or not positive', () => {
    const d: EffortDelays = delays;
    for (const opts of [
      { tolerance: 0.05 },
      { delay: 1, delayRatio: 0.5, tolerance: 0.05 },
      { delay: 0, tolerance: 0.05 },
      { delayRatio: -1, tolerance: 0.05 },
      { delay: 1, tolerance: -1 },
    ])
      assert.throws(() => resolveTarget(opts, d), ConfigError);
  });
});
