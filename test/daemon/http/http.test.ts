import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { PivotError } from '../../../src/errors.js';
import { HealthMonitor, HttpServer, type HealthReport } from '../../../src/daemon/http/index.js';
import { PipelineMetrics, type PublisherStats } from '../../../src/daemon/telemetry/index.js';
import type { SourceStats } from '../../../src/daemon/types.js';
import { capturingLogger, silentLogger } from '../../helpers/log.js';
import { sampleValue } from '../telemetry/prom-text.js';

const silent = silentLogger();

/** A daemon's moving parts as the health monitor sees them, with a clock the test turns. */
function world() {
  const state = {
    clock: 1_000_000,
    publisher: { connected: false, outbox_depth: 0, outbox_dropped: 0 } as PublisherStats,
    sources: {
      cam: { produced: 0, dropped: 0, errors: 0 },
      inbox: { produced: 0, dropped: 0, errors: 0 },
    } as Record<string, SourceStats>,
    lastFrame: undefined as Date | undefined,
  };
  const monitor = new HealthMonitor({
    publisher: () => state.publisher,
    sources: () => state.sources,
    lastFrameAt: () => state.lastFrame,
    mqttGraceS: 30,
    now: () => state.clock,
  });
  const advance = (s: number) => void (state.clock += s * 1000);
  return { state, monitor, advance };
}

describe('HealthMonitor', () => {
  it('MQTT down longer than the grace period degrades; a reconnect clears it', () => {
    const { state, monitor, advance } = world();
    assert.equal(monitor.report().status, 'ok', 'connecting at start is within the grace');
    advance(31);
    let report = monitor.report();
    assert.equal(report.status, 'degraded', 'never connected since start');
    assert.match(report.reasons.join(), /MQTT disconnected for 31 s/);
    state.publisher = { connected: true, outbox_depth: 3, outbox_dropped: 0 };
    report = monitor.report();
    assert.deepEqual(
      { status: report.status, reasons: report.reasons, mqtt: report.mqtt_connected, depth: report.outbox_depth },
      { status: 'ok', reasons: [], mqtt: true, depth: 3 },
    );
    state.publisher = { ...state.publisher, connected: false, last_error: 'connect ECONNREFUSED 127.0.0.1:1883' };
    advance(100);
    report = monitor.report();
    assert.equal(report.status, 'ok', 'the outage starts when first seen');
    assert.equal(report.mqtt_last_error, 'connect ECONNREFUSED 127.0.0.1:1883');
    advance(29);
    assert.equal(monitor.report().status, 'ok');
    advance(2);
    report = monitor.report();
    assert.equal(report.status, 'degraded');
    assert.deepEqual(report.reasons, ['MQTT disconnected for 31 s (connect ECONNREFUSED 127.0.0.1:1883)']);
  });

  it('times an outage from the publisher’s disconnected_since, not from the first probe that sees it', () => {
    const { state, monitor, advance } = world();
    state.publisher = { connected: true, outbox_depth: 0, outbox_dropped: 0, disconnected_since: null };
    assert.equal(monitor.report().status, 'ok');
    state.publisher = { connected: false, outbox_depth: 5, outbox_dropped: 0, disconnected_since: new Date(state.clock).toISOString() };
    advance(45);
    const report = monitor.report();
    assert.equal(report.status, 'degraded', 'first probe after a 45 s outage');
    assert.match(report.reasons.join(), /MQTT disconnected for 45 s/);
  });

  it('degrades only when every source is failing, and recovers with a frame', () => {
    const { state, monitor } = world();
    state.publisher = { connected: true, outbox_depth: 0, outbox_dropped: 0 };
    assert.equal(monitor.report().status, 'ok', 'idle sources are fine');
    state.sources.cam = { produced: 0, dropped: 0, errors: 3, lastError: 'ffmpeg: /dev/video0: No such file or directory' };
    let report = monitor.report();
    assert.equal(report.status, 'ok', 'one source of two failing');
    assert.equal(report.sources.cam!.failing, true);
    assert.equal(report.sources.cam!.last_error, 'ffmpeg: /dev/video0: No such file or directory');
    state.sources.inbox = { produced: 5, dropped: 0, errors: 0 };
    assert.equal(monitor.report().status, 'ok');
    state.sources.inbox = { produced: 5, dropped: 0, errors: 1, lastError: 'EACCES /data/in/x.jpg' };
    report = monitor.report();
    assert.equal(report.status, 'degraded');
    assert.match(report.reasons.join(), /every source is failing: cam \(ffmpeg: .*\), inbox \(EACCES/);
    // Nothing new: still failing. Then the camera delivers a frame.
    assert.equal(monitor.report().status, 'degraded');
    state.sources.cam = { ...state.sources.cam!, produced: 1 };
    report = monitor.report();
    assert.equal(report.status, 'ok');
    assert.equal(report.sources.cam!.failing, false);
  });

  it('reports the last frame time and uptime', () => {
    const { state, monitor } = world();
    assert.equal(monitor.report().last_frame_at, null);
    state.lastFrame = new Date('2026-11-29T23:00:00Z');
    const report = monitor.report();
    assert.equal(report.last_frame_at, '2026-11-29T23:00:00.000Z');
    assert.ok(Number.isInteger(report.uptime_s) && report.uptime_s >= 0);
  });
});

/** A GET (or other method) against the test server; resolves with status, headers and body. */
function call(port: number, path: string, method = 'GET'): Promise<{ status: number; type: string; allow?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, type: String(res.headers['content-type']), allow: res.headers.allow, body }));
    });
    req.on('error', reject);
    // A server that never answers fails the test instead of hanging it.
    req.setTimeout(10_000, () => req.destroy(new Error(`${method} ${path}: no response in 10 s`)));
    req.end();
  });
}

describe('HttpServer', () => {
  const { state, monitor, advance } = world();
  const metrics = new PipelineMetrics('pi-1', { publisher: () => state.publisher, sources: () => state.sources });
  let health: () => HealthReport = () => monitor.report();
  const server = new HttpServer({ port: 0, metrics, health: () => health(), logger: silent });
  let port: number;

  before(async () => {
    await server.start();
    port = server.address().port;
  });
  after(() => server.stop());

  it('binds to loopback by default, on a real port', () => {
    assert.deepEqual(server.address(), { host: '127.0.0.1', port });
    assert.ok(port > 0);
  });

  it('GET /metrics: Prometheus text with the pipeline counters', async () => {
    metrics.recordBatch('cam', { count: 1, failed: 0, escalated: 1, latencyMs: { preprocess: 1, low: 2, high: 3 } }, [
      {
        ok: true,
        index: 0,
        input: 'cam#0',
        label: 'bag',
        classIndex: 8,
        probability: 0.9,
        entropy: 0.1,
        effort: 6,
        escalated: true,
        latencyMs: { preprocess: 1, low: 2, high: 3 },
      },
    ]);
    state.sources.cam = { produced: 1, dropped: 4, errors: 0 };
    const res = await call(port, '/metrics?debug=1');
    assert.equal(res.status, 200);
    assert.match(res.type, /^text\/plain; version=0\.0\.4/);
    assert.equal(sampleValue(res.body, 'pivot_frames_total', { source: 'cam', outcome: 'ok' }), 1);
    assert.equal(sampleValue(res.body, 'pivot_escalations_total', { source: 'cam' }), 1);
    assert.equal(sampleValue(res.body, 'pivot_source_dropped_frames_total', { source: 'cam' }), 4, 'source stats read at scrape time');
    assert.equal(sampleValue(res.body, 'pivot_mqtt_connected'), 0);
  });

  it('GET /healthz: 200 when ok, 503 when degraded, JSON either way', async () => {
    state.publisher = { connected: true, outbox_depth: 2, outbox_dropped: 0 };
    let res = await call(port, '/healthz');
    assert.equal(res.status, 200);
    assert.match(res.type, /^application\/json/);
    const ok = JSON.parse(res.body) as HealthReport;
    assert.equal(ok.status, 'ok');
    assert.equal(ok.mqtt_connected, true);
    assert.equal(ok.outbox_depth, 2);
    assert.deepEqual(Object.keys(ok.sources).sort(), ['cam', 'inbox']);

    state.publisher = { ...state.publisher, connected: false };
    await call(port, '/healthz');
    advance(60);
    res = await call(port, '/healthz');
    assert.equal(res.status, 503);
    const degraded = JSON.parse(res.body) as HealthReport;
    assert.equal(degraded.status, 'degraded');
    assert.match(degraded.reasons[0]!, /MQTT disconnected/);

    state.publisher = { ...state.publisher, connected: true };
    assert.equal((await call(port, '/healthz')).status, 200);
  });

  it('HEAD answers like GET without a body; other methods 405; other paths 404', async () => {
    const head = await call(port, '/healthz', 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
    const post = await call(port, '/metrics', 'POST');
    assert.equal(post.status, 405);
    assert.equal(post.allow, 'GET, HEAD');
    const missing = await call(port, '/admin');
    assert.equal(missing.status, 404);
    assert.match(missing.body, /not found: \/admin/);
    assert.equal((await call(port, '//')).status, 404, 'odd request targets are just not found');
  });

  it('a failing health check is a 500, and the server keeps serving', async () => {
    health = () => {
      throw new Error('publisher gone');
    };
    try {
      assert.equal((await call(port, '/healthz')).status, 500);
    } finally {
      health = () => monitor.report();
    }
    assert.equal((await call(port, '/metrics')).status, 200);
  });

  it('a port in use fails start() with an error naming host:port', async () => {
    const second = new HttpServer({ port, metrics, health, logger: silent });
    await assert.rejects(second.start(), (err: Error) => {
      assert.ok(err instanceof PivotError);
      assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${port}: address already in use`));
      return true;
    });
    await second.stop();
    assert.equal((await call(port, '/healthz')).status, 200, 'the first server is unaffected');
  });

  it('with nextFreePort (the built-in default), a port in use moves to the next free one and says so in one line', async () => {
    const log = capturingLogger();
    const moved = new HttpServer({ port, nextFreePort: true, metrics, health, logger: log.logger });
    await moved.start();
    try {
      const used = moved.address().port;
      assert.ok(used > port, `moved on from ${port} to ${used}`);
      assert.deepEqual(log.warnings(), [
        `port ${port} is taken (another pivot or exporter?): /metrics and /healthz are on 127.0.0.1:${used} instead`,
      ]);
      assert.equal((await call(used, '/healthz')).status, 200);
      assert.equal((await call(port, '/healthz')).status, 200, 'the first server is unaffected');
    } finally {
      await moved.stop();
    }
  });

  it('stop() closes the port (and is safe twice)', async () => {
    const extra = new HttpServer({ port: 0, metrics, health, logger: silent });
    await extra.start();
    const { port: extraPort } = extra.address();
    assert.equal((await call(extraPort, '/metrics')).status, 200);
    await extra.stop();
    await extra.stop();
    await assert.rejects(call(extraPort, '/metrics'), /ECONNREFUSED/);
  });
});
