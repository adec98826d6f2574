import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from 'pino';
import type { CameraSourceConfig } from '../config.js';
import { stripCredentials } from '../../util/url.js';
import { JpegSplitter } from './jpeg-splitter.js';
import { LatestFrameSource } from './latest.js';

export interface CameraOptions {
  /** The ffmpeg executable; default `ffmpeg` on PATH. */
  ffmpeg?: string;
  /** How long ffmpeg gets to exit after SIGTERM before SIGKILL. */
  killTimeoutMs?: number;
  /**
   * ffmpeg is restarted when no frame arrives for this long (a stalled RTSP stream can hang
   * without exiting). Default: 30 s or five frame intervals, whichever is longer.
   */
  stallTimeoutMs?: number;
}

/** ffmpeg's last few stderr lines, kept to explain why it exited. */
class StderrTail {
  #lines: string[] = [];
  #partial = '';
  constructor(private readonly keep = 8) {}

  push(chunk: Buffer): void {
    const parts = (this.#partial + chunk.toString('utf8')).split(/\r?\n|\r/);
    this.#partial = parts.pop() ?? '';
    for (const line of parts) this.#add(line);
  }

  lines(): string[] {
    if (this.#partial) this.#add(this.#partial);
    this.#partial = '';
    return this.#lines;
  }

  #add(line: string): void {
    const clean = stripCredentials(line.trim()).slice(0, 300);
    if (!clean) return;
    this.#lines.push(clean);
    if (this.#lines.length > this.keep) this.#lines.shift();
  }
}

/** A camera or stream read by ffmpeg, sampled at `fps`; the pipeline gets the newest frame. */
export class CameraSource extends LatestFrameSource {
  readonly type = 'camera';
  /** The input as logs may show it. */
  readonly #input: string;
  readonly #ffmpeg: string;
  readonly #killTimeoutMs: number;
  readonly #stallTimeoutMs: number;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #restartTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly config: CameraSourceConfig,
    logger: Logger,
    options: CameraOptions = {},
  ) {
    super(config.name, logger);
    this.#input = stripCredentials(config.input);
    this.#ffmpeg = options.ffmpeg ?? 'ffmpeg';
    this.#killTimeoutMs = options.killTimeoutMs ?? 5000;
    this.#stallTimeoutMs = options.stallTimeoutMs ?? Math.max(30_000, (5 / config.fps) * 1000);
  }

  /** ffmpeg's arguments: decode the input, sample it at `fps`, write JPEGs to stdout. */
  ffmpegArgs(): string[] {
    const { input, format, fps, input_args } = this.config;
    return [
      '-hide_banner', '-loglevel', 'error', '-nostdin',
      ...input_args,
      ...(format ? ['-f', format] : []),
      '-i', input,
      '-an',
      '-vf', `fps=${fps}`,
      '-f', 'image2pipe', '-vcodec', 'mjpeg', '-q:v', '3',
      '-',
    ];
  }

  async start(): Promise<void> {
    this.open();
    this.logger.info({ input: this.#input }, `capturing ${this.#input} at ${this.config.fps} fps with ffmpeg`);
    this.#spawn();
  }

  async stop(): Promise<void> {
    this.close();
    clearTimeout(this.#restartTimer);
    this.#restartTimer = undefined;
    if (this.#child) this.#terminate(this.#child);
    await this.#exited;
  }

  #spawn(): void {
    if (this.closed) return;
    const child = spawn(this.#ffmpeg, this.ffmpegArgs(), { stdio: ['ignore', 'pipe', 'pipe'] });
    this.logger.debug({ input: this.#input, pid: child.pid }, 'ffmpeg started');
    this.#child = child;
    const splitter = new JpegSplitter();
    const stderr = new StderrTail();
    let stalled = false;
    let stallTimer: NodeJS.Timeout | undefined;
    const watchStall = () => {
      clearTimeout(stallTimer);
      stallTimer = setTimeout(() => {
        stalled = true;
        this.#terminate(child);
      }, this.#stallTimeoutMs);
    };
    watchStall();

    child.stdout?.on('data', (chunk: Buffer) => {
      for (const jpeg of splitter.push(chunk)) {
        watchStall();
        this.counters.recovered(`camera ${this.#input}`);
        this.offer(jpeg);
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));

    let spawnError: NodeJS.ErrnoException | undefined;
    let resolveExited!: () => void;
    this.#exited = new Promise((resolve) => (resolveExited = resolve));
    let finished = false;
    const finish = (code: number | null, signal: NodeJS.Signals | null) => {
      if (finished) return;
      finished = true;
      clearTimeout(stallTimer);
      if (this.#child === child) this.#child = undefined;
      resolveExited();
      if (this.closed) return;
      const tail = stderr.lines();
      this.counters.failure(this.#exitMessage(spawnError, code, signal, stalled, tail), { input: this.#input, stderr: tail });
      this.#restartTimer = setTimeout(() => this.#spawn(), this.config.restart_delay_s * 1000);
    };
    child.on('error', (err: NodeJS.ErrnoException) => {
      spawnError = err;
      // A failed spawn may never emit 'close'.
      if (child.pid === undefined) finish(null, null);
    });
    child.on('close', finish);
  }

  #exitMessage(
    spawnError: NodeJS.ErrnoException | undefined,
    code: number | null,
    signal: NodeJS.Signals | null,
    stalled: boolean,
    stderr: string[],
  ): string {
    if (spawnError?.code === 'ENOENT') return `ffmpeg not found (${this.#ffmpeg}): install ffmpeg (e.g. apt install ffmpeg) or put it on PATH`;
    if (spawnError) return `cannot run ffmpeg (${this.#ffmpeg}): ${spawnError.message}`;
    const why = stalled
      ? `no frame for ${this.#stallTimeoutMs / 1000} s, restarted`
      : `ffmpeg exited (${signal ? `signal ${signal}` : `code ${code}`})`;
    const last = stderr.at(-1);
    return `camera ${this.#input}: ${why}${last ? `: ${last}` : ''}; retrying in ${this.config.restart_delay_s} s`;
  }

  /** SIGTERM, then SIGKILL if ffmpeg does not exit in time (a hung network read ignores SIGTERM). */
  #terminate(child: ChildProcess): void {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), this.#killTimeoutMs);
    child.once('close', () => clearTimeout(timer));
  }
}
