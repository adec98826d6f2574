/**
 * The outbox: a bounded, ordered, on-disk queue of messages the broker has not acknowledged
 * yet, kept as an append-only journal (journal.ts) of segment files.
 *
 * - Group commit: records go to the newest segment in one write and one fdatasync, at most one
 *   commit per `commit_interval_ms` (sooner once `commit_bytes` of records wait). A record that
 *   arrives after a quiet spell is committed at once; under load, records wait for the next
 *   commit. Each fdatasync also rewrites the last, partly filled page of the file and the file's
 *   metadata, so fewer, larger commits write fewer bytes per message (SD card wear). An append
 *   resolves only once its records are durable: the daemon settles a frame (moves its file to
 *   .done) after that, so a crash before the commit means the frame is classified again, never
 *   that its result is lost.
 * - A segment is deleted once every record in it is acknowledged (or dropped by the bound).
 * - A small state file (`state.json`) holds the ack watermark, the next id and each stream's
 *   last `seq`. It is written before segments are deleted and at close, so that together with
 *   the records still on disk it always knows the highest seq ever made durable.
 * - At open every segment is read and checked; records that fail their checksum, and a tail
 *   torn by a power cut, are skipped, counted (`corrupt`) and logged. New records always go to
 *   a new segment, never after a damaged tail.
 * - The queue is also held in memory (peek() is what the publisher sends from).
 */
import { mkdir, open, readdir, readFile, rename, truncate, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import writeFileAtomic from 'write-file-atomic';
import { z } from 'zod';
import { DEFAULT_COMMIT_BYTES, type OutboxConfig } from '../config.js';
import { formatIssues } from '../../util/zod.js';
import { decodeSegment, encodeRecord, recordLength, type DamagedRegion, type JournalRecord } from './journal.js';

export const OutboxMessageSchema = z
  .object({
    topic: z.string().min(1),
    payload: z.string(),
    qos: z.union([z.literal(0), z.literal(1), z.literal(2)]),
    retain: z.boolean(),
    /** The stream (source) `seq` numbers; see Outbox.nextSeq(). */
    stream: z.string().optional(),
    seq: z.number().int().positive().optional(),
  })
  .strict();

export type OutboxMessage = z.infer<typeof OutboxMessageSchema>;

/** A queued message and the id that orders and acknowledges it. */
export type OutboxEntry = JournalRecord;

export interface OutboxOptions {
  /** A new segment is started once the newest one holds this many bytes. Default 1 MiB. */
  segmentBytes?: number;
  /** Runs after a batch is written and before it is fsynced (crash tests). */
  beforeSync?: () => Promise<void>;
}

const SEGMENT = /^(\d{16})\.seg$/;
const LEGACY_FILE = /^(\d{16})\.json$/;
const STATE_FILE = 'state.json';
/** Where files of an older outbox that cannot be loaded are moved. */
export const REJECTED_DIR = 'rejected';
/** At most one "dropping messages" warning per this many ms while the bound keeps biting. */
const DROP_WARN_INTERVAL_MS = 60_000;

const StateSchema = z.object({
  next_id: z.number().int().nonnegative(),
  /** Every id below this one is acknowledged (or dropped). */
  acked_below: z.number().int().nonnegative(),
  seq: z.record(z.string(), z.number().int().nonnegative()),
});
type State = z.infer<typeof StateSchema>;

interface Segment {
  firstId: number;
  file: string;
  bytes: number;
  /** Records in it not yet acknowledged or dropped. */
  live: number;
}

interface Queued {
  entry: OutboxEntry;
  segment: Segment;
  bytes: number;
}

interface PendingBatch {
  entries: OutboxEntry[];
  /** The entries encoded, in order. */
  records: Buffer[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** What the constructor needs; left out: no byte bound, a commit per append (`commit_interval_ms` 0). */
type OutboxSettings = Pick<OutboxConfig, 'dir' | 'max_messages'> &
  Partial<Pick<OutboxConfig, 'max_bytes' | 'commit_interval_ms' | 'commit_bytes'>>;

const segmentName = (firstId: number) => `${String(firstId).padStart(16, '0')}.seg`;

export class Outbox {
  /** Insertion order is id order. */
  private readonly queued = new Map<number, Queued>();
  private readonly segments: Segment[] = [];
  private active: { segment: Segment; handle: FileHandle } | undefined;
  /** Last seq handed out per stream, and the last one durably written (what the state file records). */
  private readonly seqs = new Map<string, number>();
  private readonly durableSeqs = new Map<string, number>();
  private nextId = 1;
  private liveBytes = 0;
  private state: 'new' | 'open' | 'closed' = 'new';
  private droppedCount = 0;
  private corruptCount = 0;
  private written = 0;
  private lastDropWarn = -Infinity;
  /** Disk work (commits, compaction) runs one task at a time, in order. */
  private chain: Promise<void> = Promise.resolve();
  private pending: PendingBatch[] = [];
  private pendingBytes = 0;
  /** Set while a commit task is on the chain: it takes everything pending when it runs. */
  private commitScheduled = false;
  /** Set while pending records wait for commit_interval_ms to pass since the last commit began. */
  private commitTimer: NodeJS.Timeout | undefined;
  private lastCommitAt = -Infinity;
  private compactScheduled = false;
  private readonly segmentBytes: number;
  private readonly commitIntervalMs: number;
  private readonly commitBytes: number;

  constructor(
    private readonly config: OutboxSettings,
    private readonly logger: Logger,
    private readonly options: OutboxOptions = {},
  ) {
    this.segmentBytes = options.segmentBytes ?? 1024 * 1024;
    this.commitIntervalMs = config.commit_interval_ms ?? 0;
    this.commitBytes = config.commit_bytes ?? DEFAULT_COMMIT_BYTES;
  }

  /** Messages waiting for the broker's acknowledgement. */
  get depth(): number {
    return this.queued.size;
  }

  /** Bytes of those messages' records on disk. */
  get bytes(): number {
    return this.liveBytes;
  }

  /** Messages dropped (oldest first) because the queue was full, since open(). */
  get dropped(): number {
    return this.droppedCount;
  }

  /** Records found unreadable (checksum mismatch, torn tail) at open and skipped. */
  get corrupt(): number {
    return this.corruptCount;
  }

  /** Bytes this outbox has written to disk (records and state file) since it was built. */
  get bytesWritten(): number {
    return this.written;
  }

  /** The next sequence number of `stream` (1, 2, ...; carried on across restarts). */
  nextSeq(stream: string): number {
    const seq = (this.seqs.get(stream) ?? 0) + 1;
    this.seqs.set(stream, seq);
    return seq;
  }

  /** Creates the directory and loads what a previous run left, in order. Idempotent. */
  async open(): Promise<void> {
    if (this.state === 'open') return;
    const dir = this.config.dir;
    this.queued.clear(); // a reopen after close() reloads from disk
    this.segments.length = 0;
    this.liveBytes = 0;
    await mkdir(dir, { recursive: true });
    const saved = await this.readState();
    for (const [stream, seq] of Object.entries(saved.seq)) this.noteSeq(this.durableSeqs, stream, seq);
    const names = (await readdir(dir)).sort();
    let maxId = 0;
    const damage: { file: string; region: DamagedRegion }[] = [];
    for (const name of names) {
      const match = SEGMENT.exec(name);
      if (!match) continue;
      const file = join(dir, name);
      const bytes = await readFile(file);
      const { records, damaged } = decodeSegment(bytes);
      const segment: Segment = { firstId: Number(match[1]), file, bytes: bytes.length, live: 0 };
      this.segments.push(segment);
      for (const region of damaged) damage.push({ file, region });
      const tail = damaged.at(-1);
      if (tail && tail.before === undefined) {
        // Cut a torn tail off, so it is reported once, not at every start.
        await truncate(file, tail.offset);
        segment.bytes = tail.offset;
      }
      for (const record of records) {
        maxId = Math.max(maxId, record.id);
        if (record.stream !== undefined && record.seq !== undefined) this.noteSeq(this.durableSeqs, record.stream, record.seq);
        if (record.id < saved.acked_below || this.queued.has(record.id)) continue;
        this.track(record, segment, recordLength(record));
      }
    }
    this.nextId = Math.max(saved.next_id, saved.acked_below, maxId + 1, 1);
    for (const [stream, seq] of this.durableSeqs) this.noteSeq(this.seqs, stream, seq);
    this.countDamage(damage, saved.acked_below);
    this.state = 'open';
    await this.importLegacy(names);
    this.logger.info({ dir, depth: this.queued.size, segments: this.segments.length, corrupt: this.corruptCount }, 'outbox opened');
    // A smaller bound than last run's backlog applies at once; segments already fully acknowledged go.
    this.enforceBound();
    this.scheduleCompaction();
    await this.chain;
  }

  /** Queues a message; resolves once it is durably on disk. */
  append(message: OutboxMessage): Promise<void> {
    return this.appendMany([message]);
  }

  /**
   * Queues several messages, in order; resolves once all are durably on disk, committed
   * together with whatever else arrives within the commit interval (see the file comment).
   */
  appendMany(messages: readonly OutboxMessage[]): Promise<void> {
    if (this.state !== 'open') return Promise.reject(new Error(`outbox ${this.config.dir} is not open`));
    if (!messages.length) return Promise.resolve();
    const entries = new Array<OutboxEntry>(messages.length);
    const records = new Array<Buffer>(messages.length);
    for (let i = 0; i < messages.length; i++) {
      const entry = (entries[i] = { id: this.nextId++, ...messages[i]! });
      this.pendingBytes += (records[i] = encodeRecord(entry)).length;
    }
    return new Promise((resolve, reject) => {
      this.pending.push({ entries, records, resolve, reject });
      this.requestCommit(this.pendingBytes >= this.commitBytes);
    });
  }

  /** The oldest `max` messages, in order, without removing them. */
  peek(max: number): OutboxEntry[] {
    const out: OutboxEntry[] = [];
    for (const { entry } of this.queued.values()) {
      if (out.length >= max) break;
      out.push(entry);
    }
    return out;
  }

  /** Forgets a message the broker has acknowledged; its segment goes once all of it is. Unknown ids (dropped) are ignored. */
  ack(id: number): void {
    const queued = this.queued.get(id);
    if (!queued) return;
    this.release(id, queued);
  }

  /**
   * Waits for pending writes and records how far the queue was acknowledged (so a restart does
   * not send those again); later appends are refused. What is unacknowledged stays for open().
   */
  async close(): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'closed';
    if (this.pending.length) this.requestCommit(true);
    this.schedule(async () => {
      const active = this.active;
      this.active = undefined;
      await active?.handle.close();
      await this.compact();
    });
    await this.chain;
  }

  /** Keeps a durable record queued in memory. */
  private track(entry: OutboxEntry, segment: Segment, bytes: number): void {
    this.queued.set(entry.id, { entry, segment, bytes });
    segment.live++;
    this.liveBytes += bytes;
  }

  private release(id: number, queued: Queued): void {
    this.queued.delete(id);
    this.liveBytes -= queued.bytes;
    if (--queued.segment.live === 0 && queued.segment !== this.active?.segment) this.scheduleCompaction();
  }

  private noteSeq(map: Map<string, number>, stream: string, seq: number): void {
    map.set(stream, Math.max(seq, map.get(stream) ?? 0));
  }

  private schedule(task: () => Promise<void>): void {
    // A failed task has told its callers; the chain goes on for the next one.
    this.chain = this.chain
      .then(task)
      .catch((err: unknown) => this.logger.error({ err, dir: this.config.dir }, 'outbox disk operation failed'));
  }

  /** Puts a commit on the chain now, or once commit_interval_ms has passed since the last one began. */
  private requestCommit(now: boolean): void {
    if (this.commitScheduled) return;
    const wait = this.lastCommitAt + this.commitIntervalMs - performance.now();
    if (!now && wait > 0) {
      this.commitTimer ??= setTimeout(() => this.requestCommit(true), wait);
      return;
    }
    clearTimeout(this.commitTimer);
    this.commitTimer = undefined;
    this.commitScheduled = true;
    this.schedule(() => this.commitPending());
  }

  private async commitPending(): Promise<void> {
    this.commitScheduled = false;
    this.lastCommitAt = performance.now();
    const batches = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    if (!batches.length) return;
    try {
      const entries = batches.flatMap((b) => b.entries);
      const records = batches.flatMap((b) => b.records);
      const data = Buffer.concat(records);
      const { segment, handle } = await this.writable(entries[0]!.id);
      await handle.write(data);
      segment.bytes += data.length;
      this.written += data.length;
      await this.options.beforeSync?.();
      await handle.datasync();
      entries.forEach((entry, i) => {
        this.track(entry, segment, records[i]!.length);
        if (entry.stream !== undefined && entry.seq !== undefined) this.noteSeq(this.durableSeqs, entry.stream, entry.seq);
      });
      this.enforceBound();
    } catch (err) {
      // Whatever part of the batch reached the file is not trusted: later batches go to a new segment.
      const active = this.active;
      this.active = undefined;
      await active?.handle.close().catch(() => undefined);
      for (const batch of batches) batch.reject(err);
      return;
    }
    for (const batch of batches) batch.resolve();
  }

  /** The newest segment, or a new one when it is full or none is open since open(). */
  private async writable(firstId: number): Promise<{ segment: Segment; handle: FileHandle }> {
    if (this.active && this.active.segment.bytes < this.segmentBytes) return this.active;
    const previous = this.active;
    this.active = undefined;
    if (previous) {
      await previous.handle.close();
      if (previous.segment.live === 0) this.scheduleCompaction();
    }
    const segment: Segment = { firstId, file: join(this.config.dir, segmentName(firstId)), bytes: 0, live: 0 };
    const handle = await open(segment.file, 'wx');
    // The new file's name must be durable before records in it are reported durable.
    await this.syncDir();
    this.segments.push(segment);
    this.active = { segment, handle };
    return this.active;
  }

  private scheduleCompaction(): void {
    if (this.compactScheduled) return;
    this.compactScheduled = true;
    this.schedule(async () => {
      this.compactScheduled = false;
      await this.compact();
    });
  }

  /** Writes the state file, then deletes the segments with nothing left to send. */
  private async compact(): Promise<void> {
    const free = this.segments.filter((s) => s.live === 0 && s !== this.active?.segment);
    await this.writeState();
    for (const segment of free) {
      try {
        await unlink(segment.file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
          this.logger.warn(
            { file: segment.file, err },
            'could not delete an acknowledged outbox segment; its messages may be sent again after a restart',
          );
          continue;
        }
      }
      this.segments.splice(this.segments.indexOf(segment), 1);
    }
  }

  private async readState(): Promise<State> {
    const file = join(this.config.dir, STATE_FILE);
    const empty: State = { next_id: 0, acked_below: 0, seq: {} };
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return empty;
      throw err;
    }
    let parsed: ReturnType<typeof StateSchema.safeParse>;
    try {
      parsed = StateSchema.safeParse(JSON.parse(text));
    } catch (err) {
      this.logger.warn(
        { file, reason: (err as Error).message },
        'outbox state file unreadable: ids and seq are recovered from the journal alone',
      );
      return empty;
    }
    if (parsed.success) return parsed.data;
    this.logger.warn(
      { file, reason: formatIssues(parsed.error) },
      'outbox state file invalid: ids and seq are recovered from the journal alone',
    );
    return empty;
  }

  private async writeState(): Promise<void> {
    // Ids handed to appendMany() but not committed yet are not acknowledged either.
    const oldest = Math.min(this.queued.keys().next().value ?? this.nextId, this.pending[0]?.entries[0]?.id ?? this.nextId);
    const state: State = { next_id: this.nextId, acked_below: oldest, seq: Object.fromEntries(this.durableSeqs) };
    const text = JSON.stringify(state);
    await writeFileAtomic(join(this.config.dir, STATE_FILE), text, { fsync: true });
    // The rename must be durable before the segments it lets us delete are gone.
    await this.syncDir();
    this.written += Buffer.byteLength(text);
  }

  private countDamage(damage: { file: string; region: DamagedRegion }[], ackedBelow: number): void {
    for (const { file, region } of damage) {
      // How many records the damaged bytes held, from the ids around them; a torn tail held at least one.
      const records = region.before !== undefined && region.after !== undefined ? Math.max(1, region.before - region.after - 1) : 1;
      if (region.before !== undefined && region.before <= ackedBelow) continue; // all of it was acknowledged
      this.corruptCount += records;
      this.logger.warn(
        { file, offset: region.offset, bytes: region.bytes, records, tail: region.before === undefined },
        region.before === undefined
          ? 'outbox segment ends in a torn or corrupt record (power cut?): skipped'
          : 'outbox segment has corrupt records: skipped',
      );
    }
  }

  /** Moves the one-file-per-message queue of older versions into the journal. */
  private async importLegacy(names: string[]): Promise<void> {
    const files = names.filter((name) => LEGACY_FILE.test(name));
    if (!files.length) return;
    const messages: OutboxMessage[] = [];
    const imported: string[] = [];
    for (const name of files) {
      const file = join(this.config.dir, name);
      let reason: string;
      try {
        const parsed = OutboxMessageSchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
        if (parsed.success) {
          messages.push(parsed.data);
          imported.push(file);
          continue;
        }
        reason = formatIssues(parsed.error);
      } catch (err) {
        reason = (err as Error).message;
      }
      await mkdir(join(this.config.dir, REJECTED_DIR), { recursive: true });
      await rename(file, join(this.config.dir, REJECTED_DIR, name));
      this.logger.warn({ file, reason }, 'older outbox file unusable: set aside');
    }
    await this.appendMany(messages);
    for (const file of imported) await unlink(file);
    this.logger.info({ messages: messages.length }, 'moved the older one-file-per-message outbox into the journal');
  }

  private enforceBound(): void {
    const { max_messages, max_bytes = Infinity } = this.config;
    while (this.queued.size > max_messages || this.liveBytes > max_bytes) {
      const [oldest, queued] = this.queued.entries().next().value as [number, Queued];
      this.release(oldest, queued);
      this.droppedCount++;
      const now = Date.now();
      if (now - this.lastDropWarn >= DROP_WARN_INTERVAL_MS) {
        this.lastDropWarn = now;
        this.logger.warn(
          { dir: this.config.dir, max_messages, max_bytes, dropped: this.droppedCount },
          'outbox full: dropping the oldest unpublished messages',
        );
      }
    }
  }

  private async syncDir(): Promise<void> {
    const handle = await open(this.config.dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
}
