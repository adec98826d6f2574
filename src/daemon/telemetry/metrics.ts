/**
 * Pipeline counters in a Prometheus registry of their own (series prefixed `pivot_`, plus
 * prom-client's default process metrics), and the running totals the telemetry message
 * reports. The cascade's batches are recorded as they finish; publisher and source stats
 * are absolute numbers read from their owners, mirrored into counters by their increase.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { BatchReport, CascadeResult } from '../../cascade/index.js';
import type { MqttPublisherStats } from '../publish/mqtt.js';
import type { SourceStats } from '../types.js';

/**
 * What telemetry needs of the MQTT publisher's stats: the connection and outbox are required,
 * the rest is used when present (tests and other publishers may leave it out).
 */
export type PublisherStats = Pick<MqttPublisherStats, 'connected' | 'outbox_depth' | 'outbox_dropped'> &
  Partial<Omit<MqttPublisherStats, 'connected' | 'outbox_depth' | 'outbox_dropped'>>;

/** The pipeline totals the telemetry message carries (fields of TelemetryPayload). */
export interface PipelineCounters {
  /** Frames the cascade handled, classified or failed. */
  frames: number;
  failed: number;
  escalated: number;
  /** Share of classified frames answered by the low effort (F_L); null before the first one. */
  fraction_low: number | null;
}

/** Getters read at every scrape, so /metrics is current without anyone pushing stats. */
export interface LiveStats {
  publisher?: () => PublisherStats;
  sources?: () => Record<string, SourceStats>;
}

/** Seconds per stage call: a batch on a Pi can take seconds, a small one on x86 a millisecond. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

const STAGES = ['preprocess', 'low', 'high'] as const;

/**
 * A Prometheus counter that follows an absolute, monotonic total owned elsewhere (outbox
 * drops, source errors): it grows by the total's increase. A total that goes down (its
 * owner restarted) is taken as the new base rather than decreasing the counter.
 */
class MirroredCounter<L extends string> {
  private readonly last = new Map<string, number>();
  constructor(private readonly counter: Counter<L>) {}

  set(value: number, labels: Partial<Record<L, string>> = {}): void {
    const key = JSON.stringify(labels);
    const increase = value - (this.last.get(key) ?? 0);
    this.last.set(key, value);
    // inc(0) still creates the series, so dashboards see a 0 rather than nothing.
    this.counter.inc(labels, Math.max(0, increase));
  }
}

export class PipelineMetrics {
  readonly registry = new Registry();
  private readonly frames: Counter<'source' | 'outcome'>;
  private readonly escalations: Counter<'source'>;
  private readonly answeredByEffort: Counter<'effort'>;
  private readonly stageLatency: Histogram<'stage'>;
  private readonly mqttConnected: Gauge;
  private readonly outboxDepth: Gauge;
  private readonly outboxDropped: MirroredCounter<never>;
  private readonly outboxCorrupt: MirroredCounter<never>;
  private readonly outboxWritten: MirroredCounter<never>;
  private readonly mqttPublished: MirroredCounter<never>;
  private readonly mqttReconnects: MirroredCounter<never>;
  private readonly sourceDropped: MirroredCounter<'source'>;
  private readonly sourceErrors: MirroredCounter<'source'>;
  private readonly hostReadFailures: Counter<'reading'>;
  private readonly totals = { frames: 0, failed: 0, escalated: 0, classified: 0, answeredLow: 0 };
  private lastFrame: Date | undefined;

  constructor(
    readonly device: string,
    private readonly live: LiveStats = {},
  ) {
    const registers = [this.registry];
    this.registry.setDefaultLabels({ device });
    collectDefaultMetrics({ register: this.registry });
    this.frames = new Counter({
      name: 'pivot_frames_total',
      help: 'Frames the cascade handled, by source and outcome (ok|failed).',
      labelNames: ['source', 'outcome'],
      registers,
    });
    this.escalations = new Counter({
      name: 'pivot_escalations_total',
      help: 'Frames re-run on the high effort, by source.',
      labelNames: ['source'],
      registers,
    });
    this.answeredByEffort = new Counter({
      name: 'pivot_answered_by_effort_total',
      help: 'Classified frames by the effort that answered.',
      labelNames: ['effort'],
      registers,
    });
    this.stageLatency = new Histogram({
      name: 'pivot_stage_latency_seconds',
      help: 'Wall time of each cascade stage call (one per batch): preprocess, low effort, high effort.',
      labelNames: ['stage'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.mqttConnected = new Gauge({ name: 'pivot_mqtt_connected', help: '1 while connected to the MQTT broker.', registers });
    this.outboxDepth = new Gauge({
      name: 'pivot_outbox_depth',
      help: 'Messages in the outbox not yet acknowledged by the broker.',
      registers,
    });
    this.outboxDropped = new MirroredCounter(
      new Counter({ name: 'pivot_outbox_dropped_total', help: 'Messages dropped from a full outbox.', registers }),
    );
    this.outboxCorrupt = new MirroredCounter(
      new Counter({
        name: 'pivot_outbox_corrupt_records_total',
        help: 'Outbox records found torn or corrupt at start (power cut) and skipped.',
        registers,
      }),
    );
    this.outboxWritten = new MirroredCounter(
      new Counter({ name: 'pivot_outbox_written_bytes_total', help: 'Bytes the outbox wrote to disk.', registers }),
    );
    this.mqttPublished = new MirroredCounter(
      new Counter({ name: 'pivot_mqtt_published_total', help: 'Outbox messages the broker acknowledged.', registers }),
    );
    this.mqttReconnects = new MirroredCounter(
      new Counter({ name: 'pivot_mqtt_reconnects_total', help: 'Reconnections to the MQTT broker.', registers }),
    );
    this.sourceDropped = new MirroredCounter(
      new Counter({
        name: 'pivot_source_dropped_frames_total',
        help: 'Frames a source replaced by a newer one before the pipeline took them.',
        labelNames: ['source'],
        registers,
      }),
    );
    this.sourceErrors = new MirroredCounter(
      new Counter({
        name: 'pivot_source_errors_total',
        help: 'Capture failures of a source (ffmpeg exits, HTTP errors, unreadable files).',
        labelNames: ['source'],
        registers,
      }),
    );
    this.hostReadFailures = new Counter({
      name: 'pivot_host_read_failures_total',
      help: 'Host readings for telemetry that failed (published as null), by reading (cpu load, cpu temperature, memory, host).',
      labelNames: ['reading'],
      registers,
    });
  }

  /** Counts one failed host reading (its telemetry fields are published as null). */
  hostReadFailed(reading: string): void {
    this.hostReadFailures.inc({ reading });
  }

  /** Counts one finished cascade call on frames from `source`. */
  recordBatch(source: string, report: BatchReport, results: readonly CascadeResult[]): void {
    let ok = 0;
    let failed = 0;
    let escalated = 0;
    // Counted here and added once per effort: a labelled inc() per frame costs more than the rest of this loop.
    const byEffort = new Map<number, number>();
    for (const result of results) {
      if (!result.ok) {
        failed++;
        continue;
      }
      ok++;
      if (result.escalated) escalated++;
      // The low effort answered when it ran and nothing was escalated (under the 'high' policy it never runs).
      else if (result.latencyMs.low !== undefined) this.totals.answeredLow++;
      byEffort.set(result.effort, (byEffort.get(result.effort) ?? 0) + 1);
    }
    for (const [effort, count] of byEffort) this.answeredByEffort.inc({ effort: String(effort) }, count);
    this.frames.inc({ source, outcome: 'ok' }, ok);
    this.frames.inc({ source, outcome: 'failed' }, failed);
    this.escalations.inc({ source }, escalated);
    for (const stage of STAGES) {
      const ms = report.latencyMs[stage];
      if (ms !== undefined) this.stageLatency.observe({ stage }, ms / 1000);
    }
    this.totals.frames += results.length;
    this.totals.failed += failed;
    this.totals.escalated += escalated;
    this.totals.classified += ok;
    if (results.length) this.lastFrame = new Date();
  }

  setPublisher(stats: PublisherStats): void {
    this.mqttConnected.set(stats.connected ? 1 : 0);
    this.outboxDepth.set(stats.outbox_depth);
    this.outboxDropped.set(stats.outbox_dropped);
    if (stats.outbox_corrupt !== undefined) this.outboxCorrupt.set(stats.outbox_corrupt);
    if (stats.outbox_written_bytes !== undefined) this.outboxWritten.set(stats.outbox_written_bytes);
    if (stats.published !== undefined) this.mqttPublished.set(stats.published);
    if (stats.reconnects !== undefined) this.mqttReconnects.set(stats.reconnects);
  }

  setSources(stats: Record<string, SourceStats>): void {
    for (const [source, s] of Object.entries(stats)) {
      this.sourceDropped.set(s.dropped, { source });
      this.sourceErrors.set(s.errors, { source });
    }
  }

  /** Totals since start, for the telemetry message. */
  snapshot(): PipelineCounters {
    const { frames, failed, escalated, classified, answeredLow } = this.totals;
    return { frames, failed, escalated, fraction_low: classified ? answeredLow / classified : null };
  }

  /** When the last batch with frames finished; undefined before the first. */
  lastFrameAt(): Date | undefined {
    return this.lastFrame;
  }

  /** The Prometheus exposition, with publisher and source stats read from the live getters first. */
  async render(): Promise<{ contentType: string; body: string }> {
    if (this.live.publisher) this.setPublisher(this.live.publisher());
    if (this.live.sources) this.setSources(this.live.sources());
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
