import { constants, type Stats } from 'node:fs';
import { access, mkdir, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join, sep } from 'node:path';
import type { Logger } from 'pino';
import { ConfigError } from '../../errors.js';
import type { DirectorySourceConfig } from '../config.js';
import { IMAGE_EXTENSIONS } from '../../data/index.js';
import type { Frame, FrameOutcome, FrameSource, SourceStats } from '../types.js';
import { SourceCounters, type SourceHooks } from './counters.js';
import { watchFolder, type FolderWatch } from './folder-watch.js';
import { moveNoClobber } from './move.js';
import { Wakeup } from './wakeup.js';

export interface DirectoryOptions extends SourceHooks {
  /**
   * A file is taken once its size and mtime have not changed for this long, so a file still
   * being copied in (scp, SMB, a camera's FTP upload) is not read half-written.
   */
  stabilityMs?: number;
  /** How often a growing file's size is checked (poll: true). */
  pollMs?: number;
}

interface Queued {
  path: string;
  mtime: Date;
}

const errorCode = (err: unknown) => (err as NodeJS.ErrnoException).code;
/** Both paths absolute and normalized (config paths are resolved): a prefix test, as it runs on every folder event. */
const isInside = (path: string, dir: string) => path === dir || path.startsWith(dir.endsWith(sep) ? dir : dir + sep);
const byAge = (a: Queued, b: Queued) => a.mtime.getTime() - b.mtime.getTime() || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

/**
 * A watched folder, processed at least once: each image stays where it is until its result or
 * error is queued (settle), then moves to done_dir (or is deleted) or to failed_dir with a
 * `.error.txt`. A crash before that leaves the file in place, so it is processed again on restart.
 */
export class DirectorySource implements FrameSource {
  readonly type = 'directory';
  readonly name: string;
  readonly #path: string;
  readonly #doneDir: string;
  readonly #failedDir: string;
  readonly #stabilityMs: number;
  readonly #pollMs: number;
  readonly #counters: SourceCounters;
  readonly #wakeup = new Wakeup();
  /** Files waiting to be taken, oldest (by mtime) first, and their paths. */
  #queue: Queued[] = [];
  readonly #queued = new Set<string>();
  /**
   * Files taken and not yet settled, and files whose settle failed: those stay out of rotation
   * until restart, so a broken done_dir cannot make a file be classified again and again.
   */
  readonly #taken = new Set<string>();
  #watcher: FolderWatch | undefined;
  #closed = false;

  constructor(
    private readonly config: DirectorySourceConfig,
    private readonly logger: Logger,
    options: DirectoryOptions = {},
  ) {
    this.name = config.name;
    this.#path = config.path;
    this.#doneDir = config.done_dir ?? join(config.path, '.done');
    this.#failedDir = config.failed_dir ?? join(config.path, '.failed');
    this.#stabilityMs = options.stabilityMs ?? 2000;
    this.#pollMs = options.pollMs ?? 100;
    this.#counters = new SourceCounters(logger, options);
  }

  async start(): Promise<void> {
    await this.#ensureDirectory();
    this.#closed = false;
    this.#watcher = await watchFolder(
      this.#path,
      {
        poll: this.config.poll,
        stabilityMs: this.#stabilityMs,
        pollMs: this.#pollMs,
        ignored: (path, stats) => this.#ignored(path, stats),
      },
      {
        settled: (path, stats) => this.#added(path, stats),
        removed: (path) => this.#removed(path),
        error: (err) => this.#counters.failure(`watching ${this.#path}: ${err.message}`, { path: this.#path }),
      },
    );
    this.logger.info({ path: this.#path }, `watching ${this.#path} for images`);
  }

  async stop(): Promise<void> {
    this.#closed = true;
    this.#wakeup.wake();
    const watcher = this.#watcher;
    this.#watcher = undefined;
    await watcher?.close();
  }

  async take(max: number, signal: AbortSignal): Promise<Frame[]> {
    while (max >= 1 && !this.#closed && !signal.aborted) {
      if (this.#queue.length)
        return this.#queue.splice(0, max).map((entry) => {
          this.#queued.delete(entry.path);
          return this.#frame(entry);
        });
      await this.#wakeup.wait(signal);
    }
    return [];
  }

  stats(): SourceStats {
    return this.#counters.stats();
  }

  /** Files waiting to be taken (complete, not in flight). */
  backlog(): number {
    return this.#queue.length;
  }

  /** The watched folder must exist: create it if its parent does (a fresh install), else a ConfigError. */
  async #ensureDirectory(): Promise<void> {
    const where = `source '${this.name}': directory ${this.#path}`;
    for (const [key, dir] of [
      ['done_dir', this.#doneDir],
      ['failed_dir', this.#failedDir],
    ] as const) {
      // Files there are ignored, so the watched folder itself must not be one of them.
      if (isInside(this.#path, dir))
        throw new ConfigError(`source '${this.name}': ${key} ${dir} must not be or contain the watched folder ${this.#path}`);
    }
    let stats: Stats;
    try {
      stats = await stat(this.#path);
    } catch (err) {
      if (errorCode(err) !== 'ENOENT') throw new ConfigError(`${where}: ${errorCode(err) ?? (err as Error).message}`, { cause: err });
      try {
        await mkdir(this.#path);
        this.logger.info({ path: this.#path }, `created ${this.#path}`);
        return;
      } catch (mkdirErr) {
        const reason =
          errorCode(mkdirErr) === 'ENOENT'
            ? `does not exist, nor does its parent ${dirname(this.#path)}`
            : `does not exist and cannot be created (${errorCode(mkdirErr)})`;
        throw new ConfigError(`${where} ${reason}`, { cause: mkdirErr });
      }
    }
    if (!stats.isDirectory()) throw new ConfigError(`${where} is not a directory`);
    try {
      // Write access too: processed files are moved out of it.
      await access(this.#path, constants.R_OK | constants.W_OK | constants.X_OK);
    } catch (err) {
      throw new ConfigError(`${where} is not readable and writable by this user (${errorCode(err)})`, { cause: err });
    }
  }

  #ignored(path: string, stats?: Stats): boolean {
    if (isInside(path, this.#doneDir) || isInside(path, this.#failedDir)) return true;
    if (basename(path).startsWith('.')) return true;
    return Boolean(stats?.isFile()) && !IMAGE_EXTENSIONS.has(extname(path).toLowerCase());
  }

  #added(path: string, stats: Stats): void {
    if (!IMAGE_EXTENSIONS.has(extname(path).toLowerCase())) return;
    if (this.#taken.has(path) || this.#queued.has(path)) return;
    this.#queued.add(path);
    const entry = { path, mtime: stats.mtime };
    // Sorted insert: the queue stays oldest first without re-sorting on every take.
    let at = this.#queue.length;
    while (at > 0 && byAge(this.#queue[at - 1]!, entry) > 0) at--;
    this.#queue.splice(at, 0, entry);
    this.#wakeup.wake();
  }

  #removed(path: string): void {
    if (this.#queued.delete(path)) this.#queue = this.#queue.filter((q) => q.path !== path);
    this.#taken.delete(path);
  }

  #frame({ path, mtime }: Queued): Frame {
    this.#taken.add(path);
    this.#counters.produced++;
    let settled = false;
    return {
      id: path,
      name: path,
      source: this.name,
      image: path,
      capturedAt: mtime,
      settle: async (outcome) => {
        if (settled) return;
        settled = true;
        await this.#settle(path, outcome);
      },
    };
  }

  /** Never rejects: a file that cannot be moved is logged, counted and left in place. */
  async #settle(path: string, outcome: FrameOutcome): Promise<void> {
    const action = outcome.ok ? (this.config.after === 'delete' ? 'delete' : `move to ${this.#doneDir}`) : `move to ${this.#failedDir}`;
    try {
      if (!outcome.ok) {
        const moved = await moveNoClobber(path, this.#failedDir);
        await writeFile(`${moved}.error.txt`, `${outcome.reason}\n`);
      } else if (this.config.after === 'delete') {
        // unlink, not rm: rm treats the path as a tree to remove (an lstat first), a cost on every frame.
        await unlink(path).catch((err: unknown) => {
          if (errorCode(err) !== 'ENOENT') throw err;
        });
      } else {
        await moveNoClobber(path, this.#doneDir);
      }
      this.#taken.delete(path);
    } catch (err) {
      if (errorCode(err) === 'ENOENT') {
        this.logger.warn({ file: path }, `${path} vanished before it could be settled (${action})`);
        this.#taken.delete(path);
        return;
      }
      const message = `cannot ${action}: ${path}: ${errorCode(err) ?? (err as Error).message}; it stays in place until restart`;
      this.#counters.count(message);
      this.logger.error({ file: path }, message);
    }
  }
}
