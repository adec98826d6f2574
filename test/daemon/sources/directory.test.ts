import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { DirectorySourceSchema, type DirectorySourceConfig } from '../../../src/daemon/config.js';
import { DirectorySource } from '../../../src/daemon/sources/index.js';
import type { Frame } from '../../../src/daemon/types.js';
import { ConfigError } from '../../../src/errors.js';
import { silentLogger } from '../../helpers/log.js';
import { waitFor } from '../../helpers/wait.js';
import { within } from './helpers.js';

/** Short enough for a quick test, long compared with the pauses the tests make mid-write. */
const STABILITY_MS = 400;

let root: string;
let png: Buffer;

function config(path: string, extra: Partial<DirectorySourceConfig> = {}): DirectorySourceConfig {
  return DirectorySourceSchema.parse({ name: 'inbox', type: 'directory', path, ...extra });
}

function source(path: string, extra: Partial<DirectorySourceConfig> = {}, stabilityMs = STABILITY_MS): DirectorySource {
  return new DirectorySource(config(path, extra), silentLogger(), { stabilityMs, pollMs: 25 });
}

let dirCount = 0;
function freshDir(): string {
  const dir = join(root, `inbox-${++dirCount}`);
  mkdirSync(dir);
  return dir;
}

/** Takes until `count` frames arrived (each take may return several). */
async function takeAll(src: DirectorySource, count: number): Promise<Frame[]> {
  const frames: Frame[] = [];
  const signal = within(15_000);
  while (frames.length < count) {
    const got = await src.take(count - frames.length, signal);
    if (!got.length) throw new Error(`got ${frames.length} of ${count} frames`);
    frames.push(...got);
  }
  return frames;
}

/** Asserts nothing more is handed out within a few stability periods. */
async function assertNothingMore(src: DirectorySource): Promise<void> {
  const more = await src.take(10, within(STABILITY_MS * 4));
  assert.deepEqual(
    more.map((f) => f.name),
    [],
  );
}

describe('directory source', () => {
  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'pivot-dir-source-'));
    png = await sharp({ create: { width: 32, height: 24, channels: 3, background: { r: 200, g: 30, b: 90 } } })
      .png()
      .toBuffer();
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('takes files already there (oldest first) and files dropped later, each exactly once', async () => {
    const dir = freshDir();
    writeFileSync(join(dir, 'a-newer.png'), png);
    writeFileSync(join(dir, 'z-older.png'), png);
    utimesSync(join(dir, 'a-newer.png'), new Date('2021-01-01'), new Date('2021-01-01'));
    utimesSync(join(dir, 'z-older.png'), new Date('2020-01-01'), new Date('2020-01-01'));
    const src = source(dir);
    await src.start();
    try {
      await waitFor(() => src.backlog() === 2, 'the two existing files');
      const first = await src.take(10, within(5000));
      assert.deepEqual(
        first.map((f) => basename(f.name)),
        ['z-older.png', 'a-newer.png'],
      );
      assert.equal(first[0]!.capturedAt.toISOString(), '2020-01-01T00:00:00.000Z');
      assert.equal(first[0]!.image, join(dir, 'z-older.png'));
      assert.equal(first[0]!.id, join(dir, 'z-older.png'));
      assert.equal(first[0]!.source, 'inbox');

      writeFileSync(join(dir, 'c.jpg'), png);
      writeFileSync(join(dir, 'd.JPEG'), png);
      const later = await takeAll(src, 2);
      assert.deepEqual(later.map((f) => basename(f.name)).sort(), ['c.jpg', 'd.JPEG']);
      await assertNothingMore(src);
      assert.equal(src.stats().produced, 4);
      assert.equal(src.stats().errors, 0);
    } finally {
      await src.stop();
    }
  });

  it('with poll: true (network mounts, no inotify) still takes existing and dropped files', async () => {
    const dir = freshDir();
    writeFileSync(join(dir, 'before.png'), png);
    const src = source(dir, { poll: true });
    await src.start();
    try {
      writeFileSync(join(dir, 'after.png'), png);
      const frames = await takeAll(src, 2);
      assert.deepEqual(frames.map((f) => basename(f.name)).sort(), ['after.png', 'before.png']);
    } finally {
      await src.stop();
    }
  });

  it('hands out a burst of files in batches, each once', async () => {
    const dir = freshDir();
    const src = source(dir);
    await src.start();
    try {
      const names = Array.from({ length: 60 }, (_, i) => `burst-${String(i).padStart(2, '0')}.jpg`);
      for (const name of names) writeFileSync(join(dir, name), png);
      const frames: Frame[] = [];
      while (frames.length < names.length) {
        const batch = await src.take(8, within(15_000));
        assert.ok(batch.length > 0 && batch.length <= 8, `batch of ${batch.length}`);
        frames.push(...batch);
        await Promise.all(batch.map((f) => f.settle({ ok: true })));
      }
      assert.deepEqual(frames.map((f) => basename(f.name)).sort(), names);
      await assertNothingMore(src);
      assert.deepEqual(readdirSync(join(dir, '.done')).sort(), names);
    } finally {
      await src.stop();
    }
  });

  it('settle ok moves into done_dir without overwriting; settle failed moves to failed_dir with the reason', async () => {
    const dir = freshDir();
    const done = join(dir, '.done');
    mkdirSync(done);
    writeFileSync(join(done, 'clash.png'), 'an earlier file of the same name');
    writeFileSync(join(dir, 'clash.png'), png);
    writeFileSync(join(dir, 'broken.png'), png);
    const src = source(dir);
    await src.start();
    try {
      const frames = await takeAll(src, 2);
      const byName = new Map(frames.map((f) => [basename(f.name), f]));
      await byName.get('clash.png')!.settle({ ok: true });
      await byName.get('broken.png')!.settle({ ok: false, reason: 'unsupported image: truncated PNG' });

      assert.equal(existsSync(join(dir, 'clash.png')), false);
      assert.equal(readFileSync(join(done, 'clash.png'), 'utf8'), 'an earlier file of the same name');
      assert.deepEqual(readFileSync(join(done, 'clash-1.png')), png);
      assert.equal(existsSync(join(dir, 'broken.png')), false);
      assert.deepEqual(readFileSync(join(dir, '.failed', 'broken.png')), png);
      assert.match(readFileSync(join(dir, '.failed', 'broken.png.error.txt'), 'utf8'), /unsupported image: truncated PNG/);
      // The moved files are not picked up again from done/failed.
      await assertNothingMore(src);
      assert.equal(src.stats().errors, 0);
    } finally {
      await src.stop();
    }
  });

  it('settle ok with after: delete deletes the file; custom done/failed dirs are created', async () => {
    const dir = freshDir();
    const failed = join(root, `failed-${dirCount}`, 'nested');
    writeFileSync(join(dir, 'one.webp'), png);
    writeFileSync(join(dir, 'two.webp'), png);
    const src = source(dir, { after: 'delete', failed_dir: failed });
    await src.start();
    try {
      const [one, two] = (await takeAll(src, 2)).sort((a, b) => a.name.localeCompare(b.name));
      await one!.settle({ ok: true });
      await two!.settle({ ok: false, reason: 'bad' });
      await two!.settle({ ok: true }); // a second settle is ignored
      assert.deepEqual(readdirSync(dir), []);
      assert.deepEqual(readdirSync(failed).sort(), ['two.webp', 'two.webp.error.txt']);
    } finally {
      await src.stop();
    }
  });

  it('does not take a file while it is still being written, and takes it once', async () => {
    const dir = freshDir();
    const big = await sharp({
      create: { width: 256, height: 256, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 40 } },
    })
      .png()
      .toBuffer();
    const stabilityMs = 1500;
    const src = source(dir, {}, stabilityMs);
    await src.start();
    try {
      // Read the file the moment it is handed out, as the pipeline would.
      const taking = src.take(1, within(20_000)).then((frames) => frames.map((f) => readFileSync(f.image as string)));
      const file = await open(join(dir, 'slow-copy.png'), 'w');
      const half = Math.floor(big.length / 2);
      await file.write(big, 0, half);
      await sleep(stabilityMs / 6); // a pause mid-copy, well below the stability time
      await file.write(big, half, big.length - half);
      await file.close();
      const [bytes] = await taking;
      assert.ok(bytes, 'the file was taken');
      assert.equal(bytes.length, big.length);
      assert.deepEqual(bytes, big);
      const meta = await sharp(bytes).metadata();
      assert.equal(meta.width, 256);
      // Handed out once: the events of the second write do not make it a new file.
      await assertNothingMore(src);
      assert.equal(src.stats().produced, 1);
    } finally {
      await src.stop();
    }
  });

  it('forgets a file deleted before it settled; ignores a done_dir inside the folder', async () => {
    const dir = freshDir();
    const src = source(dir, { done_dir: join(dir, 'processed') });
    await src.start();
    try {
      writeFileSync(join(dir, 'short-lived.png'), png);
      writeFileSync(join(dir, 'kept.png'), png);
      rmSync(join(dir, 'short-lived.png'));
      const [kept] = await takeAll(src, 1);
      assert.equal(basename(kept!.name), 'kept.png');
      await kept!.settle({ ok: true });
      assert.deepEqual(readdirSync(join(dir, 'processed')), ['kept.png']);
      await assertNothingMore(src);
      assert.equal(src.stats().produced, 1);
    } finally {
      await src.stop();
    }
  });

  it('re-takes unsettled files after a restart', async () => {
    const dir = freshDir();
    writeFileSync(join(dir, 'x.png'), png);
    writeFileSync(join(dir, 'y.png'), png);
    const first = source(dir);
    await first.start();
    const taken = await takeAll(first, 2);
    await taken.find((f) => f.name.endsWith('x.png'))!.settle({ ok: true });
    await first.stop(); // y.png never settled: as if the daemon crashed mid-batch

    const second = source(dir);
    await second.start();
    try {
      const again = await takeAll(second, 1);
      assert.deepEqual(
        again.map((f) => basename(f.name)),
        ['y.png'],
      );
      await assertNothingMore(second);
    } finally {
      await second.stop();
    }
  });

  it('ignores non-images, dotfiles and subfolders', async () => {
    const dir = freshDir();
    writeFileSync(join(dir, 'notes.txt'), 'hello');
    writeFileSync(join(dir, 'image.png.part'), png);
    writeFileSync(join(dir, '.hidden.png'), png);
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub', 'nested.png'), png);
    writeFileSync(join(dir, 'UPPER.PNG'), png);
    const src = source(dir);
    await src.start();
    try {
      const frames = await takeAll(src, 1);
      assert.deepEqual(
        frames.map((f) => basename(f.name)),
        ['UPPER.PNG'],
      );
      await assertNothingMore(src);
    } finally {
      await src.stop();
    }
  });

  it('creates a missing folder whose parent exists; refuses one whose parent does not, naming it', async () => {
    const created = join(root, 'fresh-install');
    const src = source(created);
    await src.start();
    await src.stop();
    assert.ok(existsSync(created));

    const orphan = join(root, 'no-such-parent', 'inbox');
    await assert.rejects(source(orphan).start(), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.ok(err.message.includes(orphan), err.message);
      assert.match(err.message, /does not exist/);
      return true;
    });

    const file = join(root, 'a-file');
    writeFileSync(file, 'x');
    await assert.rejects(source(file).start(), /is not a directory/);
  });

  it('take() resolves [] on abort and on stop', async () => {
    const dir = freshDir();
    const src = source(dir);
    await src.start();
    const controller = new AbortController();
    const aborted = src.take(5, controller.signal);
    controller.abort();
    assert.deepEqual(await aborted, []);
    const pending = src.take(5, within(20_000));
    await src.stop();
    assert.deepEqual(await pending, []);
    assert.deepEqual(await src.take(5, within(20_000)), []);
  });
});
