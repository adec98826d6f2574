import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { connectAsync } from 'mqtt';
import getPort from 'get-port';
import type { Logger } from 'pino';
import { ConfigError } from '../../../src/errors.js';
import { MqttSchema, type MqttConfig } from '../../../src/daemon/config.js';
import {
  baseTopic,
  discoveryMessages,
  MqttPublisher,
  Outbox,
  topics,
  type ErrorPayload,
  type ResultPayload,
} from '../../../src/daemon/publish/index.js';
import { capturingLogger } from '../../helpers/log.js';
import { waitFor } from '../../helpers/wait.js';
import { startMosquitto, subscribe, type Broker, type BrokerOptions, type Collector, type Received } from '../../helpers/mosquitto.js';

const DEVICE = 'test-pi';
const BASE = baseTopic('pivot-edge', DEVICE);
const STATUS = topics.availability(BASE);

function result(i: number, source = 'cam'): ResultPayload {
  return {
    device: DEVICE,
    source,
    frame: `${source}#${i}`,
    input: `${source}#${i}`,
    captured_at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
    label: i % 2 ? 'Sneaker' : 'Bag',
    class_index: i % 10,
    probability: 0.9,
    entropy: 0.1,
    effort: 1,
    escalated: false,
    latency_ms: { preprocess: 1, low: 2 },
    model: 'fmnist-vit',
    low: 1,
    high: 6,
    threshold: 0.28,
    policy: 'cascade',
  };
}

async function broker(t: TestContext, options?: BrokerOptions): Promise<Broker> {
  const b = await startMosquitto(options);
  t.after(() => b.stop());
  return b;
}

async function collector(t: TestContext, ...args: Parameters<typeof subscribe>): Promise<Collector> {
  const c = await subscribe(...args);
  t.after(() => c.close());
  return c;
}

/** A publisher with its own temp outbox, stopped after the test. */
async function publisher(
  t: TestContext,
  mqtt: Partial<MqttConfig> & { url: MqttConfig['url'] },
  extra: { sources?: string[]; logger?: Logger } = {},
) {
  const dir = await mkdtemp(join(tmpdir(), 'pivot-publisher-'));
  const logger = extra.logger ?? capturingLogger().logger;
  // The schema checks URLs too; parse with a placeholder so a test can hand the publisher a bad one directly.
  const config = { ...MqttSchema.parse({ reconnect_s: 0.2, ...mqtt, url: 'mqtt://127.0.0.1' }), url: mqtt.url };
  const outbox = new Outbox({ dir, max_messages: 1000 }, logger);
  const pub = new MqttPublisher({
    mqtt: config,
    device: DEVICE,
    outbox,
    logger,
    discovery: () =>
      discoveryMessages({
        device: DEVICE,
        base: BASE,
        sources: extra.sources ?? ['cam'],
        prefix: config.discovery.prefix,
        model: 'fmnist-vit',
        swVersion: '0.1.0',
      }),
  });
  t.after(async () => {
    await pub.stop();
    await rm(dir, { recursive: true, force: true });
  });
  return { pub, outbox };
}

const sawOnline = (messages: Received[]) => messages.some((m) => m.topic === STATUS && m.payload === 'online');

test('results and errors arrive on their topics; online is retained after connect, offline after stop()', async (t) => {
  const b = await broker(t);
  const inbox = await collector(t, b.url, `${BASE}/#`);
  const { pub, outbox } = await publisher(t, { url: b.url });
  await pub.start();
  await inbox.waitFor(sawOnline, 'online');

  const error: ErrorPayload = {
    device: DEVICE,
    source: 'door',
    frame: 'door#1',
    input: 'door#1',
    captured_at: new Date().toISOString(),
    error: 'InputError',
    message: 'door#1: not an image',
  };
  await pub.enqueue('result', 'cam', result(1));
  await pub.enqueue('error', 'door', error);
  await inbox.waitFor((m) => m.some((x) => x.topic === topics.error(BASE, 'door')), 'the error message');
  // Each source numbers its messages from 1 (seq).
  assert.deepEqual(
    inbox.on(topics.result(BASE, 'cam')).map((m) => JSON.parse(m.payload)),
    [{ ...result(1), seq: 1 }],
  );
  assert.deepEqual(JSON.parse(inbox.on(topics.error(BASE, 'door'))[0]!.payload), { ...error, seq: 1 });
  assert.equal(await pub.flush(10_000), true);
  assert.equal(outbox.depth, 0);
  assert.equal(pub.stats().published, 2);
  assert.equal(pub.stats().connected, true);

  const telemetry = {
    device: DEVICE,
    time: new Date().toISOString(),
    uptime_s: 1,
    cpu_load_percent: 12.5,
    cpu_temp_c: null,
    mem_used_bytes: 1,
    mem_total_bytes: 2,
    process_rss_bytes: 1,
    frames: 2,
    failed: 1,
    escalated: 0,
    fraction_low: 1,
    outbox_depth: 0,
    outbox_dropped: 0,
    sources: { cam: { produced: 1, dropped: 0, errors: 0 } },
  };
  pub.publishTelemetry(telemetry);
  await inbox.waitFor((m) => m.some((x) => x.topic === topics.telemetry(BASE)), 'telemetry');
  assert.deepEqual(JSON.parse(inbox.on(topics.telemetry(BASE))[0]!.payload), telemetry);

  // A client arriving later sees the retained state.
  const late = await collector(t, b.url, STATUS);
  await late.waitFor((m) => m.some((x) => x.payload === 'online' && x.retain), 'retained online');

  await pub.stop();
  const after = await collector(t, b.url, STATUS);
  await after.waitFor((m) => m.some((x) => x.payload === 'offline' && x.retain), 'retained offline after stop()');
});

test('a burst larger than the in-flight window arrives once each, in order', async (t) => {
  const b = await broker(t);
  const inbox = await collector(t, b.url, topics.result(BASE, 'cam'));
  const { pub } = await publisher(t, { url: b.url });
  await pub.start();
  await waitFor(() => pub.connected, 'connect');
  await Promise.all(Array.from({ length: 100 }, (_, i) => pub.enqueue('result', 'cam', result(i))));
  assert.equal(await pub.flush(20_000), true);
  await inbox.waitFor((m) => m.length >= 100, '100 results');
  assert.deepEqual(
    inbox.messages.map((m) => (JSON.parse(m.payload) as ResultPayload).frame),
    Array.from({ length: 100 }, (_, i) => `cam#${i}`),
  );
  assert.equal(pub.stats().published, 100);
});

test('messages a previous run left in the outbox are published at start, oldest first', async (t) => {
  const b = await broker(t);
  const inbox = await collector(t, b.url, topics.result(BASE, '+'));
  const dir = await mkdtemp(join(tmpdir(), 'pivot-leftover-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const logger = capturingLogger().logger;
  const previous = new Outbox({ dir, max_messages: 100 }, logger);
  await previous.open();
  for (let i = 1; i <= 5; i++)
    await previous.append({ topic: topics.result(BASE, 'cam'), payload: JSON.stringify(result(i)), qos: 1, retain: false });
  await previous.close();

  const outbox = new Outbox({ dir, max_messages: 100 }, logger);
  const pub = new MqttPublisher({ mqtt: MqttSchema.parse({ url: b.url, reconnect_s: 0.2 }), device: DEVICE, outbox, logger });
  t.after(() => pub.stop());
  await pub.start();
  assert.equal(await pub.flush(15_000), true);
  await inbox.waitFor((m) => m.length >= 5, 'the 5 leftover results');
  assert.deepEqual(
    inbox.messages.map((m) => (JSON.parse(m.payload) as ResultPayload).frame),
    ['cam#1', 'cam#2', 'cam#3', 'cam#4', 'cam#5'],
  );
});

test('the broker publishes the retained offline will when the publisher process dies', async (t) => {
  const b = await broker(t);
  const dir = await mkdtemp(join(tmpdir(), 'pivot-lwt-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const inbox = await collector(t, b.url, STATUS);
  const script = fileURLToPath(new URL('./lwt-child.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script, b.url, DEVICE, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  await inbox.waitFor(sawOnline, 'online from the child');
  child.kill('SIGKILL');
  await inbox.waitFor((m) => m.at(-1)?.payload === 'offline', 'offline will after SIGKILL');
  const late = await collector(t, b.url, STATUS);
  await late.waitFor((m) => m.some((x) => x.payload === 'offline' && x.retain), 'retained offline will');
});

test('broker away: messages queue on disk and all arrive in order once it is back', async (t) => {
  // Persistence keeps the subscriber's session across the restart, so it misses nothing the publisher sends early.
  const b = await broker(t, { persistence: true });
  const inbox = await collector(t, b.url, topics.result(BASE, 'cam'), { session: 'test-results' });
  const { logger, lines } = capturingLogger();
  const { pub, outbox } = await publisher(t, { url: b.url }, { logger });
  await pub.start();
  await pub.enqueue('result', 'cam', result(0));
  await inbox.waitFor((m) => m.length === 1, 'the first result');

  await b.kill();
  await waitFor(() => !pub.connected, 'the publisher to notice the broker is gone');
  for (let i = 1; i <= 20; i++) await pub.enqueue('result', 'cam', result(i));
  assert.equal(outbox.depth, 20, 'queued on disk while the broker is away');

  await b.start();
  assert.equal(await pub.flush(20_000), true, 'outbox drains after the broker is back');
  assert.equal(outbox.depth, 0);
  await inbox.waitFor((m) => new Set(m.map((x) => x.payload)).size === 21, 'all 21 results');
  // At-least-once: a reconnect may repeat a message, but first arrivals keep the order they were queued in.
  const firstSeen = [...new Set(inbox.messages.map((m) => (JSON.parse(m.payload) as ResultPayload).frame))];
  assert.deepEqual(
    firstSeen,
    Array.from({ length: 21 }, (_, i) => `cam#${i}`),
  );
  assert.ok(pub.stats().reconnects >= 1);
  const down = lines.filter((l) => l.msg === 'MQTT broker unavailable; queuing to the outbox and retrying');
  assert.ok(down.length >= 1, 'the outage is logged');
  assert.ok(down.length <= 3, `logged once per state change, not per retry (got ${down.length})`);
});

test('stop() while the broker is unreachable returns and keeps the queue on disk for the next run', async (t) => {
  const unreachable = await getPort({ host: '127.0.0.1' });
  const dir = await mkdtemp(join(tmpdir(), 'pivot-offline-stop-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const logger = capturingLogger().logger;
  const pub = new MqttPublisher({
    mqtt: MqttSchema.parse({ url: `mqtt://127.0.0.1:${unreachable}`, reconnect_s: 0.2 }),
    device: DEVICE,
    outbox: new Outbox({ dir, max_messages: 100 }, logger),
    logger,
  });
  await pub.start();
  await pub.enqueue('result', 'cam', result(1));
  assert.equal(await pub.flush(300), false, 'nothing can be acknowledged');
  await pub.stop();
  const reopened = new Outbox({ dir, max_messages: 100 }, logger);
  await reopened.open();
  assert.deepEqual(
    reopened.peek(10).map((e) => JSON.parse(e.payload) as ResultPayload),
    [{ ...result(1), seq: 1 }],
  );
  await reopened.close();
});

test('Home Assistant discovery is retained and re-sent when Home Assistant comes online', async (t) => {
  const b = await broker(t);
  const sources = ['cam', 'door'];
  const expected = discoveryMessages({
    device: DEVICE,
    base: BASE,
    sources,
    prefix: 'homeassistant',
    model: 'fmnist-vit',
    swVersion: '0.1.0',
  });
  const configs = await collector(t, b.url, 'homeassistant/sensor/#');
  const { pub } = await publisher(t, { url: b.url }, { sources });
  await pub.start();
  await configs.waitFor((m) => m.length >= expected.length, 'discovery configs');
  assert.deepEqual(new Set(configs.messages.map((m) => m.topic)), new Set(expected.map((m) => m.topic)));

  // Retained: Home Assistant starting later still finds them.
  const late = await collector(t, b.url, 'homeassistant/sensor/#');
  await late.waitFor((m) => m.length >= expected.length, 'retained discovery configs');
  assert.ok(late.messages.every((m) => m.retain));

  const label = JSON.parse(late.on(`homeassistant/sensor/${DEVICE}/door_label/config`)[0]!.payload) as Record<string, unknown>;
  assert.equal(label.state_topic, topics.result(BASE, 'door'));
  assert.equal(label.json_attributes_topic, topics.result(BASE, 'door'));
  assert.equal(label.value_template, '{{ value_json.label }}');
  assert.equal(label.availability_topic, STATUS);
  assert.equal(label.unique_id, `pivot_edge_${DEVICE}_door_label`);
  assert.deepEqual((label.device as { identifiers: string[] }).identifiers, [`pivot_edge_${DEVICE}`]);
  const uniqueIds = late.messages.map((m) => (JSON.parse(m.payload) as { unique_id: string }).unique_id);
  assert.equal(new Set(uniqueIds).size, uniqueIds.length, 'unique_id differs per sensor');

  // Home Assistant restarted: it says online on its status topic and expects the configs again.
  const before = configs.messages.length;
  const homeAssistant = await connectAsync(b.url);
  t.after(() => homeAssistant.endAsync(true));
  await homeAssistant.publishAsync('homeassistant/status', 'online', { qos: 1 });
  await configs.waitFor((m) => m.length >= before + expected.length, 'discovery re-sent after homeassistant/status online');
  assert.deepEqual(new Set(configs.messages.slice(before).map((m) => m.topic)), new Set(expected.map((m) => m.topic)));
});

test('bad credentials: the reason is logged with the URL, never the password; the publisher keeps queuing', async (t) => {
  const b = await broker(t, { users: { alice: 'correct-horse' } });
  const secrets = ['cfg-s3cret-pw', 'url-s3cret-pw'];
  const { logger, lines, text } = capturingLogger();
  const byConfig = await publisher(t, { url: b.url, username: 'alice', password: secrets[0]! }, { logger });
  const byUrl = await publisher(t, { url: `mqtt://alice:${secrets[1]!}@127.0.0.1:${b.port}` }, { logger: logger.child({ which: 'url' }) });
  await byConfig.pub.start();
  await byUrl.pub.start();

  const refusals = () =>
    lines.filter(
      (l) => l.msg === 'MQTT broker unavailable; queuing to the outbox and retrying' && /not authorized/i.test(String(l.reason)),
    );
  await waitFor(() => refusals().length >= 2, 'both publishers to log the refusal');
  assert.equal(refusals().length, 2, 'logged once each, not at every retry');
  for (const line of refusals()) assert.match(String(line.url), new RegExp(`127\\.0\\.0\\.1:${b.port}`));

  await byUrl.pub.enqueue('result', 'cam', result(1));
  assert.equal(byUrl.outbox.depth, 1, 'still queuing while refused');
  assert.equal(byConfig.pub.connected, false);
  assert.match(String(byConfig.pub.stats().last_error), /not authorized/i);

  await byConfig.pub.stop();
  await byUrl.pub.stop();
  const all = text.join('') + JSON.stringify([byConfig.pub.stats(), byUrl.pub.stats()]);
  for (const secret of secrets) assert.ok(!all.includes(secret), `${secret} leaked into logs or stats`);
  assert.ok(all.includes(`"mqtt://127.0.0.1:${b.port}"`), 'the URL is logged, without its credentials');
});

test('a broker cluster: an unreachable first URL is skipped; credentials may come from a URL', async (t) => {
  const b = await broker(t, { users: { alice: 'correct-horse' } });
  const unreachable = await getPort({ host: '127.0.0.1' });
  const inbox = await collector(t, b.url, STATUS, { username: 'alice', password: 'correct-horse' });
  const { pub } = await publisher(t, { url: [`mqtt://127.0.0.1:${unreachable}`, `mqtt://alice:correct-horse@127.0.0.1:${b.port}`] });
  await pub.start();
  await inbox.waitFor(sawOnline, 'online via the second broker URL');
  assert.equal(pub.connected, true);
});

test('an unreadable TLS file is a ConfigError naming the file', async (t) => {
  const missing = join(tmpdir(), 'pivot-no-such-dir', 'ca.pem');
  const { pub } = await publisher(t, { url: 'mqtts://127.0.0.1:8883', tls: { ca: missing, reject_unauthorized: true } });
  await assert.rejects(
    pub.start(),
    (err: Error) => err instanceof ConfigError && err.message.includes(missing) && err.message.includes('mqtt.tls.ca'),
  );
});

test('a malformed broker URL is a ConfigError that does not echo its password', async (t) => {
  const { pub } = await publisher(t, { url: 'mqtt://bob:hunter2@' });
  await assert.rejects(
    pub.start(),
    (err: Error) => err instanceof ConfigError && err.message.includes('mqtt.url') && !err.message.includes('hunter2'),
  );
});
