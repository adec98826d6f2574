/**
 * /healthz: whether the daemon is doing its job, for systemd/Docker/Kubernetes probes and
 * uptime monitors. The status is `degraded` (HTTP 503) when either
 *  - MQTT has been disconnected for longer than `mqttGraceS` (default 60 s), counted from
 *    start when it never connected: results pile up in the outbox instead of reaching
 *    anyone; short reconnects and broker restarts stay `ok`; or
 *  - every source is failing: a source fails when its error count grew since it last
 *    produced a frame (a camera unplugged, a snapshot URL refusing), and recovers with its
 *    next frame. An idle source (an empty watched folder) is not failing.
 * Anything else is `ok` (HTTP 200). `reasons` says why in plain words.
 *
 * The outage is timed from the publisher's `disconnected_since` when it reports one; otherwise
 * from the first report() that sees the broker gone (or from start).
 */
import type { SourceStats } from '../types.js';
import type { PublisherStats } from '../telemetry/metrics.js';
import { sourcesPayload } from '../telemetry/telemetry.js';
import type { TelemetryPayload } from '../publish/topics.js';

export interface HealthReport {
  status: 'ok' | 'degraded';
  /** Why the status is degraded; empty when ok. */
  reasons: string[];
  mqtt_connected: boolean;
  /** The publisher's last connection or publish problem (credentials redacted), when it reports one. */
  mqtt_last_error?: string | null;
  outbox_depth: number;
  sources: Record<string, TelemetryPayload['sources'][string] & { failing: boolean }>;
  /** ISO 8601 time the last batch of frames was classified; null before the first. */
  last_frame_at: string | null;
  uptime_s: number;
}

export interface HealthOptions {
  publisher: () => PublisherStats;
  sources: () => Record<string, SourceStats>;
  lastFrameAt: () => Date | undefined;
  /** Seconds MQTT may stay disconnected before the daemon is degraded. Default 60. */
  mqttGraceS?: number;
  /** Clock in ms (tests). */
  now?: () => number;
}

interface SourceSeen {
  produced: number;
  errors: number;
  failing: boolean;
}

export class HealthMonitor {
  private readonly now: () => number;
  private readonly graceMs: number;
  /** When MQTT was first seen down (start counts as down until the first connection). */
  private disconnectedSince: number | undefined;
  private readonly seen = new Map<string, SourceSeen>();

  constructor(private readonly options: HealthOptions) {
    this.now = options.now ?? Date.now;
    this.graceMs = (options.mqttGraceS ?? 60) * 1000;
    this.disconnectedSince = this.now();
  }

  report(): HealthReport {
    const now = this.now();
    const publisher = this.options.publisher();
    if (publisher.connected) this.disconnectedSince = undefined;
    else if (publisher.disconnected_since) this.disconnectedSince = Date.parse(publisher.disconnected_since);
    else this.disconnectedSince ??= now;
    const reasons: string[] = [];
    if (this.disconnectedSince !== undefined && now - this.disconnectedSince > this.graceMs)
      reasons.push(
        `MQTT disconnected for ${Math.round((now - this.disconnectedSince) / 1000)} s${publisher.last_error ? ` (${publisher.last_error})` : ''}`,
      );

    const stats = this.options.sources();
    const sources: HealthReport['sources'] = {};
    for (const [name, source] of Object.entries(sourcesPayload(stats))) sources[name] = { ...source, failing: this.failing(name, source) };
    const names = Object.keys(sources);
    if (names.length && names.every((name) => sources[name]!.failing))
      reasons.push(`every source is failing: ${names.map((name) => `${name} (${sources[name]!.last_error ?? 'errors'})`).join(', ')}`);

    const lastFrame = this.options.lastFrameAt();
    return {
      status: reasons.length ? 'degraded' : 'ok',
      reasons,
      mqtt_connected: publisher.connected,
      ...(publisher.last_error !== undefined ? { mqtt_last_error: publisher.last_error } : {}),
      outbox_depth: publisher.outbox_depth,
      sources,
      last_frame_at: lastFrame ? lastFrame.toISOString() : null,
      uptime_s: Math.round(process.uptime()),
    };
  }

  /** Updates what is known of a source: a new frame clears failing, new errors without one set it. */
  private failing(name: string, stats: { produced: number; errors: number }): boolean {
    const before = this.seen.get(name);
    let failing: boolean;
    if (!before) failing = stats.errors > 0 && stats.produced === 0;
    else if (stats.produced > before.produced) failing = false;
    else if (stats.errors > before.errors) failing = true;
    else failing = before.failing;
    this.seen.set(name, { produced: stats.produced, errors: stats.errors, failing });
    return failing;
  }
}
