/**
 * pivot bench with device profiles, on the real shipped model and onnxruntime: --fit writes a
 * profile that loads back and predicts every effort; --hw with a profile reports predicted vs
 * measured per effort and for the deployed pair; --chart renders through vega-lite. Timing
 * settings are tiny: these check the bookkeeping, never the measured speed.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { benchChartSpec, benchTable, fitTable, parseBatches, runBench, runFit } from '../../src/bench/index.js';
import { ConfigError } from '../../src/errors.js';
import { isCpuDevice, loadHardware, resolveVit, simulateEfforts, writeChart } from '../../src/sim/index.js';
import { DEPLOY, MODEL_DIR } from '../runtime/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'pivot-profile-'));
const QUICK = { rounds: 1, iterations: 2 } as const;

describe('pivot bench --fit / --hw', () => {
  const file = join(dir, 'this-cpu.yaml');

  it('--fit writes a profile that loads back, with the fit, residuals, leave-one-out and the deployed pair', async () => {
    const report = await runFit({ deploy: DEPLOY, out: file, batches: [1, 2], powerW: 6, clock: 'cpu', ...QUICK });
    assert.equal(report.profile.clock, 'cpu');
    const loaded = loadHardware(file);
    assert.ok(isCpuDevice(loaded));
    assert.deepEqual(loaded, report.profile);
    assert.equal(loaded.name, 'this-cpu');
    assert.equal(loaded.power_w, 6);
    // The default calibration ladder: 7 probes, 18 graphs (every attention count of each) at 2 batch sizes, fitted with the model.
    assert.equal(report.ladder.length, 7);
    const ladderPoints = report.ladder.flatMap((l) => l.points);
    assert.equal(ladderPoints.length, 2 * 18);
    assert.equal(loaded.fit?.points, report.points.length + ladderPoints.length);
    assert.deepEqual(loaded.fit?.calibration, {
      ladder: 'default',
      probes: 7,
      points: 36,
      rms_error: Math.sqrt(ladderPoints.reduce((s, p) => s + p.error ** 2, 0) / 36),
      max_error: Math.max(...ladderPoints.map((p) => Math.abs(p.error))),
    });
    assert.deepEqual(
      report.cross_model.map((t) => [t.from, t.to, t.rows.length]),
      [['ladder', 'fmnist-vit', 7]],
      'the ladder alone predicts the model',
    );
    // 7 efforts and 2 extra masks for each of efforts 1..5, at 2 batch sizes; leave-one-out predicts the shipped efforts at batch 1.
    assert.equal(report.points.length, 2 * (7 + 10));
    assert.equal(report.points.filter((p) => p.mask !== undefined).length, 2 * 10);
    assert.deepEqual(
      report.leave_one_out.map((p) => p.effort),
      [0, 1, 2, 3, 4, 5, 6],
    );
    for (const p of report.points) assert.ok(Math.abs(p.predicted_ms / p.measured_ms - 1 - p.error) < 1e-12);
    assert.ok(report.pair && report.pair.low < report.pair.high);
    const costs = simulateEfforts(resolveVit(MODEL_DIR), loaded);
    assert.equal(report.pair.simulated.high_ms, costs.find((c) => c.effort === report.pair!.high)!.asHigh.delayMs);
    const text = fitTable(report);
    for (const word of ['gemm_mac', 'leave one effort out', 'deployed pair', 'calibration ladder', 't196-d384', 'the ladder alone'])
      assert.ok(text.includes(word), word);
  });

  it('--no-calibration fits the model alone and says so', async () => {
    const alone = join(dir, 'alone.yaml');
    const report = await runFit({ model: MODEL_DIR, out: alone, batches: [1, 2], masks: 0, calibration: false, ...QUICK });
    assert.deepEqual(report.ladder, []);
    assert.deepEqual(report.cross_model, []);
    assert.equal(report.settings.calibration, 'none');
    const loaded = loadHardware(alone);
    assert.ok(isCpuDevice(loaded));
    assert.equal(loaded.fit?.calibration, 'none');
    assert.equal(loaded.fit?.points, 14);
  });

  it('--hw with the profile: predicted vs measured ms and the error, per effort and for the pair; --chart renders it', async () => {
    const report = await runBench({ deploy: DEPLOY, hw: file, limit: 50, ...QUICK });
    assert.equal(report.hardware_kind, 'cpu');
    assert.equal(report.settings.batch, 1, "the profile's batch");
    assert.equal(report.settings.clock, 'cpu', "the profile's clock");
    for (const r of report.efforts.rows) assert.ok(Math.abs(r.simulated_ms / r.measured_ms - 1 - r.error) < 1e-12);
    assert.ok(report.pair && Math.abs(report.pair.simulated.pair_ms / report.pair.measured.pair_ms - 1 - report.pair.error) < 1e-12);
    assert.match(benchTable(report), /predicted ms\/img[\s\S]*pair error/);
    const svg = join(dir, 'bench.svg');
    await writeChart(svg, benchChartSpec(report));
    const text = readFileSync(svg, 'utf8');
    assert.match(text, /^<svg/);
    assert.ok(text.includes('measured') && text.includes('predicted (this-cpu)'));
    const png = join(dir, 'bench.png');
    await writeChart(png, benchChartSpec(report));
    assert.equal((await sharp(png).metadata()).format, 'png');
  });

  it('bad options are ConfigErrors naming them', async () => {
    assert.throws(
      () => parseBatches('1,0'),
      (e: unknown) => e instanceof ConfigError && /--fit-batches/.test(e.message),
    );
    assert.throws(() => parseBatches('2,2'), ConfigError);
    await assert.rejects(runFit({ model: MODEL_DIR, deploy: DEPLOY, out: file }), /--model or --deploy/);
    await assert.rejects(runFit({ model: MODEL_DIR, out: file, powerW: -1 }), /--power/);
    await assert.rejects(runBench({ model: MODEL_DIR, hw: file, hardware: 'zcu102' }), /same option/);
    await assert.rejects(runFit({ model: MODEL_DIR, out: file, clock: 'cpu', threads: 2 }), /--clock cpu: needs --threads 1/);
    await assert.rejects(runBench({ model: MODEL_DIR, clock: 'tsc' as 'cpu' }), /--clock: expected wall or cpu/);
    await assert.rejects(runFit({ model: [MODEL_DIR, MODEL_DIR], out: file }), /the same family twice/);
    const ladder = join(dir, 'ladder.yaml');
    writeFileSync(
      ladder,
      'probes:\n  - { name: x, image: 30, patch: 4, channels: 1, dim: 64, heads: 4, mlp_ratio: 2, depth: 1, classes: 10 }\n',
    );
    await assert.rejects(
      runFit({ model: MODEL_DIR, out: file, calibration: ladder }),
      (e: unknown) =>
        e instanceof ConfigError && /--calibration: .*ladder\.yaml: probes\.0\.patch: 4 does not divide image 30/.test(e.message),
    );
  });
});
