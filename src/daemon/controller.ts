/**
 * The daemon's composition root: builds every component from the config, starts them in
 * dependency order, runs one classify loop per source, and stops everything in reverse.
 *
 * Per source:  take frames -> cascade (one batch) -> result/error payload -> outbox (disk)
 *              -> frame.settle()  (so a crash before the outbox write means reprocessing,
 *              never a lost frame). Three batches of a source are in the cascade at once:
 *              while one is inferred the next two decode (sharp, on libuv threads), a batch
 *              deeper than the bare cascade's prefetch, so a decode slowed by other work on
 *              the machine leaves inference waiting less often. A batch leaves the cascade
 *              as soon as it is inferred: its results queue to the outbox in the order the
 *              frames were taken, and waiting for the group commit (and its frames settling)
 *              runs beside the next batches' inference, up to MAX_UNCOMMITTED batches.
 *
 * Live changes (a `set` command over MQTT: control/live.ts; a SIGHUP reload: reload.ts) are
 * applied one at a time (cascades.ts) and between batches: a batch runs to the end with the cascade it started with, and the next
 * batch of every source takes the new one, so no frame is lost or classified twice.
 */
import { basename } from 'node:path';
import type { Logger } from 'pino';
import type { BatchReport, CascadeResult } from '../cascade/index.js';
import { guaranteeLine, type Deployment } from '../config/deploy.js';
import { PivotError } from '../errors.js';
import { VERSION } from '../version.js';
import { EmbeddedBroker } from './broker/index.js';
import { Cascades, type Active } from './cascades.js';
import { EMBEDDED, type LoadedDaemonConfig, type MqttConfig, type SourceConfig } from './config.js';
import { LiveControl, type ConfigPayload, type SetReply, type Settings } from './control/index.js';
import { HealthMonitor, HttpServer } from './http/index.js';
import { outcomePayload } from './payloads.js';
import { MqttPublisher, Outbox, baseTopic, discoveryMessages, topics } from './publish/index.js';
import { reloadConfig } from './reload.js';
import { createSource } from './sources/index.js';
import { PipelineMetrics, Telemetry } from './telemetry/index.js';
import type { Frame, FrameSource, SourceStats } from './types.js';

/** How long stop() waits for the outbox to drain to a connected broker before leaving the rest on disk. */
const FLUSH_ON_STOP_MS = 5_000;
/** Batches of one source in the cascade at once (see the file comment). */
const PIPELINE_DEPTH = 3;
/** Batches of one source inferred and waiting for their outbox commit before the source waits too. */
const MAX_UNCOMMITTED = 64;

export interface DaemonOptions {
  /** Level of the one line logged per classified frame: `info` for a person at a terminal; default `debug`. */
  resultLogLevel?: 'info' | 'debug';
  /** If http.port is taken, say so and use the next free port (the built-in default, like its embedded broker). */
  httpNextFreePort?: boolean;
}

/** A started source and its classify loop. */
interface Running {
  config: SourceConfig;
  source: FrameSource;
  abort: AbortController;
  loop: Promise<void>;
}

export class Daemon {
  readonly device: string;
  readonly metrics: PipelineMetrics;
  readonly publisher: MqttPublisher;
  readonly health: HealthMonitor;
  readonly http?: HttpServer;
  /** The broker inside the daemon, with `mqtt.url: embedded`. */
  readonly broker?: EmbeddedBroker;
  private current: LoadedDaemonConfig;
  /** The publisher's MQTT settings (shared object: the embedded broker's URL is set in it at start). */
  private readonly mqtt: MqttConfig;
  private readonly sources = new Map<string, Running>();
  private readonly telemetry: Telemetry;
  private readonly logger: Logger;
  private readonly log: Logger;
  private readonly cascades: Cascades;
  private readonly control: LiveControl;
  private stopping?: Promise<void>;
  private readonly resultLogLevel: 'info' | 'debug';

  /** Builds the components; no I/O until start(). */
  constructor(loaded: LoadedDaemonConfig, logger: Logger, options: DaemonOptions = {}) {
    this.current = loaded;
    const { config } = loaded;
    this.logger = logger;
    this.log = logger.child({ component: 'daemon' });
    this.resultLogLevel = options.resultLogLevel ?? 'debug';
    this.device = config.device_id;
    // The publisher reads mqtt.url at start(): for an embedded broker it is filled in once that listens.
    const mqtt = (this.mqtt = { ...config.mqtt });
    if (config.mqtt.url === EMBEDDED)
      this.broker = new EmbeddedBroker({ ...config.mqtt.embedded, logger: logger.child({ component: 'broker' }) });
    const sourceStats = () => this.sourceStats();
    const control = config.control.enabled;
    this.cascades = new Cascades(config.runtime);
    this.publisher = new MqttPublisher({
      mqtt,
      device: this.device,
      // The publisher opens and closes the outbox with its own start() and stop().
      outbox: new Outbox(config.outbox, logger.child({ component: 'outbox' })),
      logger: logger.child({ component: 'mqtt' }),
      discovery: () =>
        discoveryMessages({
          device: this.device,
          base: this.publisher.base,
          sources: this.sourceNames(),
          prefix: config.mqtt.discovery.prefix,
          model: this.cascades.active?.settings.deployment.family.manifest.name ?? 'unknown',
          swVersion: VERSION,
          control,
        }),
      announce: () => (this.cascades.active ? [this.control.configMessage()] : []),
      ...(control
        ? {
            commands: {
              topic: topics.set(baseTopic(config.mqtt.topic_prefix, config.device_id)),
              handle: (payload: string) => void this.set(payload),
            },
          }
        : {}),
    });
    this.control = new LiveControl({
      device: this.device,
      cascades: this.cascades,
      publisher: this.publisher,
      log: this.log,
      loaded: () => this.current,
      sourceNames: () => this.sourceNames(),
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
        nextFreePort: options.httpNextFreePort ?? false,
        metrics: this.metrics,
        health: () => this.health.report(),
        logger: logger.child({ component: 'http' }),
      });
  }

  /** The config in force (the last one reloaded, for the parts a reload changes). */
  get loaded(): LoadedDaemonConfig {
    return this.current;
  }

  /** The settings the next batch runs with. */
  get settings(): ConfigPayload | undefined {
    return this.cascades.active ? this.control.configPayload() : undefined;
  }

  /** Loads the model, opens the outbox, connects, starts the sources and their classify loops. */
  async start(): Promise<void> {
    const { config } = this.current;
    const first = await this.cascades.open(await this.control.startupSettings());
    this.cascades.activate(first);
    const { deployment, policy } = first.settings;
    this.log.info(
      {
        deploy: deployment.path,
        low: deployment.config.low,
        high: deployment.config.high,
        threshold: deployment.config.threshold,
        policy,
        guarantee: guaranteeLine(deployment.config),
      },
      'model loaded',
    );
    if (this.broker) {
      await this.broker.start();
      this.mqtt.url = this.broker.url;
    }
    await this.publisher.start();
    for (const source of config.sources) await this.startSource(source);
    await this.telemetry.start();
    await this.http?.start();
    this.log.info({ device: this.device, base: this.publisher.base, sources: this.sourceLabels() }, 'daemon running');
  }

  /** Stops taking frames, finishes the batches in flight, drains what it can, and releases everything. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  /** Applies a `set` command (JSON text) between batches; see LiveControl. */
  set(payload: string): Promise<SetReply> {
    return this.control.set(payload);
  }

  /** Takes a new config (SIGHUP), already validated; see reloadConfig. */
  reload(next: LoadedDaemonConfig): Promise<void> {
    return reloadConfig(
      {
        device: this.device,
        cascades: this.cascades,
        control: this.control,
        publisher: this.publisher,
        log: this.log,
        loaded: () => this.current,
        replace: (loaded) => void (this.current = loaded),
        running: () => new Map([...this.sources].map(([name, { config }]) => [name, config])),
        startSource: (config) => this.startSource(config),
        stopSource: (name) => this.stopSource(name),
        sourceLabels: () => this.sourceLabels(),
      },
      next,
    );
  }

  private async shutdown(): Promise<void> {
    this.log.info('stopping');
    await Promise.allSettled([...this.sources.keys()].map((name) => this.stopSource(name)));
    await this.cascades.idle();
    await this.telemetry.stop();
    await this.http?.stop();
    const drained = await this.publisher.flush(FLUSH_ON_STOP_MS);
    if (!drained)
      this.log.warn(
        { outbox_depth: this.publisher.stats().outbox_depth },
        'broker did not take every message: the rest stay in the outbox for the next start',
      );
    await this.publisher.stop();
    await this.broker?.stop();
    await this.cascades.close();
    this.log.info('stopped');
  }

  private async startSource(config: SourceConfig): Promise<void> {
    const source = createSource(config, this.logger, { onFailure: (message) => this.publishSourceError(config.name, message) });
    await source.start();
    const abort = new AbortController();
    this.sources.set(config.name, { config, source, abort, loop: this.serve(source, abort.signal) });
  }

  /**
   * A source's capture failure (a camera gone, its program not installed) on the source's error
   * topic, once per distinct failure; it has no frame, so `frame` and `input` are empty.
   */
  private publishSourceError(source: string, message: string): void {
    const payload = {
      device: this.device,
      source,
      frame: '',
      input: '',
      captured_at: new Date().toISOString(),
      error: 'SourceError',
      message,
    };
    this.publisher
      .enqueue('error', source, payload)
      .catch((err: unknown) => this.log.debug({ err, source }, 'source error not queued (outbox closed)'));
  }

  /** Stops taking frames from a source and waits for its batch in flight. */
  private async stopSource(name: string): Promise<void> {
    const running = this.sources.get(name);
    if (!running) return;
    this.sources.delete(name);
    running.abort.abort();
    await running.source.stop().catch((err: unknown) => this.log.warn({ err, source: name }, 'source did not stop cleanly'));
    await running.loop;
  }

  /** One source's loop: batches of frames through the cascade until the daemon stops. */
  private async serve(source: FrameSource, signal: AbortSignal): Promise<void> {
    const { batch_size } = this.current.config.runtime;
    /** Batches in the cascade (decoding or inferring). */
    const inferring = new Set<Promise<void>>();
    /** Batches inferred, waiting for their commit and settling their frames. */
    const committing = new Set<Promise<void>>();
    /** Resolves once the previous batch has handed its results to the outbox (or given up). */
    let previousQueued: Promise<void> = Promise.resolve();
    while (!signal.aborted) {
      if (inferring.size >= PIPELINE_DEPTH) await Promise.race(inferring);
      if (committing.size >= MAX_UNCOMMITTED) await Promise.race(committing);
      const frames = await source.take(batch_size, signal);
      if (!frames.length) continue;
      const active = this.cascades.active!;
      const inferred = this.infer(active, source, frames);
      const inCascade = inferred.then(
        () => undefined,
        () => undefined,
      );
      inferring.add(inCascade);
      // The runtime closes (after a change of deployment) only once its batches are inferred.
      active.inFlight.add(inCascade);
      void inCascade.then(() => {
        inferring.delete(inCascade);
        active.inFlight.delete(inCascade);
      });
      let markQueued!: () => void;
      const queued = new Promise<void>((resolve) => (markQueued = resolve));
      const turn = previousQueued;
      previousQueued = queued;
      const batch = inferred
        .then(async (results) => {
          await turn;
          await this.commit(active.settings, source, frames, results, markQueued);
        })
        .catch((err: unknown) => {
          // Only an outbox write can get here (infer turns cascade failures into per-frame errors):
          // the frames stay unsettled, so a directory source offers them again after a restart.
          this.log.error({ err, source: source.name, frames: frames.length }, 'could not queue results; frames left unsettled');
        })
        .finally(() => {
          markQueued();
          committing.delete(batch);
        });
      committing.add(batch);
    }
    await Promise.allSettled([...inferring, ...committing]);
  }

  /** One batch through the cascade; a runtime fault becomes a failed result per frame. */
  private async infer({ cascade }: Active, source: FrameSource, frames: Frame[]): Promise<CascadeResult[]> {
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
    return results;
  }

  /** A batch's results to the outbox (`queued()` once they have their place in it), then its frames settle once durable. */
  private async commit(
    settings: Settings,
    source: FrameSource,
    frames: Frame[],
    results: CascadeResult[],
    queued: () => void,
  ): Promise<void> {
    const { deployment } = settings;
    // The frames settle (a folder source moves its files) only once the outbox has the results on disk.
    const committed = this.publisher.enqueueMany(
      frames.map((frame, i) => ({ source: source.name, ...outcomePayload(this.device, frame, results[i]!, settings) })),
    );
    queued();
    await committed;
    await Promise.all(
      frames.map(async (frame, i) => {
        const result = results[i]!;
        if (result.ok) this.logResult(source.name, frame, result, deployment);
        else this.log.warn({ source: source.name, input: frame.name, reason: result.error.message }, 'frame not classified');
        try {
          await frame.settle(result.ok ? { ok: true } : { ok: false, reason: result.error.message });
        } catch (err) {
          this.log.error({ err, input: frame.name }, 'could not settle frame');
        }
      }),
    );
  }

  private logResult(source: string, frame: Frame, result: Extract<CascadeResult, { ok: true }>, deployment: Deployment): void {
    if (!this.log.isLevelEnabled(this.resultLogLevel)) return;
    const route = result.escalated ? `escalated to effort ${result.effort}` : `effort ${result.effort}`;
    this.log[this.resultLogLevel](
      {
        result: {
          source,
          input: frame.name,
          label: result.label,
          probability: result.probability,
          effort: result.effort,
          threshold: deployment.config.threshold,
        },
      },
      `${source}: ${basename(frame.name)} -> ${result.label} (p ${result.probability.toFixed(2)}, ${route})`,
    );
  }

  private sourceNames(): string[] {
    return this.current.config.sources.map((s) => s.name);
  }

  private sourceLabels(): string[] {
    return [...this.sources.values()].map(({ source }) => `${source.name} (${source.type})`);
  }

  private sourceStats(): Record<string, SourceStats> {
    return Object.fromEntries([...this.sources.values()].map(({ source }) => [source.name, source.stats()]));
  }
}
