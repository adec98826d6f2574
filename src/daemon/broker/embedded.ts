/**
 * The embedded MQTT broker (`mqtt.url: embedded`, and the built-in default): aedes on a TCP
 * listener, so a device with no broker of its own still publishes somewhere any MQTT client
 * (mosquitto_sub, MQTT Explorer, Home Assistant) can subscribe. Retained messages and sessions
 * live in memory: results still reach the daemon's outbox on disk first, like with any broker.
 */
import { createServer, type Server } from 'node:net';
import { Aedes } from 'aedes';
import type { Logger } from 'pino';
import { PivotError } from '../../errors.js';
import { type ListenError, listenOn, PORT_TRIES } from '../listen.js';
import type { Component } from '../types.js';

export interface EmbeddedBrokerOptions {
  host: string;
  /** Wanted port; if another process holds it, the next free one is used (and logged). */
  port: number;
  logger: Logger;
}

export class EmbeddedBroker implements Component {
  private aedes: Aedes | undefined;
  private server: Server | undefined;
  private boundPort: number | undefined;

  constructor(private readonly options: EmbeddedBrokerOptions) {}

  /** mqtt://host:port the broker listens on (after start()). */
  get url(): string {
    if (this.boundPort === undefined) throw new PivotError('the embedded MQTT broker is not started');
    return `mqtt://${this.options.host}:${this.boundPort}`;
  }

  get port(): number | undefined {
    return this.boundPort;
  }

  async start(): Promise<void> {
    if (this.server) return;
    const { host, port, logger } = this.options;
    const aedes = await Aedes.createBroker();
    aedes.on('clientError', (client, err) => logger.debug({ client: client.id, reason: err.message }, 'MQTT client error'));
    const server = createServer(aedes.handle);
    let bound: number;
    try {
      bound = await listenOn(server, host, port, true);
    } catch (err) {
      aedes.close();
      const { port: last, error, allTaken } = err as ListenError;
      throw new PivotError(
        allTaken
          ? `embedded MQTT broker: ports ${port}-${port + PORT_TRIES - 1} on ${host} are all taken`
          : `embedded MQTT broker: cannot listen on ${host}:${last}: ${error.code ?? error.message}`,
        { cause: err },
      );
    }
    this.aedes = aedes;
    this.server = server;
    this.boundPort = bound;
    if (bound !== port)
      logger.warn(
        { port, used: bound },
        `port ${port} is taken (another MQTT broker?): the embedded broker listens on ${host}:${bound} instead`,
      );
    logger.info({ url: this.url }, `embedded MQTT broker listening on ${this.url}`);
  }

  /** Disconnects every client and closes the listener. */
  async stop(): Promise<void> {
    const { aedes, server } = this;
    this.aedes = undefined;
    this.server = undefined;
    if (!aedes || !server) return;
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
