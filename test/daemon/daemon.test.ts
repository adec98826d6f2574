/**
 * The daemon end to end: a watched folder -> real sharp + onnxruntime cascade -> outbox ->
 * a real Mosquitto broker, including the broker going away and coming back, /healthz and
 * /metrics, and `pivot run` as a process stopped by SIGTERM.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openCascade } from '../../src/cascade/index.js';
import { Daemon, validateDaemonConfig } from '../../src/daemon/index.js';
import type { ErrorPayload, ResultPayload, TelemetryPayload } from '../../src/daemon/publish/index.js';
import { silentLogger } from '../helpers/log.js';
import { startMosquitto, subscribe, type Broker, type Collector } from '../helpers/mosquitto.js';
import { waitFor } from '../helpers/wait.js';
import { DEPLOY, ROOT, sampleFiles } from '../runtime/helpers.js';

const DEVICE = 'test-pi';
const BASE = `pivot-edge/${DEVICE}`;
const quiet = silentLogger();

/** Two sample images of each class: files the test drops into the watched folder. */
const samples = (() => {
  const all = sampleFiles();
  const byLabel = new Map<number, string[]>();
  for (const item of all) byLabel.set(item.label, [...(byLabel.get(item.label) ?? []), item.source as string]);
  return [...byLabel.values()].flatMap((files) => files.slice(0, 2));
})();

/** What the cascade answers for each sample, computed directly (the daemon must publish exactly this). */
async function expectedAnswers(files: string[]): Promise<Map<string, { label: string; effort: number; escalated: boolean }>> {
  const { cascade, runtime } = await openCascade({ deploy: DEPLOY });
  const results = await cascade.classifyAll(files.map((file) => ({ source: file, name: basename(file) })));
  await runtime.close();
  return new Map(
    results.map((r) => [r.input, r.ok ? { label: r.label, effort: r.effort, escalated: r.escalated } : assert.fail(r.error.message)]),
  );
}

const payloads = <T>(inbox: Collector, topic: string): T[] => inbox.on(topic).map((m) => JSON.parse(m.payload) as T);
/** Results by file name, first arrival only (delivery is at-least-once). */
const uniqueResults = (inbox: Collector) =>
  new Map(payloads<ResultPayload>(inbox, `${BASE}/inbox/result`).map((p) => [basename(p.input), p]));

describe('daemon: folder -> cascade -> MQTT', () => {
  let dir: string;
  let inboxDir: string;
  let broker: Broker;
  let inbox: Collector;
  let daemon: Daemon;
  const first = samples.slice(0, 10);
  const later = samples.slice(10, 14);
  let expected: Awaited<ReturnType<typeof expectedAnswers>>;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pivot-daemon-'));
    inboxDir = join(dir, 'inbox');
    expected = await expectedAnswers([...first, ...later]);
    broker = await startMosquitto({ persistence: true });
    // A persistent session: QoS 1 results published while this client reconnects are kept for it.
    inbox = await subscribe(broker.url, `${BASE}/#`, { session: 'daemon-test-observer' });
    const loaded = validateDaemonConfig(
      {
        deploy: DEPLOY,
        device_id: DEVICE,
        sources: [{ name: 'inbox', type: 'directory', path: 'inbox' }],
        mqtt: { url: broker.url, reconnect_s: 0.5 },
        outbox: { dir: 'outbox' },
        telemetry: { interval_s: 0.5 },
        http: { port: 0 },
      },
      join(dir, 'daemon.yaml'),
    );
    daemon = new Daemon(loaded, quiet);
    await daemon.start();
    for (const file of first) copyFileSync(file, join(inboxDir, basename(file)));
    writeFileSync(join(inboxDir, 'broken.png'), 'this is not an image');
  });

  after(async () => {
    await daemon?.stop();
    await inbox?.close();
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('publishes the cascade’s answer for every image, and an error naming the unreadable one', async () => {
    await inbox.waitFor(
      () => uniqueResults(inbox).size >= first.length && inbox.on(`${BASE}/inbox/error`).length >= 1,
      '10 results and 1 error',
      60_000,
    );
    const results = uniqueResults(inbox);
    for (const file of first) {
      const got = results.get(basename(file));
      const want = expected.get(basename(file))!;
      assert.ok(got, `no result for ${basename(file)}`);
      assert.equal(got.label, want.label, basename(file));
      assert.equal(got.effort, want.effort);
      assert.equal(got.escalated, want.escalated);
      assert.equal(got.device, DEVICE);
      assert.ok(got.probability > 0 && got.probability <= 1 && got.entropy >= 0 && got.entropy <= 1);
    }
    const [error] = payloads<ErrorPayload>(inbox, `${BASE}/inbox/error`);
    assert.equal(basename(error!.input), 'broken.png');
    assert.equal(error!.error, 'InputError');
    assert.match(error!.message, /broken\.png/);
  });

  it('moves classified files to .done and the unreadable one to .failed with its reason', async () => {
    // Files settle just after their results reach the outbox, so they may trail the MQTT messages by a moment.
    // A move is a link then an unlink, so wait for the folder to empty too.
    const pending = () => readdirSync(inboxDir).filter((f) => !f.startsWith('.'));
    await waitFor(
      () =>
        existsSync(join(inboxDir, '.failed', 'broken.png.error.txt')) &&
        readdirSync(join(inboxDir, '.done')).length === first.length &&
        pending().length === 0,
      'the classified files in .done, the failed one and its reason in .failed, nothing left behind',
    );
    assert.deepEqual(readdirSync(join(inboxDir, '.done')).sort(), first.map((f) => basename(f)).sort());
    assert.match(readFileSync(join(inboxDir, '.failed', 'broken.png.error.txt'), 'utf8'), /not a supported image|corrupt/);
  });

  it('announces itself: retained online status, Home Assistant discovery, telemetry with the counts', async () => {
    assert.equal(inbox.on(`${BASE}/status`).at(-1)?.payload, 'online');
    const haInbox = await subscribe(broker.url, 'homeassistant/#');
    try {
      await haInbox.waitFor((m) => m.some((x) => x.retain && x.topic.includes(DEVICE)), 'retained discovery config');
    } finally {
      await haInbox.close();
    }
    await inbox.waitFor(
      () => payloads<TelemetryPayload>(inbox, `${BASE}/telemetry`).some((t) => t.frames >= 11),
      'telemetry counting 11 frames',
    );
    const telemetry = payloads<TelemetryPayload>(inbox, `${BASE}/telemetry`)
      .filter((t) => t.frames >= 11)
      .at(-1)!;
    assert.equal(telemetry.failed, 1);
    assert.ok(telemetry.fraction_low !== null && telemetry.fraction_low >= 0 && telemetry.fraction_low <= 1);
    assert.ok((telemetry.mem_total_bytes ?? NaN) > 0);
  });

  it('serves /healthz and /metrics on loopback', async () => {
    const { host, port } = daemon.http!.address();
    assert.equal(host, '127.0.0.1');
    const health = await fetch(`http://${host}:${port}/healthz`);
    assert.equal(health.status, 200);
    const report = (await health.json()) as { status: string; mqtt_connected: boolean };
    assert.equal(report.status, 'ok');
    assert.equal(report.mqtt_connected, true);
    const metrics = await (await fetch(`http://${host}:${port}/metrics`)).text();
    assert.match(metrics, /pivot_frames_total\{[^}]*source="inbox"[^}]*outcome="ok"[^}]*\} 10\b/);
    assert.match(metrics, /pivot_frames_total\{[^}]*outcome="failed"[^}]*\} 1\b/);
  });

  it('loses nothing while the broker is away: results wait in the outbox and arrive after it returns', async () => {
    await broker.kill();
    const killedAt = Date.now();
    await waitFor(() => !daemon.publisher.connected, 'the daemon to notice the broker is gone');
    const since = daemon.publisher.stats().disconnected_since;
    assert.ok(since !== null && Date.parse(since) >= killedAt - 1000, `disconnected_since ${since}`);
    for (const file of later) copyFileSync(file, join(inboxDir, basename(file)));
    // Files are settled (moved to .done) once their results are on disk in the outbox.
    await waitFor(
      () => readdirSync(join(inboxDir, '.done')).length === first.length + later.length,
      'the new files to be classified',
      30_000,
    );
    assert.ok(daemon.publisher.stats().outbox_depth >= later.length);
    await broker.start();
    await inbox.waitFor(() => later.every((f) => uniqueResults(inbox).has(basename(f))), 'the results queued during the outage', 60_000);
    for (const file of later) assert.equal(uniqueResults(inbox).get(basename(file))!.label, expected.get(basename(file))!.label);
    await waitFor(() => daemon.publisher.stats().outbox_depth === 0, 'the outbox to drain');
    assert.equal(daemon.publisher.stats().disconnected_since, null);
  });

  it('publishes offline (retained) on stop', async () => {
    await daemon.stop();
    await inbox.waitFor(() => inbox.on(`${BASE}/status`).at(-1)?.payload === 'offline', 'offline status');
  });
});

describe('pivot run (the process)', () => {
  const cli = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'index.ts'), 'run', ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  const finished = (child: ReturnType<typeof cli>) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      let stdout = '';
      let stderr = '';
      child.stdout!.on('data', (d: Buffer) => (stdout += d));
      child.stderr!.on('data', (d: Buffer) => (stderr += d));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });

  it('--check names the bad field and exits 2; a good config passes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pivot-run-check-'));
    try {
      writeFileSync(join(dir, 'bad.yaml'), 'sources:\n  - name: cam\n    type: webcam\n');
      const bad = await finished(cli(['--config', join(dir, 'bad.yaml'), '--check']));
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /bad\.yaml: sources\.0\.type/);
      writeFileSync(join(dir, 'good.yaml'), `deploy: ${DEPLOY}\nsources:\n  - name: inbox\n    type: directory\n    path: ./in\n`);
      const good = await finished(cli(['--config', join(dir, 'good.yaml'), '--check']));
      assert.equal(good.code, 0, good.stderr);
      assert.match(good.stdout, /good\.yaml: ok/);
      assert.match(good.stdout, /low 1, high 6/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs until SIGTERM, then says offline and exits 0; the MQTT password never reaches the logs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pivot-run-'));
    const secret = 'p4ss-w0rd-do-not-log';
    const broker = await startMosquitto({ users: { pivot: secret } });
    const watch = await subscribe(broker.url, `pivot-edge/proc/#`, { username: 'pivot', password: secret });
    try {
      writeFileSync(join(dir, 'secret'), `${secret}\n`);
      writeFileSync(
        join(dir, 'daemon.yaml'),
        [
          `deploy: ${DEPLOY}`,
          'device_id: proc',
          'sources: [{ name: inbox, type: directory, path: ./inbox }]',
          `mqtt: { url: "${broker.url}", username: pivot, password_file: ./secret }`,
          'http: { enabled: false }',
        ].join('\n'),
      );
      const child = cli(['--config', join(dir, 'daemon.yaml')], { PIVOT_LOG_LEVEL: 'debug' });
      const done = finished(child);
      let log = '';
      child.stderr!.on('data', (d: Buffer) => (log += d));
      await watch.waitFor((m) => m.some((x) => x.topic === 'pivot-edge/proc/status' && x.payload === 'online'), 'online', 60_000);
      // "daemon running" is logged once every source is watching.
      await waitFor(() => log.includes('daemon running'), 'the daemon to be running', 60_000);
      copyFileSync(samples[0]!, join(dir, 'inbox', 'one.png'));
      await watch
        .waitFor((m) => m.some((x) => x.topic === 'pivot-edge/proc/inbox/result'), 'a result', 30_000)
        .catch((err: Error) => {
          throw new Error(`${err.message}\ndaemon log:\n${log.slice(-3000)}`);
        });
      child.kill('SIGTERM');
      const { code, stderr } = await done;
      assert.equal(code, 0, stderr.slice(-2000));
      await watch.waitFor((m) => m.filter((x) => x.topic === 'pivot-edge/proc/status').at(-1)?.payload === 'offline', 'offline');
      assert.match(stderr, /daemon running/);
      assert.ok(!stderr.includes(secret), 'the password appears in the logs');
    } finally {
      await watch.close();
      await broker.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
