/**
 * The daemon's composition root: builds every component from the config, starts them in
 * dependency order, runs one classify loop per source, and stops everything in reverse.
 *
 * Per source:  take frames -> cascade (one batch) -> result/error payload -> outbox (disk)
 *              -> frame.settle()  (so a crash before the outbox write means reprocessing,
 *              never a lost frame).
 */
import type { Logger } from 'pino';
import { openCascade, type BatchReport, type Cascade, type CascadeResult } from '../cascade/index.js';
import type { Deployment } from '../config/deploy.js';
import { PivotError } from '../errors.js';
import type { ModelRuntime } from '../model/index.js';
import type { LoadedDaemonConfig } from './config.js';
import { VERSION } from '../version.js';
import { HealthMonitor, HttpServer } from './http/index.js';
import { outcomePayload } from './payloads.js';
import { MqttPublisher, Outbox, discoveryMessages } from './publish/index.js';
import { createSource } from './sources/index.js';
import { PipelineMetrics, Telemetry } from './telemetry/index.js';
import type { Frame, FrameSource, SourceStats } from './types.js';

/** How long stop() waits for the outbox to drain to a connected broker before leaving the rest on disk. */
const FLUSH_ON_STOP_MS = 5_000;

export class Daemon {
  readonly device: string;
  readonly metrics: PipelineMetrics;
  readonly publisher: MqttPublisher;
  readonly health: HealthMonitor;
  readonly http?: HttpServer;
  private readonly sources: FrameSource[];
  private readonly telemetry: Telemetry;
  private readonly log: Logger;
  private readonly abort = new AbortController();
  private readonly loops: Promise<void>[] = [];
  private opened?: { deployment: Deployment; runtime: ModelRuntime; cascade: Cascade };
  private stopping?: Promise<void>;

  /** Builds the components; no I/O until start(). */
  constructor(
    readonly loaded: LoadedDaemonConfig,
    logger: Logger,
  ) {
    const { config } = loaded;
    this.log = logger.child({ component: 'daemon' });
    this.device = config.device_id;
    this.sources = config.sources.map((source) => createSource(source, logger));
    const sourceStats = () => this.sourceStats();
    this.publisher = new MqttPublisher({
      mqtt: config.mqtt,
      device: this.device,
      // The publisher opens and closes the outbox with its own start() and stop().
      outbox: new Outbox(config.outbox, logger.child({ component: 'outbox' })),
      logger: logger.child({ component: 'mqtt' }),
      discovery: () =>
        discoveryMessages({
          device: this.device,
          base: this.publisher.base,
          sources: config.sources.map((s) => s.name),
          prefix: config.mqtt.discovery.prefix,
          model: this.opened?.deployment.family.manifest.name ?? 'unknown',
          swVersion: VERSION,
        }),
    });
    const publisherStats = () => this.publisher.stats();
    this.metrics = new PipelineMetrics(this.device, { publisher: publisherStats, sources: sourceStats });
    this.telemetry = new Telemetry({
      device: this.device,
      intervalS: config.telemetry.interval_s,
      metrics: this.metrics,
      publish: (payload) => this.publisher.publishTelemetry(payload),
      sourceStats,
      publisherStats,
      logger: logger.child({ component: 'telemetry' }),
    });
    this.health = new HealthMonitor({ publisher: publisherStats, sources: sourceStats, lastFrameAt: () => this.metrics.lastFrameAt() });
    if (config.http.enabled)
      this.http = new HttpServer({
        host: config.http.host,
        port: config.http.port,
        metrics: this.metrics,
        health: () => this.health.report(),
        logger: logger.child({ component: 'http' }),
      });
  }

  /** Loads the model, opens the outbox, connects, starts the sources and their classify loops. */
  async start(): Promise<void> {
    const { config } = this.loaded;
    this.opened = await openCascade(
      { ...(config.deploy ? { deploy: config.deploy } : {}) },
      config.runtime.intra_op_threads !== undefined ? { intraOpThreads: config.runtime.intra_op_threads } : {},
      { batchSize: config.runtime.batch_size },
    );
    const { deployment } = this.opened;
    this.log.info(
      { deploy: deployment.path, low: deployment.config.low, high: deployment.config.high, threshold: deployment.config.threshold },
      'model loaded',
    );
    await this.publisher.start();
    for (const source of this.sources) await source.start();
    await this.telemetry.start();
    await this.http?.start();
    for (const source of this.sources) this.loops.push(this.serve(source));
    this.log.info({ device: this.device, base: this.publisher.base, sources: this.sources.map((s) => `${s.name} (${s.type})`) }, 'daemon running');
  }

  /** Stops taking frames, finishes the batches in flight, drains what it can, and releases everything. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    this.log.info('stopping');
    this.abort.abort();
    await Promise.allSettled(this.sources.map((s) => s.stop()));
    await Promise.allSettled(this.loops);
    await this.telemetry.stop();
    await this.http?.stop();
    const drained = await this.publisher.flush(FLUSH_ON_STOP_MS);
    if (!drained) this.log.warn({ outbox_depth: this.publisher.stats().outbox_depth }, 'broker did not take every message: the rest stay in the outbox for the next start');
    await this.publisher.stop();
    await this.opened?.runtime.close();
    this.log.info('stopped');
  }

  /** One source's loop: batches of frames through the cascade until the daemon stops. */
  private async serve(source: FrameSource): Promise<void> {
    const { signal } = this.abort;
    const { batch_size } = this.loaded.config.runtime;
    while (!signal.aborted) {
      const frames = await source.take(batch_size, signal);
      if (!frames.length) continue;
      try {
        await this.classify(source, frames);
      } catch (err) {
        // Only an outbox write can get here (classify turns cascade failures into per-frame errors):
        // the frames stay unsettled, so a directory source offers them again after a restart.
        this.log.error({ err, source: source.name, frames: frames.length }, 'could not queue results; frames left unsettled');
      }
    }
  }

  private async classify(source: FrameSource, frames: Frame[]): Promise<void> {
    const { cascade, deployment } = this.opened!;
    let results: CascadeResult[];
    let report: BatchReport;
    try {
      ({ results, report } = await cascade.classifyBatchWithReport(frames.map((frame) => ({ source: frame.image, name: frame.name }))));
    } catch (err) {
      // A runtime fault on inputs that decoded: report each frame as failed rather than stall the source.
      const error = err instanceof PivotError ? err : new PivotError((err as Error).message, { cause: err });
      this.log.error({ err: error, source: source.name }, 'cascade failed on a batch');
      results = frames.map((frame, index) => ({ ok: false, index, input: frame.name, error }));
      report = { count: frames.length, failed: frames.length, escalated: 0, latencyMs: { preprocess: 0 } };
    }
    this.metrics.recordBatch(source.name, report, results);
    // One outbox commit for the whole batch, then the frames settle (a folder source moves its files).
    await this.publisher.enqueueMany(frames.map((frame, i) => ({ source: source.name, ...outcomePayload(this.device, frame, results[i]!, deployment) })));
    await Promise.all(
      frames.map(async (frame, i) => {
        const result = results[i]!;
        if (!result.ok) this.log.warn({ source: source.name, input: frame.name, reason: result.error.message }, 'frame not classified');
        try {
          await frame.settle(result.ok ? { ok: true } : { ok: false, reason: result.error.message });
        } catch (err) {
          this.log.error({ err, input: frame.name }, 'could not settle frame');
        }
      }),
    );
  }

  private sourceStats(): Record<string, SourceStats> {
    return Object.fromEntries(this.sources.map((s) => [s.name, s.stats()]));
  }
}
