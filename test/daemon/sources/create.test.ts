import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { validateDaemonConfig } from '../../../src/daemon/config.js';
import { CameraSource, createSource, DirectorySource, SnapshotSource } from '../../../src/daemon/sources/index.js';
import { ConfigError } from '../../../src/errors.js';
import { silentLogger } from '../../helpers/log.js';

describe('createSource', () => {
  it('builds each configured source without touching the disk or network', () => {
    const { config } = validateDaemonConfig(
      {
        sources: [
          { name: 'inbox', type: 'directory', path: 'never-created' },
          { name: 'cam', type: 'camera', input: '/dev/video0', format: 'v4l2' },
          { name: 'porch', type: 'snapshot', url: 'http://u:p@127.0.0.1:9/snap.jpg' },
        ],
      },
      join(tmpdir(), 'pivot-create-test', 'pivot.yaml'),
    );
    const [dir, cam, snap] = config.sources.map((s) => createSource(s, silentLogger()));
    assert.ok(dir instanceof DirectorySource && dir.name === 'inbox' && dir.type === 'directory');
    assert.ok(cam instanceof CameraSource && cam.name === 'cam' && cam.type === 'camera');
    assert.ok(snap instanceof SnapshotSource && snap.name === 'porch' && snap.type === 'snapshot');
    assert.deepEqual(cam.ffmpegArgs().slice(-14), [
      '-f',
      'v4l2',
      '-i',
      '/dev/video0',
      '-an',
      '-vf',
      'fps=1',
      '-f',
      'image2pipe',
      '-vcodec',
      'mjpeg',
      '-q:v',
      '3',
      '-',
    ]);
    for (const source of [dir, cam, snap]) assert.deepEqual(source!.stats(), { produced: 0, dropped: 0, errors: 0 });
  });

  it('refuses a done_dir that is the watched folder', async () => {
    const root = mkdtempSync(join(tmpdir(), 'pivot-create-'));
    try {
      const { config } = validateDaemonConfig(
        { sources: [{ name: 'inbox', type: 'directory', path: 'in', done_dir: '.' }] },
        join(root, 'in', 'pivot.yaml'),
      );
      await assert.rejects(
        createSource(config.sources[0]!, silentLogger()).start(),
        (err: unknown) => err instanceof ConfigError && /done_dir/.test(err.message),
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
