/**
 * The `pretest` check of the Debian packages the tests use: silent when all are there; with some
 * missing and no way to install them (no apt-get here), one message naming them and the command.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../runtime/helpers.js';

const SCRIPT = join(ROOT, 'scripts', 'check-system-packages.sh');
const run = (env: NodeJS.ProcessEnv = {}) => spawnSync('/bin/sh', [SCRIPT], { env: { ...process.env, ...env }, encoding: 'utf8' });

test('passes silently on this machine, which has the packages', () => {
  const result = run();
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stderr, '');
});

test('names only the missing packages and the command to install them, in one line, and fails', () => {
  const root = mkdtempSync(join(tmpdir(), 'pivot-sysroot-'));
  try {
    // A system with Mosquitto, the dataset and PyTorch but no mosquitto_sub or ffmpeg, and no apt-get on PATH.
    mkdirSync(join(root, 'usr', 'sbin'), { recursive: true });
    mkdirSync(join(root, 'usr', 'share', 'datasets', 'fashion-mnist'), { recursive: true });
    for (const pkg of ['torch', 'torchvision']) mkdirSync(join(root, 'usr', 'lib', 'python3', 'dist-packages', pkg), { recursive: true });
    writeFileSync(join(root, 'usr', 'sbin', 'mosquitto'), '', { mode: 0o755 });
    const bin = join(root, 'bin');
    mkdirSync(bin);
    symlinkSync('/usr/bin/id', join(bin, 'id'));
    const result = run({ PIVOT_SYSTEM_ROOT: root, PATH: bin });
    assert.equal(result.status, 1);
    assert.equal(result.stdout, '');
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    assert.match(
      result.stderr,
      /needs the Debian packages mosquitto-clients ffmpeg; install them with: sudo apt-get install mosquitto-clients ffmpeg/,
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
