import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { FASHION_MNIST_DIR } from '../../src/data/index.js';
import { makeBadInputs, type BadInputs } from '../fixtures/bad-inputs/make.js';
import { MODEL_DIR, REFERENCE_PNG, ROOT } from './helpers.js';

const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');

/** Runs `pivot <args>` as a user would (through tsx), from a different working directory. */
async function pivot(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(TSX, [join(ROOT, 'src', 'cli', 'index.ts'), ...args], {
      cwd: tmpdir(),
      env: { ...process.env, PIVOT_LOG_LEVEL: 'warn' },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const jsonLines = (out: string) =>
  out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('pivot classify / eval (CLI)', () => {
  let dir: string;
  let bad: BadInputs;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pivot-cli-'));
    bad = await makeBadInputs(dir, REFERENCE_PNG);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('classify --json: one line per file in order, an error line per bad file, exit code 4', async () => {
    const emptyFolder = join(dir, 'no-images');
    mkdirSync(emptyFolder);
    const files = [
      REFERENCE_PNG,
      bad.refused.text,
      bad.accepted.cmyk,
      bad.refused.bomb,
      join(dir, 'missing.png'),
      bad.accepted.rgba,
      emptyFolder,
    ];
    const { code, stdout } = await pivot(['classify', ...files, '--json']);
    assert.equal(code, 4);
    const lines = jsonLines(stdout);
    assert.deepEqual(
      lines.map((l) => l.input),
      files,
    );
    for (const i of [0, 2, 5]) {
      const l = lines[i]!;
      assert.equal(l.error, undefined, JSON.stringify(l));
      assert.equal(typeof l.label, 'string');
      assert.ok(typeof l.class_index === 'number' && typeof l.entropy === 'number' && typeof l.effort === 'number');
      assert.equal(typeof l.escalated, 'boolean');
      assert.ok((l.latency_ms as Record<string, number>).low! >= 0);
    }
    assert.deepEqual(lines[1], {
      input: bad.refused.text,
      error: 'InputError',
      message: 'not a supported image (JPEG, PNG, WebP, TIFF, GIF, AVIF)',
    });
    assert.match(lines[3]!.message as string, /30000x30000/);
    assert.deepEqual(lines[4], { input: join(dir, 'missing.png'), error: 'InputError', message: 'no such file' });
    assert.deepEqual(lines[6], { input: emptyFolder, error: 'InputError', message: 'folder contains no images' });
  });

  it('classify a folder: table on stdout, summary on stderr, exit code 0', async () => {
    const folder = join(MODEL_DIR, 'samples', 'trouser');
    const { code, stdout, stderr } = await pivot(['classify', folder, '--batch', '16']);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /input.*label.*probability.*entropy.*effort.*escalated/);
    assert.ok(!stdout.includes('\u001b['), 'no colour codes when piped');
    assert.match(stderr, /^60 classified/m);
  });

  it('a broken deploy file is a config error (exit 2) that names it', async () => {
    const { code, stderr } = await pivot(['classify', REFERENCE_PNG, '--deploy', join(dir, 'nope.json')]);
    assert.equal(code, 2);
    assert.match(stderr, /nope\.json: no such file/);
  });

  it('eval --json on the bundled sample prints one object with the documented fields', async () => {
    const { code, stdout, stderr } = await pivot(['eval', '--json', '--limit', '120', '--threshold', '0.4']);
    assert.equal(code, 0, stderr);
    const summary = JSON.parse(stdout) as Record<string, number | string>;
    assert.equal(summary.count, 120);
    assert.equal(summary.policy, 'cascade');
    assert.equal(summary.threshold, 0.4);
    for (const key of ['accuracy', 'fraction_low', 'throughput', 'correct_low', 'correct_high', 'incorrect_low', 'incorrect_high'])
      assert.equal(typeof summary[key], 'number', key);
    const { correct_low, correct_high, incorrect_low, incorrect_high } = summary as Record<string, number>;
    assert.equal(correct_low! + correct_high! + incorrect_low! + incorrect_high!, 120);
  });

  it('eval reads Fashion-MNIST IDX files and rejects a bad option', {
    skip: !existsSync(FASHION_MNIST_DIR) && 'Fashion-MNIST IDX package not installed',
  }, async () => {
    const { code, stdout } = await pivot(['eval', '--json', '--data', FASHION_MNIST_DIR, '--limit', '300', '--policy', 'low']);
    assert.equal(code, 0);
    const summary = JSON.parse(stdout) as Record<string, number | string>;
    assert.equal(summary.count, 300);
    assert.equal(summary.fraction_low, 1);
    const badOption = await pivot(['eval', '--threshold', '2']);
    assert.notEqual(badOption.code, 0);
    assert.match(badOption.stderr, /'2' is not a number in \[0, 1\]/);
  });
});
