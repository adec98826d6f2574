/** pivot search --max-drop end to end on the shipped model, its certificate re-derived independently, and pivot eval showing it. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadDeploy } from '../../../src/config/deploy.js';
import { FASHION_MNIST_DIR } from '../../../src/data/index.js';
import { loadModelFamily, ModelRuntime } from '../../../src/model/index.js';
import { drawBatch, lossCount, lossIndicators, predictEffort, thresholdGrid } from '../../../src/search/phase2/index.js';
import { binomialPValue } from '../../../src/stats/index.js';
import { runPivot, type CliRun } from '../../helpers/cli.js';
import { MODEL } from './test-logits.js';

const IMAGES = 1000;
const GUARANTEE = ['--model', MODEL, '--max-drop', '0.02', '--delta', '0.1', '--lec', '0.5', '--delay-ratio', '0.8', '--threads', '1'];

describe('pivot search --max-drop (real model, Fashion-MNIST test split)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pivot-guarantee-'));
  const out = join(dir, 'deploy.json');
  let run: CliRun;
  after(() => rmSync(dir, { recursive: true, force: true }));
  before(async () => {
    run = await runPivot(['search', ...GUARANTEE, '--images', String(IMAGES), '--compare-scores', '--json', '--out', out]);
  });

  it('writes the certified threshold and what certifies it', () => {
    assert.equal(run.code, 0, run.stderr);
    const json = JSON.parse(run.stdout);
    const g = json.guarantee;
    assert.equal(g.max_drop, 0.02);
    assert.equal(g.delta, 0.1);
    assert.equal(g.loss, 'labelled');
    assert.deepEqual(g.calibration, { source: FASHION_MNIST_DIR, split: 'test', images: IMAGES, seed: 1 });
    assert.equal(g.alpha_per_pair, 0.1 / g.pairs_tested);
    assert.ok(g.p_value_at_threshold <= g.alpha_per_pair);
    assert.ok(g.drop_bound <= 0.02);
    const { config } = loadDeploy(out);
    assert.deepEqual([config.low, config.high, config.threshold], [g.pair.low, g.pair.high, g.certified_threshold]);
    assert.deepEqual((config.metadata as { guarantee: unknown }).guarantee, g);
    const [lo, hi] = json.chosen.accuracy_ci;
    assert.ok(lo <= json.chosen.accuracy && json.chosen.accuracy <= hi);
    // --compare-scores: the chosen pair at its F_L, every score.
    const cmp = json.score_comparison;
    assert.deepEqual(cmp.pair, { low: g.pair.low, high: g.pair.high });
    assert.equal(cmp.fraction_low, json.chosen.fraction_low);
    assert.deepEqual(
      cmp.rows.map((r: { score: string }) => r.score),
      ['entropy', 'max_prob', 'margin'],
    );
    for (const r of cmp.rows) assert.ok(r.auroc > 0.5 && r.auroc < 1, `${r.score} AUROC ${r.auroc}`);
  });

  it('its certificate re-derived from the same calibration images: the loss count, the p-value, and the test that failed next', async () => {
    const g = JSON.parse(run.stdout).guarantee;
    const family = loadModelFamily(MODEL);
    const batch = await drawBatch({ data: FASHION_MNIST_DIR, split: 'test', images: IMAGES, seed: 1, manifest: family.manifest });
    const runtime = new ModelRuntime(family, { intraOpThreads: 1 });
    try {
      const low = await predictEffort(runtime, g.pair.low, batch);
      const high = await predictEffort(runtime, g.pair.high, batch);
      const indicators = lossIndicators(low, high, batch.labels, 'labelled');
      const k = lossCount(low, indicators, g.certified_threshold);
      assert.equal(k, g.losses);
      assert.equal(binomialPValue(k, IMAGES, 0.02), g.p_value_at_threshold);
      const grid = thresholdGrid(0.01);
      const next = grid[grid.indexOf(g.certified_threshold) + 1];
      if (next !== undefined)
        assert.ok(binomialPValue(lossCount(low, indicators, next), IMAGES, 0.02) > g.alpha_per_pair, 'the next threshold fails');
      for (const th of grid.filter((t) => t <= g.certified_threshold))
        assert.ok(binomialPValue(lossCount(low, indicators, th), IMAGES, 0.02) <= g.alpha_per_pair, `Th ${th} passes`);
    } finally {
      await runtime.close();
    }
  });

  it('pivot eval prints the guarantee, intervals, and says when the threshold in use is not covered', async () => {
    const evalRun = await runPivot(['eval', '--deploy', out, '--data', FASHION_MNIST_DIR, '--limit', '300', '--threads', '1']);
    assert.equal(evalRun.code, 0, evalRun.stderr);
    assert.match(evalRun.stdout, /accuracy \[95% CI\] +│ [\d.]+% \[[\d.]+, [\d.]+\]/);
    assert.match(evalRun.stdout, /guarantee \(labelled loss, 1000 calibration images .*\): with probability >= 90\.0% .* <= 2\.00%/);
    assert.match(evalRun.stdout, /this data contains those 1000 calibration images/);
    assert.doesNotMatch(evalRun.stdout, /NOT in force/);
    const over = await runPivot([
      'eval',
      '--deploy',
      out,
      '--data',
      FASHION_MNIST_DIR,
      '--limit',
      '64',
      '--threshold',
      '1',
      '--threads',
      '1',
      '--json',
    ]);
    assert.equal(over.code, 0, over.stderr);
    const summary = JSON.parse(over.stdout);
    assert.match(summary.guarantee, /NOT in force: it certifies \(\d,\d\) at Th <= [\d.]+, this runs \(\d,\d\) at Th 1/);
    assert.ok(summary.accuracy_ci[0] <= summary.accuracy && summary.accuracy <= summary.accuracy_ci[1]);
  });

  it('an eps no calibration of this size can certify fails with exit 2, the counts per constraint and the drop that could be certified', async () => {
    const miss = await runPivot(['search', ...GUARANTEE, '--max-drop', '0.001', '--images', '300', '--out', join(dir, 'never.json')]);
    assert.equal(miss.code, 2, miss.stderr);
    assert.match(
      miss.stderr,
      /no effort pair meets the guarantee, the LEC and the delay target: \d+ pair\(s\) have no threshold certified at a drop <= 0\.10%/,
    );
    assert.match(miss.stderr, /closest: \(\d,\d\) at Th [\d.]+ \(its LEC point\) certifies a drop <= [\d.]+%.*raise --max-drop/);
    assert.match(miss.stdout, /no certified Th/);
  });
});
