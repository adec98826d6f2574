import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { CameraSourceSchema, type CameraSourceConfig } from '../../../src/daemon/config.js';
import { CameraSource, offersMjpeg, type CameraOptions } from '../../../src/daemon/sources/index.js';
import { JpegSplitter } from '../../../src/daemon/sources/jpeg-splitter.js';
import { capturingLogger, silentLogger } from '../../helpers/log.js';
import { waitFor } from '../../helpers/wait.js';
import { within } from './helpers.js';

// -re paces the synthetic source at its own rate instead of as fast as the CPU allows.
const TESTSRC = { input: 'testsrc=size=64x48:rate=10', format: 'lavfi', input_args: ['-re'] };

function camera(extra: Partial<CameraSourceConfig>, options: CameraOptions = {}, logger = silentLogger()): CameraSource {
  return new CameraSource(CameraSourceSchema.parse({ name: 'cam', type: 'camera', ...extra }), logger, options);
}

const sequence = (id: string) => Number(id.split('#')[1]);

/** ffmpeg processes that are children of this test process. */
function ffmpegChildren(): string[] {
  try {
    return execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(process.pid)], { encoding: 'utf8' })
      .split('\n')
      .filter((line) => line.includes('ffmpeg'));
  } catch {
    return []; // ps exits 1 when no process matches
  }
}

describe('camera source (real ffmpeg)', () => {
  it('yields decodable JPEG frames named <source>#<sequence>', async () => {
    const src = camera({ ...TESTSRC, fps: 5 });
    await src.start();
    try {
      const seen: string[] = [];
      for (let i = 0; i < 3; i++) {
        const frames = await src.take(8, within(15_000));
        assert.equal(frames.length, 1, 'a latest-frame source hands out one frame at a time');
        const [frame] = frames;
        assert.ok(Buffer.isBuffer(frame!.image));
        const meta = await sharp(frame!.image).metadata();
        assert.equal(meta.format, 'jpeg');
        assert.equal(meta.width, 64);
        assert.equal(meta.height, 48);
        assert.match(frame!.id, /^cam#\d+$/);
        assert.equal(frame!.name, frame!.id);
        assert.equal(frame!.source, 'cam');
        await frame!.settle({ ok: true });
        seen.push(frame!.id);
      }
      assert.ok(sequence(seen[0]!) < sequence(seen[1]!) && sequence(seen[1]!) < sequence(seen[2]!), seen.join(' '));
      assert.equal(src.stats().produced, 3);
      assert.equal(src.stats().errors, 0);
    } finally {
      await src.stop();
    }
    assert.deepEqual(ffmpegChildren(), []);
  });

  it('keeps only the newest frame when the pipeline is slow, counting the dropped ones', async () => {
    const src = camera({ ...TESTSRC, fps: 10 });
    await src.start();
    try {
      await waitFor(() => src.stats().dropped >= 3, 'frames dropped while nobody takes');
      const { dropped } = src.stats();
      const [frame] = await src.take(8, within(15_000));
      assert.ok(frame);
      // Every frame so far was dropped but the one held: the one handed out is at least the newest seen.
      assert.ok(sequence(frame.id) >= dropped + 1, `${frame.id} after ${dropped} dropped`);
      assert.equal(src.stats().produced, 1);
    } finally {
      await src.stop();
    }
    assert.deepEqual(ffmpegChildren(), []);
  });

  it('counts an input that cannot be opened as errors, keeps restarting, names the input', async () => {
    const input = '/nonexistent/camera.mp4';
    const src = camera({ input, restart_delay_s: 0.1 });
    await src.start();
    try {
      await waitFor(() => src.stats().errors >= 2, 'two failed ffmpeg runs');
      const { lastError } = src.stats();
      assert.ok(lastError?.includes(input), lastError);
      assert.match(lastError!, /No such file or directory/);
      assert.equal(src.stats().produced, 0);
    } finally {
      await src.stop();
    }
    assert.deepEqual(ffmpegChildren(), []);
  });

  it('keeps credentials of a stream URL out of errors and logs', async () => {
    const { logger, text } = capturingLogger();
    // Port 1 on loopback refuses the connection at once.
    const src = camera({ input: 'rtsp://admin:s3cr%40t@127.0.0.1:1/stream', restart_delay_s: 0.1 }, {}, logger);
    await src.start();
    try {
      await waitFor(() => src.stats().errors >= 2, 'two failed ffmpeg runs');
    } finally {
      await src.stop();
    }
    assert.ok(src.stats().lastError?.includes('rtsp://127.0.0.1:1/stream'), src.stats().lastError);
    assert.ok(text.length > 0);
    const log = text.join('');
    assert.ok(!log.includes('s3cr') && !log.includes('admin'), log);
    assert.ok(!src.stats().lastError!.includes('s3cr'));
  });

  it('says ffmpeg is missing and keeps retrying', async () => {
    const src = camera({ ...TESTSRC, restart_delay_s: 0.1 }, { ffmpeg: '/nonexistent/bin/ffmpeg' });
    await src.start();
    try {
      await waitFor(() => src.stats().errors >= 2, 'two failed spawns');
      assert.equal(src.stats().lastError, '/nonexistent/bin/ffmpeg not found: install it: sudo apt install ffmpeg');
    } finally {
      await src.stop();
    }
  });

  it('restarts ffmpeg when the stream stalls, and stop() leaves no ffmpeg behind', async () => {
    // A 1 fps stream with a stall timeout shorter than one frame interval: every run "stalls".
    const src = camera({ ...TESTSRC, input: 'testsrc=size=64x48:rate=0.2', fps: 1, restart_delay_s: 0.1 }, { stallTimeoutMs: 300 });
    await src.start();
    try {
      await waitFor(() => src.stats().errors >= 2, 'two stall restarts');
      assert.match(src.stats().lastError!, /no frame for/);
      await waitFor(() => ffmpegChildren().length > 0, 'a running ffmpeg');
    } finally {
      await src.stop();
    }
    assert.deepEqual(ffmpegChildren(), []);
    // take() after stop resolves at once.
    assert.deepEqual(await src.take(1, within(15_000)), []);
  });
});

describe('MJPEG passthrough (real ffmpeg)', () => {
  it('passes the input’s JPEG frames through byte for byte (-c:v copy); re-encoding would change them', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'pivot-mjpeg-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    // ffmpeg's test source encoded as MJPEG stands in for a USB camera's MJPEG stream.
    const file = join(dir, 'camera.mjpeg');
    execFileSync('ffmpeg', [
      '-hide_banner',
      '-loglevel',
      'error',
      '-f',
      'lavfi',
      '-i',
      'testsrc=size=64x48:rate=10',
      '-frames:v',
      '30',
      '-c:v',
      'mjpeg',
      '-q:v',
      '7',
      '-f',
      'mjpeg',
      file,
    ]);
    const originals = new Set(new JpegSplitter().push(await readFile(file)).map((jpeg) => jpeg.toString('base64')));
    assert.equal(originals.size, 30, 'thirty distinct frames (the test source has a running counter)');

    const takeFrames = async (src: CameraSource, count: number) => {
      const frames: Buffer[] = [];
      await src.start();
      try {
        while (frames.length < count) {
          const [frame] = await src.take(1, within(15_000));
          assert.ok(frame, `frame ${frames.length + 1} of ${count}`);
          frames.push(frame.image as Buffer);
        }
      } finally {
        await src.stop();
      }
      return frames;
    };
    const input = { input: file, format: 'mjpeg', input_args: ['-re'], fps: 60, restart_delay_s: 0.1 };
    const copy = camera({ ...input, passthrough: true });
    assert.deepEqual(copy.ffmpegArgs(true).slice(-6), ['-an', '-c:v', 'copy', '-f', 'mjpeg', '-']);
    for (const frame of await takeFrames(copy, 5))
      assert.ok(originals.has(frame.toString('base64')), 'a passed-through frame is one of the input’s JPEGs, byte for byte');

    for (const frame of await takeFrames(camera({ ...input, passthrough: false }), 3)) {
      assert.ok(!originals.has(frame.toString('base64')), 'an encoded frame differs from the input’s');
    }
  });

  it('asks a V4L2 camera for MJPEG (-input_format mjpeg) when it offers it, and encodes when it offers only raw formats', () => {
    const usb = camera({ input: '/dev/video0', input_args: ['-video_size', '1280x720'] });
    assert.deepEqual(usb.ffmpegArgs(true), [
      '-hide_banner',
      '-loglevel',
      'error',
      '-nostdin',
      '-video_size',
      '1280x720',
      '-f',
      'v4l2',
      '-input_format',
      'mjpeg',
      '-i',
      '/dev/video0',
      '-an',
      '-c:v',
      'copy',
      '-f',
      'mjpeg',
      '-',
    ]);
    assert.deepEqual(usb.ffmpegArgs(false), [
      '-hide_banner',
      '-loglevel',
      'error',
      '-nostdin',
      '-video_size',
      '1280x720',
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
    // What `ffmpeg -f v4l2 -list_formats all -i /dev/video0` prints for a typical UVC webcam, and for a raw-only one.
    const uvc = [
      '[video4linux2,v4l2 @ 0x5581] Raw       :     yuyv422 :           YUYV 4:2:2 : 640x480 1280x720',
      '[video4linux2,v4l2 @ 0x5581] Compressed:       mjpeg :          Motion-JPEG : 640x480 1280x720 1920x1080',
    ].join('\n');
    const rawOnly = '[video4linux2,v4l2 @ 0x55a1] Raw       :     yuyv422 :           YUYV 4:2:2 : 640x480';
    assert.equal(offersMjpeg(uvc), true);
    assert.equal(offersMjpeg(rawOnly), false);
  });
});
