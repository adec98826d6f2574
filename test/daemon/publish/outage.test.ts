/**
 * The journal under load: 10,000 results through the publisher with a real Mosquitto outage
 * in the middle and a publisher restart during the outage; none may be lost and `seq` must
 * run 1..10,000 without a gap.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { MqttSchema } from '../../../src/daemon/config.js';
import { baseTopic, MqttPublisher, Outbox, topics, type PayloadOf, type ResultPayload } from '../../../src/daemon/publish/index.js';
import { capturingLogger } from '../../helpers/log.js';
import { startMosquitto, subscribe } from '../../helpers/mosquitto.js';
import { waitFor } from '../../helpers/wait.js';

const DEVICE = 'outage-pi';
const BASE = baseTopic('pivot-edge', DEVICE);
const TOTAL = 10_000;
const BATCH = 8;

function result(i: number): ResultPayload {
  return {
    device: DEVICE,
    source: 'cam',
    frame: `cam#${i}`,
    input: `/var/lib/pivot-edge/inbox/${i}.png`,
    captured_at: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString(),
    label: 'Sneaker',
    class_index: 7,
    probability: 0.97,
    entropy: 0.05,
    effort: 1,
    escalated: false,
    latency_ms: { preprocess: 1.9, low: 0.8 },
    model: 'fmnist-vit',
    low: 1,
    high: 6,
    threshold: 0.3,
    policy: 'cascade',
  };
}

test(`${TOTAL} results, the broker down in the middle and the publisher restarted meanwhile: none lost, seq gap-free`, {
  timeout: 300_000,
}, async (t) => {
  const broker = await startMosquitto({ persistence: true });
  t.after(() => broker.stop());
  const inbox = await subscribe(broker.url, topics.result(BASE, 'cam'), { session: 'outage-results' });
  t.after(() => inbox.close());
  const dir = await mkdtemp(join(tmpdir(), 'pivot-outage-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const logger = capturingLogger().logger;
  const mqtt = MqttSchema.parse({ url: broker.url, reconnect_s: 0.2, discovery: { enabled: false } });
  const publisher = () => new MqttPublisher({ mqtt, device: DEVICE, outbox: new Outbox({ dir, max_messages: 2 * TOTAL }, logger), logger });

  let next = 0;
  const send = async (pub: MqttPublisher, upTo: number) => {
    for (; next < upTo; next += BATCH) {
      await pub.enqueueMany(
        Array.from({ length: Math.min(BATCH, upTo - next) }, (_, k) => ({
          kind: 'result' as const,
          source: 'cam',
          payload: result(next + k),
        })),
      );
    }
  };

  let pub = publisher();
  await pub.start();
  await waitFor(() => pub.connected, 'the first connection');
  await send(pub, 3000);
  await broker.kill();
  await waitFor(() => !pub.connected, 'the publisher to notice the outage');
  await send(pub, 6000);
  // A daemon restart while the broker is away: what was not acknowledged stays in the journal.
  await pub.stop();
  pub = publisher();
  await pub.start();
  await send(pub, 8000);
  assert.ok(pub.stats().outbox_depth > 0, 'results wait in the journal during the outage');
  await broker.start();
  await send(pub, TOTAL);
  assert.equal(await pub.flush(120_000), true, 'the journal drains once the broker is back');
  await inbox.waitFor((m) => new Set(m.map((x) => x.payload)).size >= TOTAL, `${TOTAL} distinct results`, 120_000);
  await pub.stop();

  const received = inbox.messages.map((m) => JSON.parse(m.payload) as PayloadOf['result']);
  const seqs = new Set(received.map((r) => r.seq));
  assert.equal(seqs.size, TOTAL);
  assert.deepEqual(
    [...seqs].sort((a, b) => a - b),
    Array.from({ length: TOTAL }, (_, i) => i + 1),
    'seq runs 1..10000 with no gap across the outage and the restart',
  );
  // seq and the frame name the same message: a redelivery repeats both.
  for (const r of received) assert.equal(r.frame, `cam#${r.seq - 1}`);
  const left = (await readdir(dir)).filter((n) => n.endsWith('.seg'));
  assert.deepEqual(left, [], 'every segment was deleted once acknowledged');
});
