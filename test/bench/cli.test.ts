import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { CSV_COLUMNS } from '../../src/bench/index.js';
import { FASHION_MNIST_DIR } from '../../src/data/index.js';
import { ROOT } from '../runtime/helpers.js';

const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');

async function pivot(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(TSX, [join(ROOT, 'src', 'cli', 'index.ts'), 'bench', ...args], { cwd: tmpdir() });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('pivot bench (CLI)', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'pivot-bench-cli-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('--json prints one object with the documented fields; --out writes the same rows as CSV', async () => {
    const csv = join(dir, 'efforts.csv');
    const quick = ['--rounds', '1', '--iterations', '2', '--data', FASHION_MNIST_DIR, '--limit', '64'];
    const { code, stdout, stderr } = await pivot([...quick, '--json', '--out', csv]);
    assert.equal(code, 0, stderr);
    const report = JSON.parse(stdout) as Record<string, any>;
    for (const key of ['model', 'model_dir', 'hardware', 'device', 'settings', 'efforts', 'pair', 'note']) assert.ok(key in report, key);
    assert.equal(report.model, 'fmnist-vit');
    assert.deepEqual(Object.keys(report.efforts).sort(), ['correlation', 'full_effort', 'rows']);
    assert.deepEqual(Object.keys(report.efforts.correlation).sort(), ['pearson', 'spearman']);
    const rows = report.efforts.rows as Record<string, unknown>[];
    for (const row of rows) for (const col of CSV_COLUMNS) assert.ok(col in row, col);
    for (const key of ['low', 'high', 'threshold', 'data', 'images', 'f_l', 'f_h', 'measured', 'simulated', 'ratio_of_ratios'])
      assert.ok(key in report.pair, key);
    assert.equal(report.pair.images, 64);

    const lines = readFileSync(csv, 'utf8').trim().split('\n');
    assert.equal(lines[0], CSV_COLUMNS.join(','));
    assert.equal(lines.length, rows.length + 1);
    lines.slice(1).forEach((line, i) => {
      const cells = line.split(',');
      const row = rows[i]!;
      assert.equal(Number(cells[0]), row.effort);
      assert.equal(cells[1], (row.active as number[]).join(''));
      assert.equal(Number(cells[2]), row.measured_ms);
      assert.equal(Number(cells[5]), row.simulated_ms);
    });
    assert.match(stderr, /wrote .*efforts\.csv/);
  });

  it('bad inputs exit with their error class code and name the input', async () => {
    // All three fail before any session loads, so they can run side by side.
    const [batch, hw, model] = await Promise.all([pivot(['--batch', '0']), pivot(['--hardware', 'no-such-hw']), pivot(['--model', dir])]);
    assert.equal(batch.code, 2);
    assert.match(batch.stderr, /--batch: must be an integer >= 1, got 0/);
    assert.equal(hw.code, 2);
    assert.match(hw.stderr, /no-such-hw: no such file or preset/);
    assert.equal(model.code, 3);
    assert.match(model.stderr, /manifest\.json: no such file/);
  });

  it('several --model families, --fit-masks, --clock, --min-turn and the calibration flags are refused where they do not apply (exit 2)', async () => {
    const [twice, masks, clock, noLadder, badLadder, minTurn, badTurn] = await Promise.all([
      pivot(['--model', dir, '--model', dir]),
      pivot(['--fit-masks', '1']),
      pivot(['--fit', join(dir, 'x.yaml'), '--clock', 'cpu', '--threads', '2']),
      pivot(['--no-calibration']),
      pivot(['--fit', join(dir, 'x.yaml'), '--calibration', join(dir, 'no-such-ladder.yaml')]),
      pivot(['--min-turn', '20']),
      pivot(['--fit', join(dir, 'x.yaml'), '--min-turn', '-1']),
    ]);
    assert.equal(minTurn.code, 2);
    assert.match(minTurn.stderr, /--min-turn.* go with --fit/);
    assert.equal(badTurn.code, 2);
    assert.match(badTurn.stderr, /--min-turn: must be an integer >= 0, got -1/);
    assert.equal(noLadder.code, 2);
    assert.match(noLadder.stderr, /--calibration, --no-calibration .* go with --fit/);
    assert.equal(badLadder.code, 2);
    assert.match(badLadder.stderr, /--calibration: .*no-such-ladder\.yaml: no such file/);
    assert.equal(twice.code, 2);
    assert.match(twice.stderr, /--model: give it once/);
    assert.equal(masks.code, 2);
    assert.match(masks.stderr, /--fit-masks.* go with --fit/);
    assert.equal(clock.code, 2);
    assert.match(clock.stderr, /--clock cpu: needs --threads 1/);
  });
});
