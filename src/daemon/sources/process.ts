/**
 * What every camera source that runs a program shares (ffmpeg, rpicam-vid, gst-launch-1.0, a
 * user's command): the program writes JPEG frames back to back on stdout (MJPEG); they are cut
 * apart by the JPEG splitter, capped at `fps`, and only the newest waits for the pipeline.
 *
 * - No frame for the stall timeout (a hung RTSP read, a wedged camera): the program is stopped
 *   and started again.
 * - The program exits or cannot be found: it is started again after `restart_delay_s`,
 *   doubling with each failure in a row up to 60 s, and back to `restart_delay_s` after a frame.
 * - stderr goes to the log at debug level; its last lines explain an exit.
 * - Stopping: SIGTERM, then SIGKILL after a grace period, to the program's whole process group
 *   (a wrapper script's children go too).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from 'pino';
import { stripCredentials } from '../../util/url.js';
import { MissingProgramError } from './executable.js';
import { JpegSplitter } from './jpeg-splitter.js';
import { LatestFrameSource, type SourceHooks } from './latest.js';

/** What a process source runs. */
export interface Launch {
  /** Executable path or name. */
  file: string;
  args: string[];
  /** The program's name for messages (e.g. `ffmpeg`). */
  program: string;
}

/** The config fields every process source has. */
export interface ProcessSourceConfig {
  name: string;
  fps: number;
  restart_delay_s: number;
  stall_timeout_s?: number | undefined;
}

export interface ProcessOptions extends SourceHooks {
  /** How long the program gets to exit after SIGTERM before SIGKILL. Default 5 s. */
  killTimeoutMs?: number;
  /** Overrides the config's stall timeout (tests). */
  stallTimeoutMs?: number;
}

/** Longest wait between restarts, however many failures in a row. */
const MAX_RESTART_DELAY_S = 60;

/** A program's last few stderr lines, kept to explain why it exited. */
class StderrTail {
  #lines: string[] = [];
  #partial = '';
  constructor(private readonly keep = 8) {}

  /** Adds a chunk; returns the complete lines it ended. */
  push(chunk: Buffer): string[] {
    const parts = (this.#partial + chunk.toString('utf8')).split(/\r?\n|\r/);
    this.#partial = parts.pop() ?? '';
    return parts.map((line) => this.#add(line)).filter((line) => line !== '');
  }

  lines(): string[] {
    if (this.#partial) this.#add(this.#partial);
    this.#partial = '';
    return this.#lines;
  }

  #add(line: string): string {
    const clean = stripCredentials(line.trim()).slice(0, 300);
    if (!clean) return '';
    this.#lines.push(clean);
    if (this.#lines.length > this.keep) this.#lines.shift();
    return clean;
  }
}

export abstract class ProcessSource extends LatestFrameSource {
  readonly #killTimeoutMs: number;
  readonly #stallTimeoutMs: number;
  readonly #intervalMs: number;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #restartTimer: NodeJS.Timeout | undefined;
  /** Failures since the last frame: sets the restart delay. */
  #failuresInRow = 0;
  /** When the next frame may be taken (the fps cap). */
  #due = 0;

  constructor(
    private readonly settings: ProcessSourceConfig,
    logger: Logger,
    options: ProcessOptions = {},
  ) {
    super(settings.name, logger, options);
    this.#killTimeoutMs = options.killTimeoutMs ?? 5000;
    this.#intervalMs = 1000 / settings.fps;
    this.#stallTimeoutMs =
      options.stallTimeoutMs ??
      (settings.stall_timeout_s !== undefined ? settings.stall_timeout_s * 1000 : Math.max(30_000, 5 * this.#intervalMs));
  }

  /** What to run now; throws MissingProgramError when it is not installed. Called before every (re)start. */
  protected abstract launch(): Promise<Launch>;

  /** How logs and errors name what is captured (no credentials). */
  protected abstract readonly shown: string;

  async start(): Promise<void> {
    this.open();
    this.#failuresInRow = 0;
    void this.#run();
  }

  async stop(): Promise<void> {
    this.close();
    clearTimeout(this.#restartTimer);
    this.#restartTimer = undefined;
    if (this.#child) this.#terminate(this.#child);
    await this.#exited;
  }

  async #run(): Promise<void> {
    if (this.closed) return;
    let launch: Launch;
    try {
      launch = await this.launch();
    } catch (err) {
      this.#failed(err instanceof MissingProgramError ? err.message : `${this.shown}: ${(err as Error).message}`, {});
      return;
    }
    if (this.closed) return;
    this.#spawn(launch);
  }

  #spawn({ file, args, program }: Launch): void {
    // Its own process group, so stop() reaches whatever the program starts in turn.
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.logger.debug({ input: this.shown, program, pid: child.pid }, `${program} started`);
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
        this.#failuresInRow = 0;
        this.counters.recovered(`${this.shown}`);
        this.#capped(jpeg);
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      for (const line of stderr.push(chunk)) this.logger.debug({ program, stderr: line }, `${program}: ${line}`);
    });

    let spawnError: NodeJS.ErrnoException | undefined;
    let resolveExited!: () => void;
    this.#exited = new Promise((resolve) => (resolveExited = resolve));
    let finished = false;
    const finish = (code: number | null, signal: NodeJS.Signals | null) => {
      if (finished) return;
      finished = true;
      clearTimeout(stallTimer);
      if (this.#child === child) this.#child = undefined;
      // Whatever the program started and left behind in its group goes with it.
      if (child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // no such group: nothing left
        }
      }
      resolveExited();
      if (this.closed) return;
      const tail = stderr.lines();
      this.#failed(this.#exitMessage(program, file, spawnError, code, signal, stalled, tail), { stderr: tail });
    };
    child.on('error', (err: NodeJS.ErrnoException) => {
      spawnError = err;
      // A failed spawn may never emit 'close'.
      if (child.pid === undefined) finish(null, null);
    });
    child.on('close', finish);
  }

  /** The fps cap: a frame earlier than due is skipped; a little early (jitter) still counts. */
  #capped(jpeg: Buffer): void {
    const now = performance.now();
    if (now < this.#due - this.#intervalMs / 4) return;
    this.#due = Math.max(this.#due + this.#intervalMs, now + (3 * this.#intervalMs) / 4);
    this.offer(jpeg);
  }

  /** Counts and reports a failure, and schedules the next start with backoff. */
  #failed(message: string, fields: Record<string, unknown>): void {
    // A floor, so restart_delay_s: 0 cannot spin on a program that is missing.
    const first = Math.max(this.settings.restart_delay_s, 0.1);
    const delayS = Math.min(first * 2 ** this.#failuresInRow, Math.max(MAX_RESTART_DELAY_S, first));
    this.#failuresInRow++;
    this.counters.failure(message, { input: this.shown, retry_s: delayS, ...fields });
    this.#restartTimer = setTimeout(() => void this.#run(), delayS * 1000);
  }

  #exitMessage(
    program: string,
    file: string,
    spawnError: NodeJS.ErrnoException | undefined,
    code: number | null,
    signal: NodeJS.Signals | null,
    stalled: boolean,
    stderr: string[],
  ): string {
    if (spawnError?.code === 'ENOENT') return `${this.shown}: ${file} not found`;
    if (spawnError) return `${this.shown}: cannot run ${program} (${file}): ${spawnError.message}`;
    const why = stalled
      ? `no frame for ${this.#stallTimeoutMs / 1000} s, restarted`
      : `${program} exited (${signal ? `signal ${signal}` : `code ${code}`})`;
    const last = stderr.at(-1);
    return `${this.shown}: ${why}${last ? `: ${last}` : ''}`;
  }

  /** SIGTERM, then SIGKILL if the program does not exit in time (a hung network read ignores SIGTERM). */
  #terminate(child: ChildProcess): void {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
    const pid = child.pid;
    const kill = (signal: NodeJS.Signals) => {
      try {
        process.kill(-pid, signal);
      } catch {
        child.kill(signal); // the group is gone or was never made: the program itself
      }
    };
    kill('SIGTERM');
    const timer = setTimeout(() => kill('SIGKILL'), this.#killTimeoutMs);
    child.once('close', () => clearTimeout(timer));
  }
}
