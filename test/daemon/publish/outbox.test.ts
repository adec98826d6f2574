import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Outbox, REJECTED_DIR, type OutboxMessage } from '../../../src/daemon/publish/index.js';
import { capturingLogger } from '../../helpers/log.js';

const message = (i: number): OutboxMessage => ({ topic: `t/${i}`, payload: JSON.stringify({ i }), qos: 1, retain: false });
const silent = () => capturingLogger().logger;
const segments = async (dir: string) => (await readdir(dir)).filter((n) => n.endsWith('.seg')).sort();

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pivot-outbox-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return join(dir, 'outbox');
}

/** Messages of stream `cam` numbered with the outbox's own seq, as the publisher makes them. */
function sequenced(outbox: Outbox, count: number): OutboxMessage[] {
  return Array.from({ length: count }, () => {
    const seq = outbox.nextSeq('cam');
    return { topic: 'cam/result', payload: JSON.stringify({ seq }), qos: 1, retain: false, stream: 'cam', seq };
  });
}

/** An outbox left with one segment of five records (stream `cam`, seq 1..5); returns its directory and segment file. */
async function fiveRecords(t: { after(fn: () => Promise<void>): void }): Promise<{ dir: string; file: string }> {
  const dir = await tempDir(t);
  const writer = new Outbox({ dir, max_messages: 100 }, silent());
  await writer.open();
  await writer.appendMany(sequenced(writer, 5));
  await writer.close();
  const [segment] = await segments(dir);
  return { dir, file: join(dir, segment!) };
}

test('keeps messages in order, forgets acknowledged ones, and deletes a segment once all of it is acknowledged', async (t) => {
  const dir = await tempDir(t);
  const outbox = new Outbox({ dir, max_messages: 100 }, silent(), { segmentBytes: 100 });
  await outbox.open();
  // Appends issued concurrently still queue in call order.
  await Promise.all([1, 2, 3, 4, 5].map((i) => outbox.append(message(i))));
  assert.equal(outbox.depth, 5);
  assert.deepEqual(
    outbox.peek(3).map((e) => e.topic),
    ['t/1', 't/2', 't/3'],
  );
  const [first, second] = outbox.peek(2);
  await outbox.ack(second!.id);
  await outbox.ack(first!.id);
  assert.deepEqual(
    outbox.peek(10).map((e) => e.topic),
    ['t/3', 't/4', 't/5'],
  );
  // Then 10 more: with 100-byte segments the journal rolls over to new segments.
  for (let i = 6; i <= 15; i++) await outbox.append(message(i));
  const before = await segments(dir);
  assert.ok(before.length >= 3, `several segments (${before.join(', ')})`);
  for (const entry of outbox.peek(8)) await outbox.ack(entry.id);
  await outbox.close();
  const after = await segments(dir);
  assert.ok(after.length < before.length, `acknowledged segments are deleted (${before.length} -> ${after.length})`);
  await assert.rejects(outbox.append(message(16)), /not open/);
});

test('survives a reopen: unacknowledged messages load in order, acknowledged ones are not sent again, ids go on', async (t) => {
  const dir = await tempDir(t);
  const first = new Outbox({ dir, max_messages: 100 }, silent());
  await first.open();
  for (let i = 1; i <= 12; i++) await first.append(message(i));
  await first.ack(first.peek(1)[0]!.id);
  const lastId = first.peek(100).at(-1)!.id;
  await first.close();

  const second = new Outbox({ dir, max_messages: 100 }, silent());
  await second.open();
  assert.equal(second.depth, 11);
  await second.append(message(13));
  const loaded = second.peek(100);
  assert.deepEqual(
    loaded.map((e) => e.topic),
    Array.from({ length: 12 }, (_, k) => `t/${k + 2}`),
  );
  assert.deepEqual(loaded[0], { id: loaded[0]!.id, ...message(2) }, 'payload, qos and retain survive');
  assert.ok(loaded.at(-1)!.id > lastId, 'new ids follow the old ones');
  // Everything acknowledged and closed: nothing is left to load, and no segment stays behind.
  for (const entry of loaded) await second.ack(entry.id);
  await second.close();
  assert.deepEqual(await segments(dir), []);
  const third = new Outbox({ dir, max_messages: 100 }, silent());
  await third.open();
  assert.equal(third.depth, 0);
  await third.close();
});

test('a group commit (appendMany) keeps call order, between single appends and across a reopen', async (t) => {
  const dir = await tempDir(t);
  const first = new Outbox({ dir, max_messages: 100 }, silent());
  await first.open();
  await Promise.all([first.append(message(1)), first.appendMany([2, 3, 4, 5].map(message)), first.append(message(6))]);
  await first.appendMany([]);
  assert.deepEqual(
    first.peek(10).map((e) => e.topic),
    ['t/1', 't/2', 't/3', 't/4', 't/5', 't/6'],
  );
  await first.close();
  const second = new Outbox({ dir, max_messages: 100 }, silent());
  await second.open();
  assert.deepEqual(
    second.peek(10).map((e) => e.topic),
    ['t/1', 't/2', 't/3', 't/4', 't/5', 't/6'],
  );
  await second.close();
});

test('the bound (messages and bytes) drops the oldest, counts them and warns; their segments go', async (t) => {
  const dir = await tempDir(t);
  const { logger, lines } = capturingLogger();
  const outbox = new Outbox({ dir, max_messages: 3 }, logger, { segmentBytes: 1 });
  await outbox.open();
  for (let i = 1; i <= 7; i++) await outbox.append(message(i));
  assert.equal(outbox.depth, 3);
  assert.equal(outbox.dropped, 4);
  assert.deepEqual(
    outbox.peek(10).map((e) => e.topic),
    ['t/5', 't/6', 't/7'],
  );
  const warning = lines.find((l) => l.level === 40 && String(l.msg).includes('outbox full'));
  assert.ok(warning, 'a warning says messages are being dropped');
  assert.equal(warning.max_messages, 3);
  await outbox.close();
  // One-byte segments: each append starts a new one. The dropped ones' segments are gone.
  assert.equal((await segments(dir)).length, 3);

  const bytesDir = await tempDir(t);
  const byBytes = new Outbox({ dir: bytesDir, max_messages: 1000, max_bytes: 800 }, silent());
  await byBytes.open();
  const big = (i: number): OutboxMessage => ({ ...message(i), payload: 'x'.repeat(300) });
  for (let i = 1; i <= 5; i++) await byBytes.append(big(i));
  assert.ok(byBytes.bytes <= 800, `queued bytes ${byBytes.bytes} within max_bytes`);
  assert.equal(byBytes.depth, 2, 'two 300-byte payloads (plus record headers) fit in 800 bytes, three do not');
  assert.equal(byBytes.dropped, 3);
  assert.deepEqual(
    byBytes.peek(10).map((e) => e.topic),
    ['t/4', 't/5'],
  );
  await byBytes.close();
});

test('a truncated segment (torn tail after a power cut): the intact records load, the tail is skipped, counted and logged once', async (t) => {
  const { dir, file } = await fiveRecords(t);
  await truncate(file, (await stat(file)).size - 7);
  // A power cut also means no clean close: the state file is only written at close and when segments are deleted.
  await rm(join(dir, 'state.json'));

  const { logger, lines } = capturingLogger();
  const outbox = new Outbox({ dir, max_messages: 100 }, logger);
  await outbox.open();
  assert.deepEqual(
    outbox.peek(10).map((e) => e.seq),
    [1, 2, 3, 4],
  );
  assert.equal(outbox.corrupt, 1);
  const warning = lines.find((l) => String(l.msg).includes('torn'));
  assert.ok(warning, 'the torn tail is logged');
  assert.equal(warning.file, file);
  // The lost record was never durable, so its seq is handed out again: no gap.
  assert.equal(outbox.nextSeq('cam'), 5);
  await outbox.close();

  const again = new Outbox({ dir, max_messages: 100 }, silent());
  await again.open();
  assert.equal(again.corrupt, 0, 'the torn tail was cut off and is not reported again');
  assert.equal(again.depth, 4);
  await again.close();
});

test('a bit-flipped record (payload or length) is skipped and counted; the records around it load', async (t) => {
  for (const where of ['payload', 'length'] as const) {
    const { dir, file } = await fiveRecords(t);
    const bytes = await readFile(file);
    const recordLength = bytes.length / 5; // the five records have the same length here
    const third = 2 * recordLength;
    // Length field at offset 2 of a record; the payload is its last bytes.
    const at = where === 'length' ? third + 3 : third + recordLength - 3;
    bytes[at] = bytes[at]! ^ 0x10;
    await writeFile(file, bytes);

    const { logger, lines } = capturingLogger();
    const outbox = new Outbox({ dir, max_messages: 100 }, logger);
    await outbox.open();
    assert.deepEqual(
      outbox.peek(10).map((e) => e.seq),
      [1, 2, 4, 5],
      `flipped ${where}`,
    );
    assert.equal(outbox.corrupt, 1, `flipped ${where}`);
    assert.ok(
      lines.some((l) => String(l.msg).includes('corrupt records')),
      'logged',
    );
    assert.equal(outbox.nextSeq('cam'), 6, 'seq goes on after the highest durable one');
    await outbox.close();
  }
});

test('kill -9 between the write and the fsync: every durable message loads, nothing is corrupt, seq goes on', async (t) => {
  const dir = await tempDir(t);
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./outbox-child.ts', import.meta.url)), dir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.after(() => child.kill('SIGKILL'));
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('written\n')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`child exited (${code}) before its second write: ${out}`)));
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
  assert.match(out, /durable 5\n/);

  const outbox = new Outbox({ dir, max_messages: 100 }, silent());
  await outbox.open();
  const seqs = outbox.peek(100).map((e) => e.seq);
  // The first batch was fsynced. The second was written, not fsynced: the kernel still has it
  // after a process kill, so it loads whole; only a power cut could tear it (previous test).
  assert.deepEqual(seqs.slice(0, 5), [1, 2, 3, 4, 5]);
  assert.ok(seqs.length === 5 || seqs.length === 10, `whole batches only (${seqs.join(',')})`);
  assert.equal(outbox.corrupt, 0);
  assert.equal(outbox.nextSeq('cam'), seqs.length + 1);
  await outbox.close();
});

test('seq is gap-free per stream across restarts, also once every segment has been acknowledged and deleted', async (t) => {
  const dir = await tempDir(t);
  const seen: number[] = [];
  for (let run = 0; run < 3; run++) {
    const outbox = new Outbox({ dir, max_messages: 100 }, silent(), { segmentBytes: 200 });
    await outbox.open();
    await outbox.appendMany(sequenced(outbox, 7));
    const other = outbox.nextSeq('door');
    await outbox.append({ ...message(0), stream: 'door', seq: other });
    for (const entry of outbox.peek(100)) {
      if (entry.stream === 'cam') seen.push(entry.seq!);
      await outbox.ack(entry.id);
    }
    assert.equal(other, run + 1, 'each stream counts on its own');
    await outbox.close();
    assert.deepEqual(await segments(dir), [], 'all acknowledged: no segment left, only the state file');
  }
  assert.deepEqual(
    seen,
    Array.from({ length: 21 }, (_, i) => i + 1),
  );
});

test('bytes written per message stay close to the payload size', async (t) => {
  const dir = await tempDir(t);
  const outbox = new Outbox({ dir, max_messages: 10_000 }, silent());
  await outbox.open();
  // A result payload is about 450 bytes of JSON.
  const payload = JSON.stringify({
    device: 'kitchen-pi',
    source: 'inbox',
    seq: 1,
    frame: '/var/lib/pivot-edge/inbox/a.png',
    pad: 'x'.repeat(330),
  });
  for (let b = 0; b < 50; b++) {
    await outbox.appendMany(
      Array.from({ length: 8 }, () => ({
        topic: 'pivot-edge/kitchen-pi/inbox/result',
        payload,
        qos: 1 as const,
        retain: false,
        stream: 'inbox',
        seq: outbox.nextSeq('inbox'),
      })),
    );
  }
  for (const entry of outbox.peek(10_000)) await outbox.ack(entry.id);
  await outbox.close();
  const ratio = outbox.bytesWritten / (400 * Buffer.byteLength(payload));
  assert.ok(ratio < 1.2, `journal bytes / payload bytes = ${ratio.toFixed(3)}`);
});

test('an older one-file-per-message outbox is moved into the journal; unusable files are set aside', async (t) => {
  const dir = await tempDir(t);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, '0000000000000001.json'), JSON.stringify(message(1)));
  await writeFile(join(dir, '0000000000000002.json'), '{"topic":"t/2","payl');
  await writeFile(join(dir, '0000000000000003.json'), JSON.stringify(message(3)));
  const { logger, lines } = capturingLogger();
  const outbox = new Outbox({ dir, max_messages: 100 }, logger);
  await outbox.open();
  assert.deepEqual(
    outbox.peek(10).map((e) => e.topic),
    ['t/1', 't/3'],
  );
  assert.deepEqual(await readdir(join(dir, REJECTED_DIR)), ['0000000000000002.json']);
  assert.ok(lines.some((l) => String(l.msg).includes('set aside')));
  assert.deepEqual(
    (await readdir(dir)).filter((n) => n.endsWith('.json') && n !== 'state.json'),
    [],
  );
  await outbox.close();
});

test('an empty segment left by a crash just after it was created is removed at open and does not block appends', async (t) => {
  const { dir } = await fiveRecords(t);
  // The next segment would start at id 6: a crash after creating it, before any record was durable.
  await writeFile(join(dir, '0000000000000006.seg'), '');
  await rm(join(dir, 'state.json'));
  const outbox = new Outbox({ dir, max_messages: 100 }, silent());
  await outbox.open();
  assert.equal(outbox.depth, 5);
  await outbox.appendMany(sequenced(outbox, 2));
  assert.deepEqual(
    outbox.peek(10).map((e) => e.seq),
    [1, 2, 3, 4, 5, 6, 7],
  );
  await outbox.close();
});

test('group commit: one write and fsync per interval under load, at once after a quiet spell, early at commit_bytes, and close() commits what waits', async (t) => {
  const dir = await tempDir(t);
  let commits = 0;
  const outbox = new Outbox({ dir, max_messages: 1000, commit_interval_ms: 300, commit_bytes: 4096 }, silent(), {
    beforeSync: async () => void commits++,
  });
  await outbox.open();
  // Idle: the first batch is committed at once.
  await outbox.appendMany(sequenced(outbox, 2));
  assert.equal(commits, 1);
  // Under load: batches within the interval wait for one commit; none resolves before it is durable.
  let durable = 0;
  const batches = [0, 1, 2, 3].map(() => outbox.appendMany(sequenced(outbox, 2)).then(() => durable++));
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(durable, 0, 'nothing reported durable before its commit');
  assert.equal(outbox.depth, 2, 'records waiting for the commit are not queued for sending yet');
  await Promise.all(batches);
  assert.equal(commits, 2, 'the four batches went to disk together');
  // commit_bytes reached: committed without waiting out the interval.
  const big = Array.from({ length: 12 }, (_, i) => ({ ...message(i), payload: 'x'.repeat(400) }));
  const started = performance.now();
  await outbox.appendMany(big);
  assert.ok(performance.now() - started < 250, 'committed early once 4 KiB waited');
  assert.equal(commits, 3);
  // Waiting records are committed by close(), and load at the next open.
  const last = outbox.appendMany(sequenced(outbox, 3));
  await outbox.close();
  await last;
  assert.equal(commits, 4);
  const reopened = new Outbox({ dir, max_messages: 1000 }, silent());
  await reopened.open();
  assert.deepEqual(
    reopened
      .peek(100)
      .filter((e) => e.stream === 'cam')
      .map((e) => e.seq),
    Array.from({ length: 13 }, (_, i) => i + 1),
  );
  await reopened.close();
});
