/** pivot search end to end on the shipped models/fmnist-vit and the Fashion-MNIST IDX files. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Command, CommanderError } from 'commander';
import { promisify } from 'node:util';
import { Cascade, evaluate, openCascade } from '../../../src/cascade/index.js';
import { register } from '../../../src/cli/search.js';
import { loadDeploy } from '../../../src/config/deploy.js';
import { FASHION_MNIST_DIR } from '../../../src/data/index.js';
import { PivotError } from '../../../src/errors.js';
import { loadModelFamily } from '../../../src/model/index.js';
import { drawBatch, runSearch } from '../../../src/search/phase2/index.js';
import { pairAverage } from '../../../src/sim/index.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const MODEL = join(ROOT, 'models', 'fmnist-vit');
const run = promisify(execFile);
const cli = (args: string[]) =>
  run(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'index.ts'), 'search', ...args], { cwd: ROOT, maxBuffer: 16 << 20 });
const BASE = ['--model', MODEL, '--images', '64', '--lec', '0.8', '--threads', '1'];

interface CliFailure {
  code: number;
  stdout: string;
  stderr: string;
}

describe('pivot search (real model, real Fashion-MNIST)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pivot-search-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a deploy.json that loads, matches what it printed, and whose batch accuracy the real Cascade reproduces', async () => {
    const out = join(dir, 'deploy.json');
    const { stdout } = await cli([...BASE, '--delay-ratio', '0.7', '--out', out]);
    assert.match(stdout, /pair \(L,H\).*Th.*F_L.*accuracy.*delay ms.*meets\?/);
    assert.match(stdout, /\(5,6\)/, 'the first pair tried is the largest');
    assert.ok(stdout.includes(`wrote ${out}`));
    const printed = /chosen: low (\d+), high (\d+), threshold ([\d.]+): accuracy ([\d.]+)%/.exec(stdout);
    assert.ok(printed, stdout);
    const deployment = loadDeploy(out);
    const { config } = deployment;
    assert.equal(deployment.family.dir, MODEL);
    assert.deepEqual([config.low, config.high, config.threshold], [Number(printed[1]), Number(printed[2]), Number(printed[3])]);
    const meta = config.metadata as Record<string, any>;
    assert.equal(meta.chosen_by, 'pivot search');
    assert.deepEqual(meta.data, { source: FASHION_MNIST_DIR, split: 'train', images: 64, seed: 1 });
    assert.equal((meta.batch.accuracy * 100).toFixed(2), printed[4]);
    assert.ok(meta.pairs_tried.length >= 1 && meta.pairs_tried.at(-1).meets);
    assert.deepEqual(
      meta.pairs_tried.slice(0, 2).map((p: { low: number; high: number }) => [p.low, p.high]),
      [
        [5, 6],
        [4, 6],
      ].slice(0, meta.pairs_tried.length),
    );
    assert.equal(meta.delay.cost, 'sim');
    assert.equal(meta.delay.hardware, 'zcu102');
    assert.ok(meta.delay.predicted_ms <= meta.delay.target_ms * 1.05);
    assert.ok(meta.batch.fraction_low >= 0.8);

    // The same 64 images through the real Cascade with the chosen pair and threshold.
    const batch = await drawBatch({ data: FASHION_MNIST_DIR, split: 'train', images: 64, seed: 1, manifest: deployment.family.manifest });
    const { cascade, runtime } = await openCascade({ deploy: out }, { intraOpThreads: 1 });
    try {
      const summary = await evaluate(cascade, batch.dataset);
      assert.equal(summary.count, 64);
      assert.equal(summary.accuracy, meta.batch.accuracy);
      assert.equal(summary.fraction_low, meta.batch.fraction_low);
      assert.deepEqual(
        [summary.correct_low, summary.incorrect_low, summary.correct_high, summary.incorrect_high],
        [meta.batch.correct_low, meta.batch.incorrect_low, meta.batch.correct_high, meta.batch.incorrect_high],
      );
    } finally {
      await runtime.close();
    }
  });

  it('fails an impossible target with a typed error naming it, after showing what it tried', async () => {
    await assert.rejects(cli([...BASE, '--delay', '0.001', '--out', join(dir, 'never.json'), '--json']), (err: CliFailure) => {
      assert.equal(err.code, 2);
      assert.match(err.stderr, /DelayTarget|no effort pair meets the delay target 0\.0010 ms/);
      assert.match(err.stderr, /closest: \(\d,\d\)/);
      const printed = JSON.parse(err.stdout);
      assert.equal(printed.chosen, null);
      assert.equal(printed.pairs_tried.length, 21);
      assert.equal(printed.written, null);
      // The same settings block deploy.json's metadata records.
      assert.deepEqual(printed.delay, { target_ms: 0.001, delay_ms: 0.001, tolerance: 0.05, cost: 'sim', hardware: 'zcu102' });
      assert.deepEqual(printed.data, { source: FASHION_MNIST_DIR, split: 'train', images: 64, seed: 1 });
      return true;
    });
    assert.throws(() => readFileSync(join(dir, 'never.json')), /ENOENT/);
  });

  it("refuses bad options readably, with typed errors (exit code by class) or commander's usage errors", async () => {
    const parse = async (args: string[]) => {
      const program = new Command('pivot').exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
      register(program);
      await program.parseAsync(['node', 'pivot', 'search', ...args]);
    };
    const typed: [string[], number, RegExp][] = [
      [['--model', join(dir, 'nope'), '--lec', '0.8', '--delay', '1'], 3, /nope.*manifest\.json/],
      [[...BASE, '--delay', '1', '--data', join(dir, 'missing')], 4, /missing: no such directory/],
      [[...BASE, '--delay', '1', '--delay-ratio', '0.5'], 2, /one of --delay <ms> or --delay-ratio/],
      [[...BASE], 2, /one of --delay <ms> or --delay-ratio/],
      [[...BASE, '--delay', '1', '--hardware', 'nope'], 2, /nope: no such file or preset/],
      [[...BASE, '--delay', '1', '--cost', 'device', '--hardware', 'zcu102'], 2, /--hardware: applies to --cost sim only/],
      [[...BASE, '--delay', '1', '--out', join(ROOT, 'deploy', 'deploy.json')], 2, /--out: .*shipped deploy config/],
      // Ranges the library checks (the command only parses the number).
      [[...BASE, '--lec', '1.5', '--delay', '1'], 2, /--lec: 1\.5 is not a number in \[0, 1\] or auto/],
      [
        [...BASE, '--lec', 'auto', '--delay', '1', '--max-drop', '0.02', '--delta', '0.1'],
        2,
        /--lec auto sets thresholds by the delay target/,
      ],
      [[...BASE, '--delay', '1', '--step', '0'], 2, /--step: 0 is not a number in \(0, 1\]/],
      [[...BASE, '--delay', '-3'], 2, /--delay: -3 is not a positive number/],
      [['--model', MODEL, '--delay', '1'], 2, /--lec is required/],
      // The guarantee's options.
      [[...BASE, '--delay', '1', '--max-drop', '0.02'], 2, /--delta is required with --max-drop/],
      [[...BASE, '--delay', '1', '--delta', '0.1'], 2, /--delta: applies with --max-drop only/],
      [[...BASE, '--delay', '1', '--max-drop', '2', '--delta', '0.1'], 2, /--max-drop: 2 is not a fraction in \(0, 1\)/],
      [[...BASE, '--delay', '1', '--max-drop', '0.02', '--delta', '1'], 2, /--delta: 1 is not a number in \(0, 1\)/],
      [
        [...BASE, '--delay', '1', '--max-drop', '0.02', '--delta', '0.1', '--labels-free', '--loss', 'labelled'],
        2,
        /--labels-free and --loss labelled contradict/,
      ],
    ];
    for (const [args, code, message] of typed)
      await assert.rejects(parse(args), (err: PivotError) => {
        assert.ok(err instanceof PivotError, `${args.join(' ')}: ${err}`);
        assert.equal(err.exitCode, code, `${args.join(' ')}: ${err.message}`);
        assert.match(err.message, message);
        return true;
      });
    const usage: [string[], RegExp][] = [
      [[...BASE, '--lec', 'most', '--delay', '1'], /--lec.*'most' is not a number/],
      [[...BASE, '--delay', '1', '--cost', 'gpu'], /--cost.*gpu/],
      [[...BASE, '--delay', '1', '--max-drop', '0.02', '--delta', '0.1', '--p-value', 'chernoff'], /--p-value.*chernoff/],
    ];
    for (const [args, message] of usage)
      await assert.rejects(parse(args), (err: CommanderError) => {
        assert.ok(err instanceof CommanderError, `${args.join(' ')}: ${err}`);
        assert.match(err.message, message);
        return true;
      });
  });

  it('with --lec auto, picks the first pair whose low effort can meet the target, at the threshold the target pays for', async () => {
    const { stdout } = await cli([
      '--model',
      MODEL,
      '--images',
      '256',
      '--lec',
      'auto',
      '--delay-ratio',
      '0.6',
      '--tolerance',
      '0',
      '--threads',
      '1',
      '--json',
      '--out',
      join(dir, 'auto.json'),
    ]);
    const r = JSON.parse(stdout);
    assert.equal(r.lec, 'auto');
    const chosen = r.chosen;
    assert.ok(chosen.delay_ms <= r.delay.target_ms, 'meets the target without tolerance');
    const index = r.pairs_tried.findIndex((p: { meets: boolean }) => p.meets);
    assert.equal(index, r.pairs_tried.length - 1, 'the first pair that meets it wins');
    for (const p of r.pairs_tried.slice(0, -1)) assert.ok(p.delay_low_ms > r.delay.target_ms && p.threshold === null);
    // One grid step lower escalates more: the delay would miss the target (the threshold is the smallest that meets it).
    const batch = await drawBatch({
      data: FASHION_MNIST_DIR,
      split: 'train',
      images: 256,
      seed: 1,
      manifest: loadModelFamily(MODEL).manifest,
    });
    const { cascade, runtime } = await openCascade({ deploy: join(dir, 'auto.json') }, { intraOpThreads: 1 });
    try {
      const lower = await Cascade.create(runtime, {
        low: chosen.low,
        high: chosen.high,
        threshold: Number((chosen.threshold - 0.01).toFixed(2)),
      });
      const [at, below] = [await evaluate(cascade, batch.dataset), await evaluate(lower, batch.dataset)];
      assert.equal(at.fraction_low, chosen.fraction_low);
      assert.ok(pairAverage(chosen.delay_low_ms, chosen.delay_high_ms, below.fraction_low) > r.delay.target_ms);
    } finally {
      await runtime.close();
    }
    assert.equal((loadDeploy(join(dir, 'auto.json')).config.metadata as { lec: unknown }).lec, 'auto');
  });

  it('is seeded: the same seed draws the same images and finds the same result; another seed draws others', async () => {
    const manifest = loadModelFamily(MODEL).manifest;
    const draw = (seed: number) => drawBatch({ data: FASHION_MNIST_DIR, split: 'train', images: 64, seed, manifest });
    const [a, b, c] = await Promise.all([draw(7), draw(7), draw(8)]);
    assert.deepEqual(a.tensors, b.tensors);
    assert.deepEqual(a.labels, b.labels);
    assert.notDeepEqual(a.tensors, c.tensors);
    const search = () => runSearch({ model: MODEL, images: 64, seed: 7, lec: 0.8, delayRatio: 0.7, threads: 1 });
    const [first, second] = [await search(), await search()];
    assert.deepEqual(first.tried, second.tried);
    assert.equal(first.written, undefined, 'no --out, no file');
  });

  it('measures the efforts on this device with --cost device and combines them the same way', async () => {
    const r = await runSearch({ model: MODEL, images: 32, lec: 0.8, delayRatio: 10, cost: 'device', rounds: 3, threads: 1 });
    assert.equal(r.delays.source, 'device');
    assert.deepEqual([...r.delays.byEffort.keys()], [0, 1, 2, 3, 4, 5, 6]);
    for (const d of r.delays.byEffort.values()) assert.ok(d.asHigh > 0 && d.asLow === d.asHigh);
    const c = r.chosen!;
    assert.equal(c.delay_ms, pairAverage(c.delay_low_ms, c.delay_high_ms, c.point!.fraction_low));
    assert.equal(r.target.ms, 10 * r.delays.byEffort.get(6)!.asHigh);
  });
});
