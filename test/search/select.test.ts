import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pathScore } from '../../src/search/phase1/path-score.js';
import { enumeratePaths, rankPaths, selectOptimalPaths } from '../../src/search/phase1/select.js';

// Hand-made depth-4 matrix (rows MLP_0..MLP_4, columns A_1..A_4). Attention 3 is very
// redundant after MLP_2, attention 1 is not redundant after the embedding.
const cka = [
  [0.1, 0.2, 0.3, 0.2],
  [0.5, 0.4, 0.3, 0.3],
  [0.3, 0.6, 0.9, 0.5],
  [0.2, 0.3, 0.7, 0.8],
  [0.1, 0.1, 0.1, 0.2],
];

describe('optimal path selection', () => {
  it('enumerates every C(D, k) path exactly once', () => {
    const paths = enumeratePaths(6, 3);
    assert.equal(paths.length, 20);
    assert.equal(new Set(paths.map((p) => p.join(''))).size, 20);
    assert.ok(paths.every((p) => p.reduce((a, b) => a + b, 0) === 3));
    assert.deepEqual(enumeratePaths(5, 0), [[0, 0, 0, 0, 0]]);
  });

  it('picks the maximum Path-Score path of each effort', () => {
    const chosen = selectOptimalPaths(cka);
    assert.deepEqual(
      chosen.map((c) => c.effort),
      [0, 1, 2, 3, 4],
    );
    // Effort 3: skipping attention 3 scores CKA[2][3] = 0.9, the best single skip.
    assert.deepEqual(chosen[3]!.active, [1, 1, 0, 1]);
    // Effort 2: skipping 3 and 4 after MLP_2 scores 0.9 + 0.5 = 1.4, beating every other pair.
    assert.deepEqual(chosen[2]!.active, [1, 1, 0, 0]);
    for (const c of chosen) {
      const best = Math.max(...enumeratePaths(4, c.effort).map((p) => pathScore(p, cka)));
      assert.equal(c.score, best);
      assert.equal(c.tieBroken, false);
    }
  });

  it('breaks ties by skipping the deeper attentions, and says so', () => {
    const flat = Array.from({ length: 5 }, () => [0.5, 0.5, 0.5, 0.5]);
    const chosen = selectOptimalPaths(flat);
    // With a flat matrix every effort-3 path skips one attention and scores 0.5.
    const ranked = rankPaths(flat, 3);
    assert.equal(ranked[0]!.score, ranked[1]!.score);
    assert.deepEqual(ranked[0]!.active, [1, 1, 1, 0]);
    assert.deepEqual(chosen[3]!.active, [1, 1, 1, 0]);
    assert.equal(chosen[3]!.tieBroken, true);
  });
});
