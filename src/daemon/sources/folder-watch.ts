import { statSync, watch as watchNative, type Stats } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { watch as watchPolling } from 'chokidar';

export interface FolderWatchOptions {
  /** Poll with chokidar instead of inotify (network mounts, where remote writes raise no events). */
  poll: boolean;
  /** A file is reported once its size and mtime have not changed for this long. */
  stabilityMs: number;
  /** How often chokidar checks a growing file (poll mode). */
  pollMs: number;
  /** Paths to skip; called without stats before a path is stat()ed, then with them. */
  ignored(path: string, stats?: Stats): boolean;
}

export interface FolderEvents {
  /** A regular file in the folder (not in a subfolder) that has stopped changing. */
  settled(path: string, stats: Stats): void;
  removed(path: string): void;
  error(err: Error): void;
}

export interface FolderWatch {
  close(): Promise<void>;
}

/**
 * Watches the files directly inside `dir`; resolves once the files already there are known (they
 * still wait out the stability time before `settled`).
 */
export function watchFolder(dir: string, options: FolderWatchOptions, events: FolderEvents): Promise<FolderWatch> {
  return options.poll ? watchByPolling(dir, options, events) : new NativeFolderWatch(dir, options, events).start();
}

async function watchByPolling(dir: string, options: FolderWatchOptions, events: FolderEvents): Promise<FolderWatch> {
  const watcher = watchPolling(dir, {
    depth: 0,
    alwaysStat: true,
    awaitWriteFinish: { stabilityThreshold: options.stabilityMs, pollInterval: options.pollMs },
    usePolling: true,
    interval: 1000,
    ignored: (path: string, stats?: Stats) => path !== dir && options.ignored(path, stats),
  });
  watcher.on('add', (path: string, stats?: Stats) => {
    if (stats) events.settled(path, stats);
    else
      stat(path).then(
        (s) => events.settled(path, s),
        () => undefined,
      ); // gone again
  });
  watcher.on('unlink', (path: string) => events.removed(path));
  watcher.on('error', (err: unknown) => events.error(err as Error));
  await new Promise<void>((resolve) => watcher.once('ready', resolve));
  return { close: () => watcher.close() };
}

interface Pending {
  /** The file's stats when its wait began (none before the first stat). */
  stats: Stats | undefined;
  timer: NodeJS.Timeout | undefined;
}

const sameContent = (a: Stats, b: Stats) => a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino;

/**
 * fs.watch (inotify) on the folder itself plus a stat per file: each name an event mentions is
 * stat()ed once, then again after the stability time, and reported when size and mtime held
 * still. Costs two stats per new file; nothing scales with the number of files in the folder,
 * unlike chokidar, which re-reads the folder and polls every new file while it settles.
 */
class NativeFolderWatch implements FolderWatch {
  /** Files waiting out the stability time: the stats they had when the wait began. */
  readonly #pending = new Map<string, Pending>();
  #watcher: ReturnType<typeof watchNative> | undefined;
  #closed = false;

  constructor(
    private readonly dir: string,
    private readonly options: FolderWatchOptions,
    private readonly events: FolderEvents,
  ) {}

  async start(): Promise<FolderWatch> {
    // Watch before listing, so a file created in between is seen by one or the other (or both: checks are idempotent).
    this.#watcher = watchNative(this.dir, { persistent: true }, (_event, name) => {
      if (name === null) void this.#scan();
      else this.#check(join(this.dir, name));
    });
    this.#watcher.on('error', (err) => this.events.error(err));
    await this.#scan();
    return this;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#watcher?.close();
    for (const { timer } of this.#pending.values()) clearTimeout(timer);
    this.#pending.clear();
  }

  async #scan(): Promise<void> {
    let entries: string[];
    try {
      entries = await readdir(this.dir);
    } catch (err) {
      this.events.error(err as Error);
      return;
    }
    for (const name of entries) this.#check(join(this.dir, name));
  }

  /** Something happened to `path`: start (or keep) its stability wait, or report it gone. */
  #check(path: string): void {
    if (this.#closed || this.#pending.has(path) || this.options.ignored(path)) return;
    this.#restat(path, { stats: undefined, timer: undefined });
  }

  #restat(path: string, entry: Pending): void {
    if (this.#closed) return;
    let now: Stats | undefined;
    try {
      // statSync: a local stat (inotify only works on local filesystems) takes microseconds, and
      // CPU per file is the cost that matters here: fs.promises.stat spends several times more.
      now = statSync(path, { throwIfNoEntry: false });
    } catch {
      // Not stat()able (permissions): nothing to take.
    }
    if (!now || !now.isFile() || this.options.ignored(path, now)) {
      this.#pending.delete(path);
      // Gone (moved away, deleted): forget it.
      if (!now) this.events.removed(path);
      return;
    }
    if (entry.stats && sameContent(entry.stats, now)) {
      this.#pending.delete(path);
      this.events.settled(path, now);
      return;
    }
    entry.stats = now;
    entry.timer = setTimeout(() => this.#restat(path, entry), this.options.stabilityMs);
    this.#pending.set(path, entry);
  }
}
