/**
 * Command sources (`command`, `rpicam`, `jetson-csi`): a fake camera program (fake-camera.mjs)
 * that writes real JPEG frames drives the shared process supervision; the presets are checked
 * as data (their programs cannot run here); a missing program is reported through the daemon.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { defaultDeployPath } from '../../../src/config/deploy.js';
import { CommandSourceSchema, JetsonCsiSourceSchema, RpicamSourceSchema } from '../../../src/daemon/config.js';
import { Daemon, validateDaemonConfig } from '../../../src/daemon/index.js';
import { baseTopic, topics, type PayloadOf } from '../../../src/daemon/publish/index.js';
import { CommandSource, jetsonCsiPlan, rpicamPlan } from '../../../src/daemon/sources/index.js';
import { capturingLogger, silentLogger } from '../../helpers/log.js';
import { startMosquitto, subscribe } from '../../helpers/mosquitto.js';
import { waitFor } from '../../helpers/wait.js';
import { within } from './helpers.js';

const FAKE_CAMERA = fileURLToPath(new URL('./fake-camera.mjs', import.meta.url));

async function tempFile(t: { after(fn: () => Promise<void>): void }, name: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pivot-command-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return join(dir, name);
}

const pidsIn = async (file: string) => (await readFile(file, 'utf8').catch(() => '')).split('\n').filter(Boolean).map(Number);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('presets expand to the documented commands', () => {
  it('rpicam: rpicam-vid (else libcamera-vid) writing MJPEG to stdout', () => {
    const config = RpicamSourceSchema.parse({
      name: 'pi',
      type: 'rpicam',
      camera: 1,
      width: 1280,
      height: 720,
      fps: 2,
      args: ['--rotation', '180'],
    });
    assert.deepEqual(rpicamPlan(config), {
      programs: [
        { name: 'rpicam-vid', install: 'sudo apt install rpicam-apps' },
        { name: 'libcamera-vid', install: 'sudo apt install libcamera-apps' },
      ],
      args: [
        '-t',
        '0',
        '--codec',
        'mjpeg',
        '--nopreview',
        '--width',
        '1280',
        '--height',
        '720',
        '--framerate',
        '2',
        '--camera',
        '1',
        '--rotation',
        '180',
        '-o',
        '-',
      ],
    });
    // Defaults: camera 0, 640x480, 1 fps.
    assert.deepEqual(rpicamPlan(RpicamSourceSchema.parse({ name: 'pi', type: 'rpicam' })).args, [
      '-t',
      '0',
      '--codec',
      'mjpeg',
      '--nopreview',
      '--width',
      '640',
      '--height',
      '480',
      '--framerate',
      '1',
      '--camera',
      '0',
      '-o',
      '-',
    ]);
  });

  it('jetson-csi: nvarguscamerasrc -> nvjpegenc -> fdsink through gst-launch-1.0', () => {
    const plan = jetsonCsiPlan(JetsonCsiSourceSchema.parse({ name: 'csi', type: 'jetson-csi', sensor_id: 1 }));
    assert.deepEqual(
      plan.programs.map((p) => p.name),
      ['gst-launch-1.0'],
    );
    assert.match(plan.programs[0]!.install!, /gstreamer1\.0-tools.*nvidia-l4t-gstreamer/);
    assert.deepEqual(plan.args, [
      '-q',
      'nvarguscamerasrc',
      'sensor-id=1',
      '!',
      'video/x-raw(memory:NVMM),width=1280,height=720,framerate=30/1',
      '!',
      'nvjpegenc',
      '!',
      'fdsink',
      'fd=1',
    ]);
  });

  it('command: the arguments are a list (no shell), at least the program', () => {
    assert.equal(CommandSourceSchema.safeParse({ name: 'c', type: 'command', command: [] }).success, false);
    assert.equal(CommandSourceSchema.safeParse({ name: 'c', type: 'command', command: 'ffmpeg -i x' }).success, false);
  });
});

describe('command source with a fake camera program', () => {
  it('hands out its JPEG frames; a stall restarts it through the watchdog, an exit with backoff; stop() leaves no process', async (t) => {
    const pids = await tempFile(t, 'pids');
    const { logger, lines } = capturingLogger();
    const config = CommandSourceSchema.parse({
      name: 'fake',
      type: 'command',
      command: [process.execPath, FAKE_CAMERA, '--fps', '20', '--frames', '3', '--plan', 'stall,exit,stream', '--pids', pids],
      fps: 20,
      restart_delay_s: 0.2,
      // Long enough for node and sharp to start on a busy machine: the watchdog counts from the spawn.
      stall_timeout_s: 5,
    });
    const src = new CommandSource(config, logger);
    await src.start();
    try {
      const [frame] = await src.take(1, within(20_000));
      assert.ok(frame && Buffer.isBuffer(frame.image));
      const meta = await sharp(frame.image as Buffer).metadata();
      assert.equal(meta.format, 'jpeg');
      assert.equal(meta.width, 56);
      await waitFor(
        () => lines.some((l) => String(l.msg).includes('no frame for 5 s')),
        'the watchdog to restart the stalled program',
        20_000,
      );
      await waitFor(() => lines.some((l) => String(l.msg).includes('exited (code 3)')), 'the exit of the second run', 20_000);
      await waitFor(async () => (await pidsIn(pids)).length >= 3, 'a third start', 30_000);
      // The third run streams: frames keep coming.
      const produced = src.stats().produced;
      for (let i = 0; i < 3; i++) assert.equal((await src.take(1, within(20_000))).length, 1);
      assert.ok(src.stats().produced >= produced + 3);
      assert.ok(
        lines.some((l) => l.level === 20 && String(l.msg) === 'node: fake camera run 1: stall'),
        'stderr is logged at debug',
      );
      // Each run delivered frames before failing, so each restart waited the first delay again.
      assert.deepEqual(
        lines.filter((l) => typeof l.retry_s === 'number').map((l) => l.retry_s),
        [0.2, 0.2],
      );
    } finally {
      await src.stop();
    }
    const started = await pidsIn(pids);
    assert.ok(started.length >= 3);
    assert.deepEqual(started.filter(alive), [], 'no fake camera process left after stop()');
    assert.deepEqual(await src.take(1, within(5_000)), []);
  });

  it('restarts a program that keeps failing without a frame with a doubling delay', async (t) => {
    const pids = await tempFile(t, 'pids');
    const { logger, lines } = capturingLogger();
    const config = CommandSourceSchema.parse({
      name: 'fake',
      type: 'command',
      // No frames at all: every run exits at once.
      command: [process.execPath, FAKE_CAMERA, '--frames', '0', '--plan', 'exit', '--pids', pids],
      restart_delay_s: 0.1,
    });
    const src = new CommandSource(config, logger);
    await src.start();
    try {
      await waitFor(() => src.stats().errors >= 4, 'four failed runs', 30_000);
    } finally {
      await src.stop();
    }
    const delays = lines.filter((l) => typeof l.retry_s === 'number').map((l) => l.retry_s as number);
    assert.deepEqual(delays.slice(0, 4), [0.1, 0.2, 0.4, 0.8]);
    assert.match(src.stats().lastError!, /exited \(code 3\)/);
    assert.deepEqual((await pidsIn(pids)).filter(alive), []);
  });

  it('stop(): a program that ignores SIGTERM is killed with SIGKILL', async (t) => {
    const pids = await tempFile(t, 'pids');
    const { logger, lines } = capturingLogger();
    const config = CommandSourceSchema.parse({
      name: 'fake',
      type: 'command',
      command: [process.execPath, FAKE_CAMERA, '--fps', '10', '--plan', 'stream', '--pids', pids, '--ignore-sigterm'],
      fps: 10,
    });
    const src = new CommandSource(config, logger, { killTimeoutMs: 500 });
    await src.start();
    assert.equal((await src.take(1, within(20_000))).length, 1);
    await src.stop();
    assert.ok(
      lines.some((l) => String(l.msg).includes('fake camera ignores SIGTERM')),
      'it got SIGTERM first',
    );
    assert.deepEqual((await pidsIn(pids)).filter(alive), [], 'and is gone after stop()');
  });

  it('a missing program is one clear error naming it and its package', async () => {
    const { logger, lines } = capturingLogger();
    const src = new CommandSource(RpicamSourceSchema.parse({ name: 'pi', type: 'rpicam', restart_delay_s: 0.1 }), logger);
    await src.start();
    try {
      await waitFor(() => src.stats().errors >= 3, 'three attempts');
    } finally {
      await src.stop();
    }
    assert.equal(src.stats().lastError, 'rpicam-vid not found on PATH (nor libcamera-vid): install it: sudo apt install rpicam-apps');
    // Logged once at warn; the retries at debug.
    assert.equal(lines.filter((l) => l.level === 40).length, 1);
  });
});

describe('daemon with a command source and a camera whose program is missing', () => {
  it('classifies the fake camera’s frames while the rpicam source reports its missing program on the error topic and in /healthz', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'pivot-command-daemon-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const broker = await startMosquitto();
    t.after(() => broker.stop());
    const base = baseTopic('pivot-edge', 'cmd-test');
    const inbox = await subscribe(broker.url, `${base}/#`);
    t.after(() => inbox.close());
    const daemon = new Daemon(
      validateDaemonConfig(
        {
          deploy: defaultDeployPath(),
          device_id: 'cmd-test',
          sources: [
            { name: 'fake', type: 'command', command: [process.execPath, FAKE_CAMERA, '--fps', '5', '--plan', 'stream'], fps: 5 },
            { name: 'pi', type: 'rpicam', restart_delay_s: 0.2 },
          ],
          mqtt: { url: broker.url, reconnect_s: 0.5, discovery: { enabled: false } },
          outbox: { dir: 'outbox' },
          telemetry: { interval_s: 0 },
          http: { enabled: false },
        },
        join(dir, 'daemon.yaml'),
      ),
      silentLogger(),
    );
    t.after(() => daemon.stop());
    await daemon.start();
    await inbox.waitFor(
      (m) => m.filter((x) => x.topic === topics.result(base, 'fake')).length >= 3,
      'three results from the fake camera',
      60_000,
    );
    await inbox.waitFor((m) => m.some((x) => x.topic === topics.error(base, 'pi')), 'the error of the rpicam source', 30_000);

    const results = inbox.on(topics.result(base, 'fake')).map((m) => JSON.parse(m.payload) as PayloadOf['result']);
    for (const result of results) {
      assert.equal(result.source, 'fake');
      assert.equal(result.label, 'Sneaker');
    }
    assert.deepEqual(results.map((r) => r.seq).slice(0, 3), [1, 2, 3]);
    const errors = inbox.on(topics.error(base, 'pi')).map((m) => JSON.parse(m.payload) as PayloadOf['error']);
    assert.equal(errors.length, 1, 'one error, not one per retry');
    assert.equal(errors[0]!.error, 'SourceError');
    assert.match(errors[0]!.message, /^rpicam-vid not found on PATH \(nor libcamera-vid\): install it: sudo apt install rpicam-apps$/);
    const health = daemon.health.report();
    assert.match(health.sources.pi!.last_error!, /rpicam-vid not found/);
    assert.equal(health.sources.pi!.failing, true);
    assert.equal(health.sources.fake!.failing, false);
    assert.equal(health.status, 'ok', 'one source failing while another works is not degraded');
  });
});
