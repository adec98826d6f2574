/**
 * The daemon's HTTP endpoint: GET /metrics (Prometheus) and GET /healthz (JSON, 200 when
 * ok, 503 when degraded). HEAD is answered like GET without a body; other methods get 405,
 * other paths 404. Binds to loopback unless configured otherwise: the metrics name the
 * device's sources, which is nobody else's business by default.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { PivotError } from '../../errors.js';
import type { PipelineMetrics } from '../telemetry/metrics.js';
import { type ListenError, listenOn } from '../listen.js';
import type { Component } from '../types.js';
import type { HealthReport } from './health.js';

export interface HttpServerOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 picks a free port (tests). */
  port: number;
  /** If `port` is taken, say so in one line and use the next free one (the built-in default). */
  nextFreePort?: boolean;
  metrics: PipelineMetrics;
  health: () => HealthReport;
  logger: Logger;
}

type Route = (res: ServerResponse) => Promise<void>;

export class HttpServer implements Component {
  private readonly host: string;
  private server: Server | undefined;
  private readonly routes: Map<string, Route>;

  constructor(private readonly options: HttpServerOptions) {
    this.host = options.host ?? '127.0.0.1';
    // A Map, not an object: a request target must never reach an inherited property.
    this.routes = new Map<string, Route>([
      ['/metrics', (res) => this.serveMetrics(res)],
      ['/healthz', (res) => this.serveHealth(res)],
    ]);
  }

  async start(): Promise<void> {
    if (this.server) return;
    const server = createServer((req, res) =>
      this.handle(req, res).catch((err: unknown) => {
        // Never an unhandled rejection: that would take the daemon down for one bad request.
        this.options.logger.error({ err }, 'http: request failed');
        res.destroy();
      }),
    );
    const wanted = this.options.port;
    try {
      await listenOn(server, this.host, wanted, this.options.nextFreePort ?? false);
    } catch (err) {
      const { port: last, error } = err as ListenError;
      throw new PivotError(`http: cannot listen on ${hostPort(this.host, last)}: ${describeListenError(error)}`, { cause: err });
    }
    server.on('error', (err) => this.options.logger.error({ err }, 'http server error'));
    this.server = server;
    const { host, port } = this.address();
    if (wanted !== 0 && port !== wanted)
      this.options.logger.warn(
        { port: wanted, used: port },
        `port ${wanted} is taken (another pivot or exporter?): /metrics and /healthz are on ${hostPort(host, port)} instead`,
      );
    this.options.logger.info({ host, port }, `serving /metrics and /healthz on http://${hostPort(host, port)}`);
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    // Scrapers keep connections alive; close them so stop() does not wait for their timeout.
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Where the server listens (the actual port once started with port 0). */
  address(): { host: string; port: number } {
    const bound = this.server?.address() as AddressInfo | null | undefined;
    return bound ? { host: bound.address, port: bound.port } : { host: this.host, port: this.options.port };
  }

  private async serveMetrics(res: ServerResponse): Promise<void> {
    const { contentType, body } = await this.options.metrics.render();
    send(res, 200, contentType, body);
  }

  private async serveHealth(res: ServerResponse): Promise<void> {
    const report = this.options.health();
    send(res, report.status === 'ok' ? 200 : 503, 'application/json; charset=utf-8', JSON.stringify(report));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Not new URL(): it throws on request targets like '//', and a throw here would be an unhandled rejection.
    const path = (req.url ?? '/').split('?', 1)[0]!;
    const route = this.routes.get(path);
    if (!route) return send(res, 404, 'text/plain; charset=utf-8', `not found: ${path} (try /metrics or /healthz)\n`);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return send(res, 405, 'text/plain; charset=utf-8', `method ${req.method} not allowed on ${path}\n`);
    }
    try {
      await route(res);
    } catch (err) {
      this.options.logger.error({ err, path }, 'http: request failed');
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', `internal error on ${path}\n`);
      else res.destroy();
    }
  }
}

/** host:port, with IPv6 hosts in brackets. */
const hostPort = (host: string, port: number): string => `${host.includes(':') ? `[${host}]` : host}:${port}`;

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Cache-Control': 'no-store' });
  // Node drops the body of HEAD responses itself.
  res.end(body);
}

function describeListenError(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'EADDRINUSE':
      return 'address already in use (another pivot or exporter? set http.port, or http.enabled: false)';
    case 'EACCES':
      return 'permission denied (ports below 1024 need privileges; set http.port)';
    case 'EADDRNOTAVAIL':
      return 'no such address on this machine (check http.host)';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host name does not resolve (check http.host)';
    default:
      return err.message;
  }
}
