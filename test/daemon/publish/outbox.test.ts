import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Outbox, REJECTED_DIR, type OutboxMessage } from '../../../src/daemon/publish/index.js';
import { capturingLogger } from '../../helpers/log.js';

const message = (i: number): OutboxMessage => ({ topic: `t/${i}`, payload: JSON.stringify({ i }), qos: 1, retain: false });

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pivot-outbox-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return join(dir, 'outbox');
}

test('keeps messages in order and only removes acknowledged ones', async (t) => {
  const dir = await tempDir(t);
  const outbox = new Outbox({ dir, max_messages: 100 }, capturingLogger().logger);
  await outbox.open();
  // Appends issued concurrently still queue in call order.
  await Promise.all([1, 2, 3, 4, 5].map((i) => outbox.append(message(i))));
  assert.equal(outbox.depth, 5);
  assert.deepEqual(outbox.peek(3).map((e) => e.topic), ['t/1', 't/2', 't/3']);
  const [first, second] = outbox.peek(2);
  await outbox.ack(second!.id);
  await outbox.ack(first!.id);
  assert.deepEqual(outbox.peek(10).map((e) => e.topic), ['t/3', 't/4', 't/5']);
  assert.equal((await readdir(dir)).length, 3, 'acknowledged messages are deleted from disk');
  await outbox.close();
  await assert.rejects(outbox.append(message(6)), /not open/);
});

test('survives a reopen: what was on disk loads in order, new messages go after it', async (t) => {
  const dir = await tempDir(t);
  const first = new Outbox({ dir, max_messages: 100 }, capturingLogger().logger);
  await first.open();
  for (let i = 1; i <= 12; i++) await first.append(message(i));
  await first.ack(first.peek(1)[0]!.id);
  await first.close();

  const second = new Outbox({ dir, max_messages: 100 }, capturingLogger().logger);
  await second.open();
  assert.equal(second.depth, 11);
  await second.append(message(13));
  const loaded = second.peek(100);
  assert.deepEqual(
    loaded.map((e) => e.topic),
    Array.from({ length: 12 }, (_, k) => `t/${k + 2}`),
  );
  assert.deepEqual(loaded[0], { id: loaded[0]!.id, ...message(2) }, 'payload, qos and retain survive');
  await second.close();
});

test('a group commit (appendMany) keeps call order, between single appends and across a reopen', async (t) => {
  const dir = await tempDir(t);
  const first = new Outbox({ dir, max_messages: 100 }, capturingLogger().logger);
  await first.open();
  await Promise.all([first.append(message(1)), first.appendMany([2, 3, 4, 5].map(message)), first.append(message(6))]);
  await first.appendMany([]);
  assert.deepEqual(first.peek(10).map((e) => e.topic), ['t/1', 't/2', 't/3', 't/4', 't/5', 't/6']);
  await first.close();
  const second = new Outbox({ dir, max_messages: 100 }, capturingLogger().logger);
  await second.open();
  assert.deepEqual(second.peek(10).map((e) => e.topic), ['t/1', 't/2', 't/3', 't/4', 't/5', 't/6']);
  await second.close();
});

test('beyond max_messages drops the oldest, counts them and warns', async (t) => {
  const dir = await tempDir(t);
  const { logger, lines } = capturingLogger();
  const outbox = new Outbox({ dir, max_messages: 3 }, logger);
  await outbox.open();
  for (let i = 1; i <= 7; i++) await outbox.append(message(i));
  assert.equal(outbox.depth, 3);
  assert.equal(outbox.dropped, 4);
  assert.deepEqual(outbox.peek(10).map((e) => e.topic), ['t/5', 't/6', 't/7']);
  assert.equal((await readdir(dir)).length, 3);
  const warning = lines.find((l) => l.level === 40 && String(l.msg).includes('outbox full'));
  assert.ok(warning, 'a warning says messages are being dropped');
  assert.equal(warning.max_messages, 3);
  await outbox.close();
});

test('corrupt or partial files found at open are set aside with the reason; the rest loads', async (t) => {
  const dir = await tempDir(t);
  const writer = new Outbox({ dir, max_messages: 100 }, capturingLogger().logger);
  await writer.open();
  for (let i = 1; i <= 3; i++) await writer.append(message(i));
  await writer.close();
  const files = (await readdir(dir)).sort();
  // A truncated message, a message of the wrong shape, and a temp file from an interrupted atomic write.
  await writeFile(join(dir, files[1]!), '{"topic":"t/2","payl');
  await writeFile(join(dir, '0000000000000009.json'), JSON.stringify({ topic: 't/9', payload: 1, qos: 1, retain: false }));
  await writeFile(join(dir, `${files[2]!}.1234567`), '{"topic"');

  const { logger, lines } = capturingLogger();
  const outbox = new Outbox({ dir, max_messages: 100 }, logger);
  await outbox.open();
  assert.deepEqual(outbox.peek(10).map((e) => e.topic), ['t/1', 't/3']);
  const rejected = (await readdir(join(dir, REJECTED_DIR))).sort();
  assert.deepEqual(rejected, [files[1], `${files[2]}.1234567`, '0000000000000009.json'].sort());
  const asides = lines.filter((l) => l.msg === 'outbox file set aside');
  assert.equal(asides.length, 3);
  const truncated = asides.find((l) => String(l.file).endsWith(files[1]!));
  assert.match(String(truncated?.reason), /not valid JSON/);
  const wrongShape = asides.find((l) => String(l.file).endsWith('0000000000000009.json'));
  assert.match(String(wrongShape?.reason), /payload/);
  // New messages are numbered after the highest file seen, so they never overwrite a set-aside one's name.
  await outbox.append(message(4));
  assert.deepEqual(outbox.peek(10).map((e) => e.topic), ['t/1', 't/3', 't/4']);
  assert.ok(outbox.peek(10)[2]!.id > 9);
  await outbox.close();
});
