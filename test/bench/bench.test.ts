import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { sampleCorrelation, sampleRankCorrelation } from 'simple-statistics';
import { BENCH_NOTE, benchTable, defaultIterations, runBench, type BenchReport } from '../../src/bench/index.js';
import { evaluate, openCascade } from '../../src/cascade/index.js';
import { FASHION_MNIST_DIR, limitDataset, openDataset } from '../../src/data/index.js';
import { ConfigError, ModelLoadError } from '../../src/errors.js';
import { pairResult, loadHardware, resolveVit, simulateEfforts } from '../../src/sim/index.js';
import { DEPLOY, family, MODEL_DIR } from '../runtime/helpers.js';

// Tiny timing settings: the tests check the bookkeeping, never the measured speed.
const QUICK = { rounds: 2, iterations: 3, warmup: 1 } as const;
const LIMIT = 200;

describe('pivot bench (library)', () => {
  let report: BenchReport;
  before(async () => {
    report = await runBench({ deploy: DEPLOY, data: FASHION_MNIST_DIR, limit: LIMIT, ...QUICK });
  });

  it('measures every effort of the manifest once, as ratios to the full effort', () => {
    const efforts = family()
      .manifest.efforts.map((e) => e.effort)
      .sort((a, b) => a - b);
    assert.deepEqual(
      report.efforts.rows.map((r) => r.effort),
      efforts,
    );
    assert.equal(report.efforts.full_effort, Math.max(...efforts));
    const full = report.efforts.rows.find((r) => r.effort === report.efforts.full_effort)!;
    assert.equal(full.measured_ratio, 1);
    for (const r of report.efforts.rows) {
      assert.ok(Number.isFinite(r.measured_ms) && r.measured_ms > 0, `effort ${r.effort}: ${r.measured_ms}`);
      assert.ok(r.measured_p95_ms >= r.measured_ms, `effort ${r.effort}: p95 below the median`);
      assert.equal(r.measured_ratio, r.measured_ms / full.measured_ms);
      assert.deepEqual(r.active, family().effort(r.effort).active);
    }
    assert.deepEqual(report.settings, { batch: 1, threads: 1, rounds: QUICK.rounds, iterations: QUICK.iterations, clock: 'wall' });
  });

  it("simulated numbers are simulateEfforts' delays on the same preset, ratios consistent", () => {
    const costs = simulateEfforts(resolveVit(MODEL_DIR), loadHardware('zcu102'));
    const full = costs.find((c) => c.effort === report.efforts.full_effort)!.asHigh.delayMs;
    assert.equal(report.hardware, 'zcu102');
    for (const r of report.efforts.rows) {
      const cost = costs.find((c) => c.effort === r.effort)!;
      assert.equal(r.simulated_ms, cost.asHigh.delayMs);
      assert.equal(r.simulated_ratio, cost.asHigh.delayMs / full);
      assert.equal(r.ratio_of_ratios, r.measured_ratio / r.simulated_ratio);
    }
  });

  it('correlation is simple-statistics on the reported columns', () => {
    const measured = report.efforts.rows.map((r) => r.measured_ms);
    const simulated = report.efforts.rows.map((r) => r.simulated_ms);
    assert.equal(report.efforts.correlation.spearman, sampleRankCorrelation(measured, simulated));
    assert.equal(report.efforts.correlation.pearson, sampleCorrelation(measured, simulated));
  });

  it('pair delay: D_L + F_H*D_H from the reported numbers; F_L is what evaluate gives on the same images', async () => {
    const pair = report.pair!;
    assert.ok(pair, 'a deploy file gives a pair');
    const row = (e: number) => report.efforts.rows.find((r) => r.effort === e)!;
    assert.equal(pair.measured.low_ms, row(pair.low).measured_ms);
    assert.equal(pair.measured.high_ms, row(pair.high).measured_ms);
    assert.ok(Math.abs(pair.measured.pair_ms - (pair.measured.low_ms + pair.f_h * pair.measured.high_ms)) < 1e-12);
    assert.equal(pair.measured.ratio, pair.measured.pair_ms / row(report.efforts.full_effort).measured_ms);
    const costs = simulateEfforts(resolveVit(MODEL_DIR), loadHardware('zcu102'));
    const cost = (e: number) => costs.find((c) => c.effort === e)!;
    assert.equal(pair.simulated.pair_ms, pairResult(cost(pair.low).asLow, cost(pair.high).asHigh, pair.f_l).delayMs);
    assert.ok(Math.abs(pair.simulated.pair_ms - (pair.simulated.low_ms + pair.f_h * pair.simulated.high_ms)) < 1e-12);

    const { cascade, runtime, deployment } = await openCascade({ deploy: DEPLOY }, { intraOpThreads: 1 });
    try {
      const dataset = limitDataset(openDataset(FASHION_MNIST_DIR, deployment.family.manifest.labels), LIMIT);
      const summary = await evaluate(cascade, dataset);
      assert.equal(pair.f_l, summary.fraction_low);
      assert.equal(pair.images, LIMIT);
      assert.equal(pair.f_h, 1 - summary.fraction_low);
      assert.deepEqual([pair.low, pair.high, pair.threshold], [deployment.config.low, deployment.config.high, deployment.config.threshold]);
    } finally {
      await runtime.close();
    }
  });

  it('--model gives the per-effort comparison without a pair; a hw file changes the simulated side', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pivot-bench-'));
    try {
      const hwFile = join(dir, 'hw.yaml');
      writeFileSync(hwFile, 'extends: zcu102\nname: small-array\narray: { rows: 8, cols: 8 }\n');
      const r = await runBench({ model: MODEL_DIR, hardware: hwFile, batch: 50, rounds: 1, warmup: 0 });
      assert.equal(r.pair, null);
      assert.equal(r.settings.iterations, defaultIterations(50));
      assert.equal(r.hardware, 'small-array');
      const costs = simulateEfforts(resolveVit(MODEL_DIR), loadHardware(hwFile));
      assert.deepEqual(
        r.efforts.rows.map((x) => x.simulated_ms),
        costs.map((c) => c.asHigh.delayMs),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the readable output lists every effort, both correlations, the pair and the caveat', () => {
    const text = benchTable(report);
    for (const r of report.efforts.rows) assert.match(text, new RegExp(`│ ${r.effort} +│ ${r.active.join('')} │`));
    assert.match(text, /Spearman -?\d\.\d{3}, Pearson -?\d\.\d{3}/);
    assert.match(text, new RegExp(`F_L = ${report.pair!.f_l.toFixed(4)}`));
    assert.ok(text.includes(BENCH_NOTE));
  });

  it('bad inputs are typed errors naming the input', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'pivot-bench-empty-'));
    try {
      await assert.rejects(
        runBench({ hardware: 'no-such-hw', ...QUICK }),
        (e: unknown) => e instanceof ConfigError && /no-such-hw: no such file or preset/.test(e.message),
      );
      await assert.rejects(
        runBench({ model: empty, ...QUICK }),
        (e: unknown) => e instanceof ModelLoadError && e.message.includes(join(empty, 'manifest.json')),
      );
      await assert.rejects(
        runBench({ batch: 0, ...QUICK }),
        (e: unknown) => e instanceof ConfigError && /--batch: must be an integer >= 1, got 0/.test(e.message),
      );
      await assert.rejects(runBench({ model: MODEL_DIR, deploy: DEPLOY, ...QUICK }), ConfigError);
      await assert.rejects(runBench({ deploy: DEPLOY, data: join(empty, 'absent'), ...QUICK }), /absent: no such dataset directory/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
