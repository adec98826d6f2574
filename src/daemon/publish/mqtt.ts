/**
 * The MQTT publisher: drains the outbox to the broker in order, deleting each message only
 * after the broker's PUBACK, so a broker or network outage loses nothing (at-least-once;
 * a reconnect may duplicate). Announces itself with a retained `online` (LWT `offline`) and
 * Home Assistant discovery on every connect.
 */
import { readFile } from 'node:fs/promises';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { ConfigError } from '../../errors.js';
import { readFailure } from '../../util/files.js';
import { redactUrl, takeCredentials } from '../../util/url.js';
import type { MqttConfig } from '../config.js';
import type { Component } from '../types.js';
import type { Outbox, OutboxEntry, OutboxMessage } from './outbox.js';
import { baseTopic, topics, type Availability, type ErrorPayload, type ResultPayload, type TelemetryPayload } from './topics.js';

export interface MqttPublisherOptions {
  mqtt: MqttConfig;
  /** Device id: topics live under `<mqtt.topic_prefix>/<device>`. */
  device: string;
  /** Opened by start() and closed by stop(). */
  outbox: Outbox;
  logger: Logger;
  /** Home Assistant discovery messages (see discoveryMessages); sent when mqtt.discovery.enabled. */
  discovery?: () => OutboxMessage[];
  /** Retained state sent on every connect (e.g. the current settings), after `online`. */
  announce?: () => OutboxMessage[];
  /** A topic subscribed to on every connect, and what handles its messages (live control). */
  commands?: { topic: string; handle: (payload: string) => void };
}

export interface MqttPublisherStats {
  connected: boolean;
  outbox_depth: number;
  outbox_dropped: number;
  /** Outbox records found unreadable at start (torn or corrupt after a power cut) and skipped. */
  outbox_corrupt: number;
  /** Bytes the outbox wrote to disk since start (journal records and its state file): storage wear. */
  outbox_written_bytes: number;
  /** Outbox messages the broker acknowledged since start. */
  published: number;
  reconnects: number;
  /** Last connection or publish problem (redacted), null if none yet. */
  last_error: string | null;
  /** ISO time the broker connection was lost (or first tried, if never up); null while connected. */
  disconnected_since: string | null;
}

/** Outbox messages sent and awaiting PUBACK at once: keeps the link busy without flooding a slow broker. */
const IN_FLIGHT = 64;
/**
 * Sending resumes once this many PUBACKs came back: publishes made together leave in one socket
 * write (mqtt.js corks the socket until the next tick), and the broker takes them in one read,
 * instead of a write and a wakeup per PUBACK.
 */
const REFILL = IN_FLIGHT / 2;
/** How long stop() waits for the `offline` PUBACK and a clean DISCONNECT before closing the socket. */
const STOP_TIMEOUT_MS = 3_000;

const DEFAULT_PORTS = { mqtt: 1883, tcp: 1883, mqtts: 8883, ssl: 8883, ws: 80, wss: 443 } as const;
type Scheme = keyof typeof DEFAULT_PORTS;

interface BrokerAddress {
  host: string;
  port: number;
  protocol: Scheme;
  /** The URL without credentials: what mqtt.js gets and logs show. */
  url: string;
  username?: string;
  password?: string;
}

/** Splits one broker URL into its address (for mqtt.js's `servers`, i.e. a broker cluster) and its credentials. */
function parseBroker(url: string): BrokerAddress {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(`mqtt.url: '${redactUrl(url)}' is not a valid URL (expected e.g. mqtt://host:1883)`);
  }
  const protocol = parsed.protocol.replace(/:$/, '');
  if (!(protocol in DEFAULT_PORTS)) {
    throw new ConfigError(
      `mqtt.url: '${redactUrl(url)}' has unsupported scheme '${protocol}' (use ${Object.keys(DEFAULT_PORTS).join(', ')})`,
    );
  }
  const scheme = protocol as Scheme;
  const { username, password } = takeCredentials(parsed);
  return {
    host: parsed.hostname,
    port: parsed.port ? Number(parsed.port) : DEFAULT_PORTS[scheme],
    protocol: scheme,
    url: parsed.pathname === '/' && !parsed.search ? parsed.toString().replace(/\/$/, '') : parsed.toString(),
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
  };
}

async function readTlsFile(field: 'ca' | 'cert' | 'key', file: string | undefined): Promise<Buffer | undefined> {
  if (!file) return undefined;
  try {
    return await readFile(file);
  } catch (err) {
    throw new ConfigError(`mqtt.tls.${field}: ${file}: ${readFailure(err)}`, { cause: err });
  }
}

/** A result or error to publish, as the controller hands it over (the publisher adds `seq`). */
export type Outgoing = { [K in keyof Unsequenced]: { kind: K; source: string; payload: Unsequenced[K] } }[keyof Unsequenced];
interface Unsequenced {
  result: ResultPayload;
  error: ErrorPayload;
}

export class MqttPublisher implements Component {
  readonly base: string;
  private client: MqttClient | undefined;
  private readonly log: Logger;
  /** Outbox ids published and awaiting the broker's PUBACK (mqtt.js re-sends them itself after a reconnect). */
  private readonly inFlight = new Set<number>();
  private readonly flushWaiters = new Set<() => void>();
  private published = 0;
  private reconnects = 0;
  private lastError: string | null = null;
  /** Last logged problem per broker URL, so a broker that stays down is logged once, not at every retry. */
  private readonly problems = new Map<string, string>();
  private stopped = false;

  constructor(private readonly options: MqttPublisherOptions) {
    this.base = baseTopic(options.mqtt.topic_prefix, options.device);
    this.log = options.logger;
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  /** When the connection went down (ms since epoch), so /healthz times an outage from its start. */
  private disconnectedAt: number | null = Date.now();

  /** Opens the outbox and starts connecting; resolves without waiting for the broker, which may be away. */
  async start(): Promise<void> {
    if (this.client) return;
    const brokers = this.brokers();
    const clientOptions = await this.clientOptions(brokers);
    await this.options.outbox.open();
    const client = connect((brokers[0] as BrokerAddress).url, clientOptions);
    this.client = client;
    client.on('connect', () => this.onConnect());
    client.on('reconnect', () => this.reconnects++);
    client.on('error', (err) => this.onProblem(err.message));
    client.on('close', () => {
      this.disconnectedAt ??= Date.now();
      if (this.problems.size === 0 && !this.stopped) this.onProblem('connection closed');
    });
    client.on('message', (topic, payload, packet) => this.onMessage(topic, payload.toString(), packet.retain));
    this.log.info({ url: brokers.map((b) => b.url), client_id: clientOptions.clientId, base: this.base }, 'connecting to MQTT broker');
  }

  /** Queues a result or error for `source`; resolves once it is on disk (not once it is published). */
  async enqueue<K extends keyof Unsequenced>(kind: K, source: string, payload: Unsequenced[K]): Promise<void> {
    await this.enqueueMany([{ kind, source, payload } as Outgoing]);
  }

  /**
   * Queues several results/errors in one outbox commit (one fsync); resolves once all are on
   * disk. Each gets its source's next `seq`, in call order.
   */
  async enqueueMany(messages: readonly Outgoing[]): Promise<void> {
    const { outbox } = this.options;
    await outbox.appendMany(
      messages.map(({ kind, source, payload }) => {
        const seq = outbox.nextSeq(source);
        const { device, source: from, ...rest } = payload;
        return {
          topic: topics[kind](this.base, source),
          payload: JSON.stringify({ device, source: from, seq, ...rest }),
          qos: this.options.mqtt.qos,
          retain: false,
          stream: source,
          seq,
        };
      }),
    );
    this.pump();
  }

  /** Latest health snapshot (QoS 0, retained); skipped while offline, as the next one supersedes it. */
  publishTelemetry(payload: TelemetryPayload): void {
    if (!this.client?.connected) return;
    this.client.publish(topics.telemetry(this.base), JSON.stringify(payload), { qos: 0, retain: true }, () => undefined);
  }

  stats(): MqttPublisherStats {
    return {
      connected: this.connected,
      outbox_depth: this.options.outbox.depth,
      outbox_dropped: this.options.outbox.dropped,
      outbox_corrupt: this.options.outbox.corrupt,
      outbox_written_bytes: this.options.outbox.bytesWritten,
      published: this.published,
      reconnects: this.reconnects,
      last_error: this.lastError,
      disconnected_since: this.disconnectedAt === null ? null : new Date(this.disconnectedAt).toISOString(),
    };
  }

  /** Resolves true once the outbox is empty, false if `timeoutMs` passes first. */
  flush(timeoutMs: number): Promise<boolean> {
    if (this.options.outbox.depth === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.flushWaiters.delete(waiter);
        resolve(ok);
      };
      const waiter = () => {
        if (this.options.outbox.depth === 0) done(true);
      };
      const timer = setTimeout(() => done(false), timeoutMs);
      this.flushWaiters.add(waiter);
    });
  }

  /** Publishes a retained `offline` if connected, disconnects cleanly (no LWT) and closes the outbox. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const client = this.client;
    if (client) {
      if (client.connected) {
        const graceful = (async () => {
          await client.publishAsync(topics.availability(this.base), 'offline' satisfies Availability, { qos: 1, retain: true });
          await client.endAsync();
        })();
        const ok = await Promise.race([graceful.then(() => true), delay(STOP_TIMEOUT_MS).then(() => false)]).catch(() => false);
        if (!ok) await client.endAsync(true);
      } else {
        await client.endAsync(true);
      }
    }
    await this.options.outbox.close();
    this.log.info({ outbox_depth: this.options.outbox.depth }, 'MQTT publisher stopped');
  }

  private urls(): string[] {
    const { url } = this.options.mqtt;
    return Array.isArray(url) ? url : [url];
  }

  private brokers(): BrokerAddress[] {
    return this.urls().map(parseBroker);
  }

  /**
   * Credentials: mqtt.username/password, else the first URL's user:password (mqtt.js has one
   * login for the whole cluster). URLs reach mqtt.js without them, so they cannot leak from there.
   */
  private async clientOptions(brokers: BrokerAddress[]): Promise<IClientOptions> {
    const { mqtt } = this.options;
    const fromUrl = brokers.find((b) => b.username !== undefined);
    const username = mqtt.username ?? fromUrl?.username;
    const password = mqtt.password ?? fromUrl?.password;
    const [ca, cert, key] = await Promise.all([
      readTlsFile('ca', mqtt.tls?.ca),
      readTlsFile('cert', mqtt.tls?.cert),
      readTlsFile('key', mqtt.tls?.key),
    ]);
    return {
      clientId: mqtt.client_id ?? `pivot-edge-${this.options.device}`,
      ...(username !== undefined ? { username } : {}),
      ...(password !== undefined ? { password } : {}),
      keepalive: mqtt.keepalive_s,
      reconnectPeriod: mqtt.reconnect_s * 1000,
      connectTimeout: Math.max(10_000, mqtt.reconnect_s * 1000),
      // A refused login (e.g. a user not created yet) or one refusing broker of a cluster is retried too.
      reconnectOnConnackError: true,
      clean: true,
      // We subscribe again in onConnect; mqtt.js' own resubscribe would only duplicate it.
      resubscribe: false,
      // Telemetry is the only QoS 0 traffic and a stale snapshot is not worth queueing.
      queueQoSZero: false,
      will: { topic: topics.availability(this.base), payload: Buffer.from('offline' satisfies Availability), qos: 1, retain: true },
      ...(brokers.length > 1 ? { servers: brokers.map(({ host, port, protocol }) => ({ host, port, protocol })) } : {}),
      ...(ca ? { ca } : {}),
      ...(cert ? { cert } : {}),
      ...(key ? { key } : {}),
      ...(mqtt.tls ? { rejectUnauthorized: mqtt.tls.reject_unauthorized } : {}),
    };
  }

  /** Order on the wire: online, discovery, then the outbox from its oldest message. */
  private onConnect(): void {
    this.disconnectedAt = null;
    const client = this.client;
    if (!client || this.stopped) return;
    this.problems.clear();
    this.log.info({ url: this.currentUrl() }, 'connected to MQTT broker');
    client.publish(topics.availability(this.base), 'online' satisfies Availability, { qos: 1, retain: true }, () => undefined);
    for (const message of this.options.announce?.() ?? []) this.publishNow(message);
    const { commands } = this.options;
    if (commands)
      client.subscribe(commands.topic, { qos: 1 }, (err) => {
        if (err) this.log.warn({ topic: commands.topic, err }, 'cannot subscribe to the control topic');
      });
    if (this.discoveryEnabled()) {
      this.publishDiscovery();
      client.subscribe(this.haStatusTopic(), { qos: 1 }, (err) => {
        if (err) this.log.warn({ topic: this.haStatusTopic(), err }, 'cannot subscribe to Home Assistant status');
      });
    }
    this.pump();
  }

  private discoveryEnabled(): boolean {
    return this.options.mqtt.discovery.enabled && this.options.discovery !== undefined;
  }

  private haStatusTopic(): string {
    return `${this.options.mqtt.discovery.prefix}/status`;
  }

  /** Home Assistant announces `online` when it (re)starts and has forgotten non-retained state: announce again. */
  private onMessage(topic: string, payload: string, retained: boolean): void {
    if (topic === this.options.commands?.topic) {
      // A retained command would be applied again at every reconnect, undoing later changes.
      if (retained) this.log.warn({ topic }, 'ignoring a retained command: publish commands without the retain flag');
      // An empty message is how a retained command is cleared from the broker, not a command.
      else if (payload === '') this.log.debug({ topic }, 'empty message on the command topic (a retained command cleared): ignored');
      else this.options.commands.handle(payload);
      return;
    }
    if (topic === this.haStatusTopic() && payload === 'online' && this.discoveryEnabled()) {
      this.log.info('Home Assistant is online: re-sending discovery');
      this.publishDiscovery();
    }
  }

  /** Sends discovery again (e.g. after the sources changed); a no-op while offline or with discovery off. */
  publishDiscovery(extra: readonly OutboxMessage[] = []): void {
    if (!this.discoveryEnabled() || !this.options.discovery) return;
    for (const message of [...extra, ...this.options.discovery()]) this.publishNow(message);
  }

  /**
   * Publishes straight away, bypassing the outbox: for state that the next connect re-announces
   * anyway (settings, discovery) and replies that only matter now. Dropped while offline.
   */
  publishNow(message: OutboxMessage): void {
    const client = this.client;
    if (!client?.connected || this.stopped) return;
    client.publish(message.topic, message.payload, { qos: message.qos, retain: message.retain }, () => undefined);
  }

  /** Sends outbox messages not yet in flight, oldest first, up to IN_FLIGHT awaiting PUBACK, REFILL or more at a time. */
  private pump(): void {
    const client = this.client;
    if (!client?.connected || this.stopped) return;
    const free = IN_FLIGHT - this.inFlight.size;
    if (free < REFILL && this.inFlight.size > 0) return;
    let sent = 0;
    // Wide enough to hold every in-flight entry plus `free` unsent ones.
    for (const entry of this.options.outbox.peek(IN_FLIGHT + this.inFlight.size)) {
      if (sent >= free) break;
      if (this.inFlight.has(entry.id)) continue;
      this.inFlight.add(entry.id);
      sent++;
      client.publish(entry.topic, entry.payload, { qos: entry.qos, retain: entry.retain }, (err) => this.onSent(entry, err));
    }
  }

  /** Called with the PUBACK (QoS 1), PUBCOMP (QoS 2) or once written (QoS 0). */
  private onSent(entry: OutboxEntry, err: Error | undefined): void {
    this.inFlight.delete(entry.id);
    if (err) {
      // Not acknowledged (client ending): it stays in the outbox and goes out after the next connect.
      this.lastError = this.scrub(err.message);
      this.log.debug({ topic: entry.topic, reason: this.lastError }, 'publish not acknowledged; kept in outbox');
      return;
    }
    this.options.outbox.ack(entry.id);
    this.published++;
    for (const waiter of [...this.flushWaiters]) waiter();
    this.pump();
  }

  private onProblem(message: string): void {
    const reason = this.scrub(message);
    this.lastError = reason;
    const url = this.currentUrl();
    if (this.problems.get(url) === reason) return;
    this.problems.set(url, reason);
    this.log.warn(
      { url, reason, retry_s: this.options.mqtt.reconnect_s, outbox_depth: this.options.outbox.depth },
      'MQTT broker unavailable; queuing to the outbox and retrying',
    );
  }

  /** The broker being tried now, without credentials (mqtt.js rotates host/port through `servers`). */
  private currentUrl(): string {
    const o = this.client?.options;
    if (!o?.hostname && !o?.host) return redactUrl(this.urls()[0] as string);
    return `${o.protocol ?? 'mqtt'}://${o.hostname ?? o.host}:${o.port}`;
  }

  /** Error texts come from sockets and the broker; make sure no secret slipped in. */
  private scrub(text: string): string {
    let out = text;
    const secrets = [this.options.mqtt.password, ...this.brokers().map((b) => b.password)];
    for (const secret of secrets) if (secret) out = out.split(secret).join('[redacted]');
    for (const url of this.urls()) out = out.split(url).join(redactUrl(url));
    return out;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
