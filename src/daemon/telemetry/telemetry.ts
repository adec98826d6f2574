/**
 * The periodic telemetry message: host readings, pipeline totals, outbox and source stats,
 * built every `intervalS` seconds and handed to `publish` (the MQTT publisher sends it
 * retained on `<base>/telemetry`). A failed reading never stops the message: its fields
 * go out as null/0 and the failure is logged once until it changes.
 */
import type { Logger } from 'pino';
import type { TelemetryPayload } from '../publish/topics.js';
import type { Component, SourceStats } from '../types.js';
import { DeviceReader, type DeviceReading, type DeviceStats } from './device.js';
import type { PipelineMetrics, PublisherStats } from './metrics.js';

export interface TelemetryOptions {
  device: string;
  /** Seconds between messages; 0 turns telemetry off. */
  intervalS: number;
  metrics: PipelineMetrics;
  /** Sends one message; a throw or rejection is logged, the next tick goes on. */
  publish: (payload: TelemetryPayload) => void | Promise<void>;
  sourceStats: () => Record<string, SourceStats>;
  publisherStats: () => PublisherStats;
  logger: Logger;
  /** Host readings; default systeminformation. */
  reader?: { read(): Promise<DeviceReading> };
}

/** The per-source part of telemetry and /healthz. */
export function sourcesPayload(stats: Record<string, SourceStats>): TelemetryPayload['sources'] {
  return Object.fromEntries(
    Object.entries(stats).map(([name, s]) => [
      name,
      { produced: s.produced, dropped: s.dropped, errors: s.errors, ...(s.lastError !== undefined ? { last_error: s.lastError } : {}) },
    ]),
  );
}

const NO_DEVICE: DeviceStats = { cpu_load_percent: null, cpu_temp_c: null, mem_used_bytes: null, mem_total_bytes: null };

export class Telemetry implements Component {
  private readonly reader: { read(): Promise<DeviceReading> };
  private readonly log: Logger;
  private timer: NodeJS.Timeout | undefined;
  private inflight: Promise<void> | undefined;
  private last: TelemetryPayload | undefined;
  /** The reason last logged per failing reading, so a lasting failure is logged once. */
  private readonly failing = new Map<string, string>();

  constructor(private readonly options: TelemetryOptions) {
    this.reader = options.reader ?? new DeviceReader();
    this.log = options.logger;
  }

  async start(): Promise<void> {
    if (this.timer) return;
    const { intervalS } = this.options;
    if (!(intervalS > 0)) {
      this.log.info('telemetry off (telemetry.interval_s is 0)');
      return;
    }
    // A tick slower than the interval (a busy Pi) makes the next one skip rather than pile up.
    this.timer = setInterval(() => this.inflight ?? this.tickNow(), intervalS * 1000);
    this.timer.unref();
    this.tickNow();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.inflight;
  }

  /** The last message built; undefined before the first. */
  latest(): TelemetryPayload | undefined {
    return this.last;
  }

  private tickNow(): void {
    this.inflight = this.tick().finally(() => {
      this.inflight = undefined;
    });
  }

  private async tick(): Promise<void> {
    const device = await this.readDevice();
    // stop() during the reading: nothing goes out after it resolves.
    if (!this.timer) return;
    let payload: TelemetryPayload;
    try {
      payload = this.build(device);
    } catch (err) {
      this.log.error({ err }, 'telemetry: cannot read pipeline stats; message skipped');
      return;
    }
    this.last = payload;
    try {
      await this.options.publish(payload);
    } catch (err) {
      this.log.warn({ err }, 'telemetry: publish failed');
    }
  }

  private async readDevice(): Promise<DeviceStats> {
    let reading: DeviceReading;
    try {
      reading = await this.reader.read();
    } catch (err) {
      reading = { stats: NO_DEVICE, failures: [{ reading: 'host', reason: err instanceof Error ? err.message : String(err) }] };
    }
    const failed = new Set<string>();
    for (const { reading: what, reason } of reading.failures) {
      failed.add(what);
      this.options.metrics.hostReadFailed(what);
      if (this.failing.get(what) !== reason)
        this.log.warn({ reading: what, reason }, `telemetry: cannot read ${what}: ${reason}; reported as null`);
      this.failing.set(what, reason);
    }
    for (const what of this.failing.keys()) {
      if (failed.has(what)) continue;
      this.failing.delete(what);
      this.log.info({ reading: what }, `telemetry: ${what} readable again`);
    }
    return reading.stats;
  }

  private build(device: DeviceStats): TelemetryPayload {
    const { metrics } = this.options;
    const sources = this.options.sourceStats();
    const publisher = this.options.publisherStats();
    metrics.setSources(sources);
    metrics.setPublisher(publisher);
    return {
      device: this.options.device,
      time: new Date().toISOString(),
      uptime_s: Math.round(process.uptime()),
      ...device,
      process_rss_bytes: process.memoryUsage.rss(),
      ...metrics.snapshot(),
      outbox_depth: publisher.outbox_depth,
      outbox_dropped: publisher.outbox_dropped,
      sources: sourcesPayload(sources),
    };
  }
}
