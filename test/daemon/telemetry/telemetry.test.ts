import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InputError } from '../../../src/errors.js';
import type { TelemetryPayload } from '../../../src/daemon/publish/topics.js';
import {
  DeviceReader,
  PipelineMetrics,
  Telemetry,
  readDevice,
  type DeviceReading,
  type TelemetryOptions,
} from '../../../src/daemon/telemetry/index.js';
import type { SourceStats } from '../../../src/daemon/types.js';
import { capturingLogger } from '../../helpers/log.js';
import { waitFor } from '../../helpers/wait.js';
import { sampleValue } from './prom-text.js';

const SOURCES: Record<string, SourceStats> = {
  cam: { produced: 7, dropped: 3, errors: 2, lastError: 'ffmpeg exited with code 1' },
  inbox: { produced: 4, dropped: 0, errors: 0 },
};

/** A telemetry that records what it publishes. */
function recording(overrides: Partial<TelemetryOptions> = {}) {
  const published: TelemetryPayload[] = [];
  const { logger, warnings, lines } = capturingLogger();
  const metrics = new PipelineMetrics('pi-1');
  const telemetry = new Telemetry({
    device: 'pi-1',
    intervalS: 0.05,
    metrics,
    publish: (payload) => void published.push(payload),
    sourceStats: () => SOURCES,
    publisherStats: () => ({ connected: true, outbox_depth: 5, outbox_dropped: 1 }),
    logger,
    ...overrides,
  });
  return { telemetry, published, metrics, warnings, lines };
}

describe('device readings', () => {
  it('reads load, memory and (if any) temperature within physical ranges', async () => {
    const reader = new DeviceReader();
    for (let i = 0; i < 2; i++) {
      const { stats, failures } = await reader.read();
      assert.deepEqual(failures, []);
      // Readings that succeed are numbers (null only marks a failed one).
      const [load, used, total] = [stats.cpu_load_percent ?? NaN, stats.mem_used_bytes ?? NaN, stats.mem_total_bytes ?? NaN];
      assert.ok(load >= 0 && load <= 100, `load ${stats.cpu_load_percent}`);
      assert.ok(total > 0);
      assert.ok(used > 0 && used <= total);
      assert.ok(stats.cpu_temp_c === null || (stats.cpu_temp_c > -50 && stats.cpu_temp_c < 150), `temperature ${stats.cpu_temp_c}`);
    }
    assert.ok(((await readDevice()).mem_total_bytes ?? NaN) > 0);
  });
});

describe('Telemetry', () => {
  it('publishes a full payload every interval', async () => {
    const { telemetry, published, metrics } = recording();
    metrics.recordBatch('cam', { count: 2, failed: 1, escalated: 0, latencyMs: { preprocess: 1, low: 2 } }, [
      {
        ok: true,
        index: 0,
        input: 'cam#0',
        label: 'bag',
        classIndex: 8,
        probability: 0.9,
        entropy: 0.1,
        effort: 1,
        escalated: false,
        latencyMs: { preprocess: 1, low: 2 },
      },
      { ok: false, index: 1, input: 'cam#1', error: new InputError('cam#1', 'truncated JPEG') },
    ]);
    await telemetry.start();
    try {
      await waitFor(() => published.length >= 3, 'three telemetry messages', 20_000);
    } finally {
      await telemetry.stop();
    }
    const payload = published[2]!;
    assert.equal(payload.device, 'pi-1');
    assert.ok(!Number.isNaN(Date.parse(payload.time)));
    assert.ok(Number.isInteger(payload.uptime_s) && payload.uptime_s >= 0);
    const [load, used, total] = [payload.cpu_load_percent ?? NaN, payload.mem_used_bytes ?? NaN, payload.mem_total_bytes ?? NaN];
    assert.ok(load >= 0 && load <= 100);
    assert.ok(payload.cpu_temp_c === null || typeof payload.cpu_temp_c === 'number');
    assert.ok(total > 0 && used > 0 && used <= total);
    assert.ok(payload.process_rss_bytes > 0);
    assert.deepEqual(
      { frames: payload.frames, failed: payload.failed, escalated: payload.escalated, fraction_low: payload.fraction_low },
      { frames: 2, failed: 1, escalated: 0, fraction_low: 1 },
    );
    assert.equal(payload.outbox_depth, 5);
    assert.equal(payload.outbox_dropped, 1);
    assert.deepEqual(payload.sources, {
      cam: { produced: 7, dropped: 3, errors: 2, last_error: 'ffmpeg exited with code 1' },
      inbox: { produced: 4, dropped: 0, errors: 0 },
    });
    assert.deepEqual(JSON.parse(JSON.stringify(payload)), payload, 'survives JSON as is');
    assert.equal(telemetry.latest(), published.at(-1));
    // What telemetry read also reached the Prometheus counters.
    const body = (await metrics.render()).body;
    assert.equal(sampleValue(body, 'pivot_source_errors_total', { source: 'cam' }), 2);
    assert.equal(sampleValue(body, 'pivot_outbox_depth'), 5);
  });

  it('interval 0 never publishes; stop() ends publishing', async () => {
    const off = recording({ intervalS: 0 });
    const stopped = recording();
    const reference = recording();
    await off.telemetry.start();
    await stopped.telemetry.start();
    await reference.telemetry.start();
    try {
      await waitFor(() => stopped.published.length >= 1, 'first message of the telemetry to stop', 20_000);
      await stopped.telemetry.stop();
      const atStop = stopped.published.length;
      // The reference keeps ticking at the same interval: many of its ticks pass.
      const from = reference.published.length;
      await waitFor(() => reference.published.length >= from + 5, 'five more reference messages', 20_000);
      assert.equal(stopped.published.length, atStop);
      assert.equal(off.published.length, 0);
      assert.equal(off.telemetry.latest(), undefined);
      await stopped.telemetry.stop(); // twice is fine
    } finally {
      await reference.telemetry.stop();
      await off.telemetry.stop();
    }
  });

  it('a failing reading still publishes (null, counted) and is logged once until it changes', async () => {
    let calls = 0;
    const reader = {
      async read(): Promise<DeviceReading> {
        calls++;
        if (calls === 1) throw new Error('systeminformation blew up');
        const stats = { cpu_load_percent: 12, cpu_temp_c: null, mem_used_bytes: null, mem_total_bytes: null };
        if (calls <= 4) return { stats, failures: [{ reading: 'memory', reason: 'EACCES /proc/meminfo' }] };
        return { stats: { ...stats, mem_used_bytes: 1, mem_total_bytes: 2 }, failures: [] };
      },
    };
    const { telemetry, published, warnings, lines, metrics } = recording({ reader });
    await telemetry.start();
    try {
      await waitFor(() => published.length >= 6, 'six messages', 20_000);
    } finally {
      await telemetry.stop();
    }
    assert.deepEqual(
      { load: published[0]!.cpu_load_percent, temp: published[0]!.cpu_temp_c, mem: published[0]!.mem_total_bytes },
      { load: null, temp: null, mem: null },
    );
    assert.equal(published[1]!.cpu_load_percent, 12);
    assert.equal(published[5]!.mem_total_bytes, 2);
    const counted = await metrics.registry.getSingleMetricAsString('pivot_host_read_failures_total');
    assert.match(counted, /reading="host"[^\n]* 1$/m);
    assert.match(counted, /reading="memory"[^\n]* 3$/m);
    const warned = warnings();
    assert.equal(warned.filter((m) => m.includes('systeminformation blew up')).length, 1);
    assert.equal(
      warned.filter((m) => m.includes('memory') && m.includes('EACCES')).length,
      1,
      `memory failure logged once: ${warned.join(' | ')}`,
    );
    assert.ok(lines.some((l) => l.msg.includes('memory readable again')));
  });

  it('a failing publish is logged and the next tick goes on', async () => {
    let attempts = 0;
    const { telemetry, warnings } = recording({
      publish: () => {
        attempts++;
        throw new Error('outbox full');
      },
    });
    await telemetry.start();
    try {
      await waitFor(() => attempts >= 3, 'three publish attempts', 20_000);
    } finally {
      await telemetry.stop();
    }
    assert.ok(warnings().filter((m) => m.includes('publish failed')).length >= 3);
    assert.equal(telemetry.latest()?.device, 'pi-1');
  });
});
