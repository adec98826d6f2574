/** Routing scores and --compare-scores on synthetic logits whose ordering is known by construction. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { predict, routingScore, type RoutingScore } from '../../../src/cascade/index.js';
import { accuracyAtFraction, compareScores, type EffortPredictions } from '../../../src/search/phase2/index.js';

const K = 10;
/** Logits of a softmax distribution: log p, with the mass not given spread evenly over the other classes. */
function logitsOf(top: number[], winner: number): number[] {
  const rest = (1 - top.reduce((a, b) => a + b, 0)) / (K - top.length);
  const p = Array.from({ length: K }, () => rest);
  for (const [j, v] of top.entries()) p[(winner + j) % K] = v;
  return p.map((v) => Math.log(Math.max(v, 1e-12)));
}

function predictionsOf(rows: number[][]): EffortPredictions {
  const flat = rows.flat();
  const preds = rows.map((_, r) => predict(flat, K, r));
  const score = (s: RoutingScore) => Float64Array.from(preds, (p, r) => routingScore(s, p, flat, K, r));
  return {
    classes: Int32Array.from(preds, (p) => p.classIndex),
    entropies: score('entropy'),
    scores: { max_prob: score('max_prob'), margin: score('margin') },
  };
}

describe('routing scores', () => {
  it('are uncertainties in [0, 1]: 0 for a sure answer, larger for a less sure one', () => {
    const flat = [...Array(K).fill(0), 50, ...Array(K - 1).fill(0)];
    const uniform = predict(flat, K, 0);
    const sure = predict(flat, K, 1);
    assert.equal(routingScore('entropy', uniform, flat, K, 0), 1);
    assert.ok(Math.abs(routingScore('max_prob', uniform, flat, K, 0) - 0.9) < 1e-12);
    assert.ok(Math.abs(routingScore('margin', uniform, flat, K, 0) - 1) < 1e-12);
    for (const s of ['entropy', 'max_prob', 'margin'] as const) assert.ok(routingScore(s, sure, flat, K, 1) < 1e-9, s);
    // p = (0.6, 0.3, 0.1/8 ...): max_prob 0.4, margin 1 - 0.3 = 0.7.
    const row = logitsOf([0.6, 0.3], 2);
    const p = predict(row, K, 0);
    assert.ok(Math.abs(routingScore('max_prob', p, row, K, 0) - 0.4) < 1e-9);
    assert.ok(Math.abs(routingScore('margin', p, row, K, 0) - 0.7) < 1e-9);
    const broken = [NaN, ...Array(K - 1).fill(0)];
    for (const s of ['entropy', 'max_prob', 'margin'] as const)
      assert.ok(Number.isNaN(routingScore(s, predict(broken, K, 0), broken, K, 0)), s);
  });
});

describe('--compare-scores', () => {
  // Right answers: p1 = 0.7, the rest spread (entropy 0.55, max_prob 0.30, margin 0.33).
  // Wrong, kind A: p = (0.55, 0.45): entropy 0.30, max_prob 0.45, margin 0.90.
  // Wrong, kind B: p = (0.72, 0.27): entropy 0.29, max_prob 0.28, margin 0.55.
  // So on "is the answer wrong", entropy ranks every wrong answer below every right one
  // (AUROC 0), max_prob gets kind A right and kind B wrong (0.5), margin gets both (1).
  const n = 400;
  const labels = new Int32Array(n);
  const kind = (i: number) => (i % 4 === 0 ? 'A' : i % 4 === 1 ? 'B' : 'right');
  const low = predictionsOf(
    Array.from({ length: n }, (_, i) =>
      kind(i) === 'A' ? logitsOf([0.55, 0.45], 1) : kind(i) === 'B' ? logitsOf([0.72, 0.27], 1) : logitsOf([0.7], 0),
    ),
  );
  const high = predictionsOf(Array.from({ length: n }, () => logitsOf([0.9], 0)));

  it('ranks the scores as constructed: margin > max_prob > entropy', () => {
    const c = compareScores(
      new Map([
        [0, low],
        [1, high],
      ]),
      labels,
      { low: 0, high: 1 },
      0.5,
      { rounds: 50 },
    );
    const row = Object.fromEntries(c.rows.map((r) => [r.score, r]));
    assert.equal(row.entropy!.auroc, 0);
    assert.equal(row.max_prob!.auroc, 0.5);
    assert.equal(row.margin!.auroc, 1);
    assert.ok(row.margin!.auroc_vs_entropy.lower > 0.9);
    // At F_L 0.5 (the 200 surest): margin answers only right ones; entropy answers all 200 wrong ones first.
    assert.equal(row.margin!.accuracy, 1);
    assert.equal(row.entropy!.accuracy, 0.5);
    assert.equal(row.max_prob!.accuracy, 0.75);
    assert.ok(row.margin!.accuracy_ci.lower < 1 && row.margin!.accuracy_ci.upper === 1);
    assert.deepEqual(
      c.by_effort.map((e) => e.effort),
      [0],
    );
    assert.equal(c.by_effort[0]!.accuracy, 0.5);
  });

  it('compares at exactly the same F_L', () => {
    // F_L 0 is the high effort alone; F_L 1 the low effort alone, whatever the score.
    for (const values of [low.entropies, low.scores!.margin!]) {
      assert.equal(accuracyAtFraction(low, high, labels, values, 0), 1);
      assert.equal(accuracyAtFraction(low, high, labels, values, 1), 0.5);
    }
  });
});
