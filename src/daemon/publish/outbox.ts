/**
 * The outbox: a bounded, ordered, on-disk queue of messages the broker has not acknowledged
 * yet. One JSON file per message, named by a zero-padded sequence number, so the directory
 * listing is the queue order and a crash loses at most the message being written.
 */
import { mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import writeFileAtomic from 'write-file-atomic';
import { z } from 'zod';
import type { OutboxConfig } from '../config.js';
import { formatIssues } from '../../util/zod.js';

export const OutboxMessageSchema = z
  .object({
    topic: z.string().min(1),
    payload: z.string(),
    qos: z.union([z.literal(0), z.literal(1), z.literal(2)]),
    retain: z.boolean(),
  })
  .strict();

export type OutboxMessage = z.infer<typeof OutboxMessageSchema>;

/** A queued message and the sequence number that orders and acknowledges it. */
export interface OutboxEntry extends OutboxMessage {
  id: number;
}

const FILE_NAME = /^(\d{16})\.json$/;
/** Files that cannot be loaded are moved here, so they are kept for a look but never block the queue. */
export const REJECTED_DIR = 'rejected';
/** At most one "dropping messages" warning per this many ms while the bound keeps biting. */
const DROP_WARN_INTERVAL_MS = 60_000;

function fileName(id: number): string {
  return `${String(id).padStart(16, '0')}.json`;
}

export class Outbox {
  /** Insertion order is sequence order: appends are serialized. */
  private readonly entries = new Map<number, OutboxEntry>();
  private nextId = 1;
  private writes: Promise<unknown> = Promise.resolve();
  private state: 'new' | 'open' | 'closed' = 'new';
  private droppedCount = 0;
  private lastDropWarn = -Infinity;

  constructor(
    private readonly config: OutboxConfig,
    private readonly logger: Logger,
  ) {}

  /** Messages waiting for the broker's acknowledgement. */
  get depth(): number {
    return this.entries.size;
  }

  /** Messages dropped (oldest first) because the queue was full, since open(). */
  get dropped(): number {
    return this.droppedCount;
  }

  /** Creates the directory and loads what a previous run left, in order. Idempotent. */
  async open(): Promise<void> {
    if (this.state === 'open') return;
    const dir = this.config.dir;
    this.entries.clear(); // a reopen after close() reloads from disk
    await mkdir(dir, { recursive: true });
    const names = (await readdir(dir, { withFileTypes: true })).filter((d) => d.isFile()).map((d) => d.name);
    const ids: number[] = [];
    for (const name of names) {
      const match = FILE_NAME.exec(name);
      if (match?.[1]) ids.push(Number(match[1]));
      // write-file-atomic's temp files are left by a crash mid-write: that message was never acknowledged to the caller.
      else await this.reject(name, 'not an outbox message file (interrupted write?)');
    }
    ids.sort((a, b) => a - b);
    for (const id of ids) {
      const loaded = await this.load(id);
      if (loaded) this.entries.set(id, loaded);
    }
    this.nextId = (ids.at(-1) ?? 0) + 1;
    this.state = 'open';
    this.logger.info({ dir, depth: this.entries.size }, 'outbox opened');
    // A smaller max_messages than last run's backlog applies at once.
    await this.enforceBound();
  }

  /** Queues a message; resolves once it is durably on disk. */
  append(message: OutboxMessage): Promise<void> {
    return this.appendMany([message]);
  }

  /**
   * Queues several messages, in order; resolves once all are durably on disk. A group commit:
   * the files are written and fsynced concurrently and the directory is fsynced once, which is
   * what makes a batch of results cheap on SD cards and eMMC, where each fsync costs milliseconds.
   */
  appendMany(messages: readonly OutboxMessage[]): Promise<void> {
    if (this.state !== 'open') return Promise.reject(new Error(`outbox ${this.config.dir} is not open`));
    const entries: OutboxEntry[] = messages.map((message) => ({ id: this.nextId++, ...message }));
    const write = this.writes.then(async () => {
      await Promise.all(
        entries.map(({ id, ...message }) => writeFileAtomic(join(this.config.dir, fileName(id)), JSON.stringify(message), { fsync: true })),
      );
      await this.syncDir();
      for (const entry of entries) this.entries.set(entry.id, entry);
      await this.enforceBound();
    });
    // Keep the chain alive after a failed write; the caller still sees the failure.
    this.writes = write.catch(() => undefined);
    return write;
  }

  /** The oldest `max` messages, in order, without removing them. */
  peek(max: number): OutboxEntry[] {
    const out: OutboxEntry[] = [];
    for (const entry of this.entries.values()) {
      if (out.length >= max) break;
      out.push(entry);
    }
    return out;
  }

  /** Removes a message the broker has acknowledged. Unknown ids (already dropped) are ignored. */
  async ack(id: number): Promise<void> {
    if (!this.entries.delete(id)) return;
    await this.remove(id);
  }

  /** Waits for pending writes; later appends are refused. What is on disk stays for the next open(). */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    await this.writes;
  }

  private async load(id: number): Promise<OutboxEntry | undefined> {
    const name = fileName(id);
    let value: unknown;
    try {
      value = JSON.parse(await readFile(join(this.config.dir, name), 'utf8'));
    } catch (err) {
      await this.reject(name, err instanceof SyntaxError ? `not valid JSON: ${err.message}` : (err as Error).message);
      return undefined;
    }
    const parsed = OutboxMessageSchema.safeParse(value);
    if (!parsed.success) {
      await this.reject(name, `not an outbox message: ${formatIssues(parsed.error)}`);
      return undefined;
    }
    return { id, ...parsed.data };
  }

  /** Moves an unusable file aside and says where and why; never throws, so a bad file cannot stop the daemon. */
  private async reject(name: string, reason: string): Promise<void> {
    const from = join(this.config.dir, name);
    const to = join(this.config.dir, REJECTED_DIR, name);
    try {
      await mkdir(join(this.config.dir, REJECTED_DIR), { recursive: true });
      await rename(from, to);
      this.logger.warn({ file: from, moved_to: to, reason }, 'outbox file set aside');
    } catch (err) {
      this.logger.error({ file: from, reason, err }, 'outbox file unusable and could not be moved aside; ignored');
    }
  }

  private async enforceBound(): Promise<void> {
    while (this.entries.size > this.config.max_messages) {
      const oldest = this.entries.keys().next().value as number;
      this.entries.delete(oldest);
      this.droppedCount++;
      await this.remove(oldest);
      const now = Date.now();
      if (now - this.lastDropWarn >= DROP_WARN_INTERVAL_MS) {
        this.lastDropWarn = now;
        this.logger.warn(
          { dir: this.config.dir, max_messages: this.config.max_messages, dropped: this.droppedCount },
          'outbox full: dropping the oldest unpublished messages',
        );
      }
    }
  }

  private async remove(id: number): Promise<void> {
    try {
      await unlink(join(this.config.dir, fileName(id)));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.logger.warn({ file: join(this.config.dir, fileName(id)), err }, 'could not delete outbox file; it will be re-sent after a restart');
      }
    }
  }

  /** Makes the rename of a new file durable (the file's own data was fsynced by write-file-atomic). */
  private async syncDir(): Promise<void> {
    const handle = await open(this.config.dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
}
