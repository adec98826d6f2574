import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { pathScore } from '../../src/search/phase1/path-score.js';
import { PathsFileSchema } from '../../src/search/phase1/schema.js';
import { rankPaths } from '../../src/search/phase1/select.js';

const run = promisify(execFile);
const MODEL = 'models/fmnist-vit';
const SAMPLES = 'models/fmnist-vit/samples';
const cli = (args: string[]) =>
  run(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'paths', ...args], {
    env: { ...process.env, PIVOT_LOG_LEVEL: 'warn' },
    maxBuffer: 16 << 20,
  });

describe('pivot paths (end to end on the bundled samples)', () => {
  const out = mkdtempSync(join(tmpdir(), 'pivot-paths-'));
  after(() => rmSync(out, { recursive: true, force: true }));

  it('writes a valid paths.json, cka.svg and cka.png', async () => {
    const { stdout } = await cli([
      '--model',
      MODEL,
      '--data',
      SAMPLES,
      '--images',
      '64',
      '--out',
      out,
      '--random-paths',
      '5',
      '--eval-images',
      '100',
      '--threads',
      '1',
      '--json',
    ]);
    const written = PathsFileSchema.parse(JSON.parse(readFileSync(join(out, 'paths.json'), 'utf8')));
    assert.deepEqual(JSON.parse(stdout), written);
    const depth = written.cka.cols.length;
    assert.equal(written.images, 64);
    assert.equal(written.cka.values.length, depth + 1);
    assert.deepEqual(
      written.efforts.map((e) => e.effort),
      Array.from({ length: depth + 1 }, (_, k) => k),
    );
    for (const e of written.efforts) {
      assert.equal(
        e.active.reduce<number>((a, b) => a + b, 0),
        e.effort,
      );
      assert.ok(Math.abs(e.score - pathScore(e.active, written.cka.values)) < 1e-12);
      assert.ok(Math.abs(e.score - rankPaths(written.cka.values, e.effort)[0]!.score) < 1e-12, 'not the best path');
    }
    const rp = written.random_paths!;
    assert.equal(rp.effort, Math.floor(depth / 2));
    assert.equal(rp.images, 100);
    assert.equal(rp.paths.length, 5);
    assert.equal(new Set(rp.paths.map((p) => p.active.join(''))).size, 5, 'random paths must be distinct');
    assert.ok(readFileSync(join(out, 'cka.svg'), 'utf8').includes('MLP_0'));
    assert.deepEqual([...readFileSync(join(out, 'cka.png')).subarray(1, 4)], [...Buffer.from('PNG')]);
  });

  it('a run without --random-paths keeps the earlier random-path check in the same file, re-scored on the new CKA', async () => {
    const before = PathsFileSchema.parse(JSON.parse(readFileSync(join(out, 'paths.json'), 'utf8')));
    await cli(['--model', MODEL, '--data', SAMPLES, '--images', '32', '--out', out, '--threads', '1', '--json']);
    const after = PathsFileSchema.parse(JSON.parse(readFileSync(join(out, 'paths.json'), 'utf8')));
    assert.equal(after.images, 32);
    const [was, kept] = [before.random_paths!, after.random_paths!];
    assert.deepEqual({ ...kept, paths: undefined, spearman: undefined }, { ...was, paths: undefined, spearman: undefined });
    assert.deepEqual(
      kept.paths.map((p) => [p.active, p.accuracy]),
      was.paths.map((p) => [p.active, p.accuracy]),
    );
    for (const p of kept.paths) assert.ok(Math.abs(p.score - pathScore(p.active, after.cka.values)) < 1e-12, 'score from the new CKA');
  });

  it('names the bad input and exits with its error class code', async () => {
    await assert.rejects(cli(['--model', join(out, 'nope')]), (err: { code: number; stderr: string }) => {
      assert.equal(err.code, 3);
      assert.match(err.stderr, /nope.*manifest\.json.*no such file/);
      return true;
    });
    await assert.rejects(
      cli(['--model', MODEL, '--data', SAMPLES, '--random-paths', '3', '--random-effort', '99', '--out', out]),
      (err: { code: number; stderr: string }) => {
        assert.equal(err.code, 2);
        assert.match(err.stderr, /--random-effort: 99/);
        return true;
      },
    );
  });
});
