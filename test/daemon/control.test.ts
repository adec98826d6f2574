/**
 * Live control over MQTT against a real Mosquitto and the real model: `set` commands change
 * the threshold, policy and deployment between batches, are acknowledged on `set/result`,
 * re-published on the retained `config` topic, rejected with the field named when invalid,
 * and kept across a restart.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connectAsync, type MqttClient } from 'mqtt';
import { Daemon, validateDaemonConfig } from '../../src/daemon/index.js';
import type { ConfigPayload, SetReply } from '../../src/daemon/control/index.js';
import type { ResultPayload } from '../../src/daemon/publish/index.js';
import { silentLogger } from '../helpers/log.js';
import { startMosquitto, subscribe, type Broker, type Collector } from '../helpers/mosquitto.js';
import { waitFor } from '../helpers/wait.js';
import { DEPLOY, MODEL_DIR, sampleFiles, shippedDeploy } from '../runtime/helpers.js';

/** The shipped deploy.json's pair and threshold: what a reset returns to. */
const shipped = shippedDeploy();
const DEVICE = 'ctl';
const BASE = `pivot-edge/${DEVICE}`;
const files = sampleFiles().map((s) => s.source as string);
let next = 0;
/** Distinct sample files, a few at a time. */
const take = (n: number) => files.slice(next, (next += n));

describe('live control over MQTT', () => {
  let dir: string;
  let broker: Broker;
  let watch: Collector;
  let client: MqttClient;
  let daemon: Daemon;
  const config = (control: Record<string, unknown> = {}) =>
    validateDaemonConfig(
      {
        deploy: DEPLOY,
        device_id: DEVICE,
        sources: [{ name: 'inbox', type: 'directory', path: 'inbox' }],
        mqtt: { url: broker.url, reconnect_s: 0.5 },
        control,
        telemetry: { interval_s: 0 },
        http: { enabled: false },
      },
      join(dir, 'daemon.yaml'),
    );
  const replies = () => watch.on(`${BASE}/set/result`).map((m) => JSON.parse(m.payload) as SetReply);
  const latestConfig = () => JSON.parse(watch.on(`${BASE}/config`).at(-1)?.payload ?? 'null') as ConfigPayload | null;
  const results = () => watch.on(`${BASE}/inbox/result`).map((m) => JSON.parse(m.payload) as ResultPayload);
  /** Sends a command and returns its reply (matched by id). */
  let ids = 0;
  async function send(command: Record<string, unknown> | string): Promise<SetReply> {
    const id = ++ids;
    const payload = typeof command === 'string' ? command : JSON.stringify({ id, ...command });
    // Counted before publishing: the reply can arrive before the publish's own PUBACK.
    const before = replies().length;
    await client.publishAsync(`${BASE}/set`, payload, { qos: 1 });
    const match = (r: SetReply) => (typeof command === 'string' ? true : r.id === id);
    await watch.waitFor(
      () =>
        replies()
          .slice(typeof command === 'string' ? before : 0)
          .some(match),
      `the reply to ${payload}`,
    );
    return replies()
      .slice(typeof command === 'string' ? before : 0)
      .find(match)!;
  }
  /** Drops `n` new files into the inbox and returns their results. */
  async function classify(n: number): Promise<ResultPayload[]> {
    const batch = take(n);
    for (const file of batch) copyFileSync(file, join(dir, 'inbox', basename(file)));
    const names = new Set(batch.map((f) => basename(f)));
    const mine = () => results().filter((r) => names.has(basename(r.input)));
    await watch.waitFor(() => new Set(mine().map((r) => r.input)).size === n, `${n} results`, 60_000);
    return mine();
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pivot-control-'));
    broker = await startMosquitto();
    watch = await subscribe(broker.url, `${BASE}/#`);
    client = await connectAsync(broker.url);
    daemon = new Daemon(config(), silentLogger());
    await daemon.start();
  });

  after(async () => {
    await daemon?.stop();
    await client?.endAsync();
    await watch?.close();
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('publishes the current settings, retained, on <base>/config', async () => {
    await watch.waitFor(() => latestConfig() !== null, 'the config message');
    assert.deepEqual(
      { ...latestConfig(), deploy: basename(latestConfig()!.deploy) },
      {
        device: DEVICE,
        model: 'fmnist-vit',
        deploy: 'deploy.json',
        low: shipped.low,
        high: shipped.high,
        threshold: shipped.threshold,
        policy: 'cascade',
        overridden: [],
        control: true,
        sources: ['inbox'],
      },
    );
    assert.ok(watch.on(`${BASE}/config`).length >= 1);
    const late = await subscribe(broker.url, `${BASE}/config`);
    try {
      await late.waitFor((m) => m.some((x) => x.retain), 'the retained config for a late subscriber');
    } finally {
      await late.close();
    }
  });

  it('a threshold change is applied, acknowledged, re-published, and carried by the next results', async () => {
    const reply = await send({ threshold: 0.05 });
    assert.equal(reply.ok, true, JSON.stringify(reply));
    assert.ok(reply.ok);
    assert.deepEqual(reply.applied, { threshold: 0.05 });
    assert.equal(reply.config.threshold, 0.05);
    await watch.waitFor(() => latestConfig()?.threshold === 0.05, 'config with threshold 0.05');
    assert.deepEqual(latestConfig()!.overridden, ['threshold']);
    const after = await classify(12);
    for (const r of after) {
      assert.equal(r.threshold, 0.05);
      // The routing used the new threshold: E(x) above 0.05 went to the high effort.
      assert.equal(r.escalated, r.routing_entropy! > 0.05, `${basename(r.input)}: E=${r.routing_entropy}`);
    }
    assert.ok(
      after.some((r) => r.escalated),
      'a threshold this low escalates some of 12 images',
    );
  });

  it('an invalid command is rejected naming the field, and changes nothing', async () => {
    const cases: [Record<string, unknown> | string, RegExp][] = [
      [{ threshold: 2 }, /^threshold: /],
      [{ threshold: 'high' }, /^threshold: /],
      [{ policy: 'fast' }, /^policy: /],
      [{ deploy: { model: MODEL_DIR, low: 6, high: 1, threshold: 0.3 } }, /^deploy: high: /],
      [{ deploy: { model: MODEL_DIR, low: 1, high: 9, threshold: 0.3 } }, /^deploy: high: effort 9 is not in/],
      [{ deploy: 'no-such-deploy.json' }, /^deploy: .*no-such-deploy\.json: no such file/],
      [{ colour: 'red' }, /colour/],
      ['not json', /^\(root\): not JSON/],
    ];
    for (const [command, error] of cases) {
      const reply = await send(command);
      assert.equal(reply.ok, false, JSON.stringify(command));
      assert.ok(!reply.ok);
      assert.match(reply.error, error, JSON.stringify(command));
    }
    assert.equal(latestConfig()!.threshold, 0.05);
    assert.equal(daemon.settings!.threshold, 0.05);
  });

  it('a policy and a deployment change apply from the next batch', async () => {
    const high = await send({ policy: 'high' });
    assert.ok(high.ok, JSON.stringify(high));
    for (const r of await classify(4)) assert.deepEqual([r.effort, r.policy], [6, 'high']);
    const deploy = await send({ deploy: { model: MODEL_DIR, low: 2, high: 5, threshold: 0.4 }, policy: 'cascade' });
    assert.ok(deploy.ok, JSON.stringify(deploy));
    assert.deepEqual([deploy.config.low, deploy.config.high, deploy.config.threshold, deploy.config.policy], [2, 5, 0.4, 'cascade']);
    for (const r of await classify(4)) {
      assert.deepEqual([r.low, r.high, r.threshold, r.policy], [2, 5, 0.4, 'cascade']);
      assert.equal(r.effort, r.escalated ? 5 : 2);
    }
  });

  it('the changes survive a restart, and reset returns to the config file', async () => {
    await send({ threshold: 0.12 });
    await daemon.stop();
    const saved = JSON.parse(readFileSync(join(dir, 'control.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(saved.threshold, 0.12);
    // A retained command waiting on the broker is not applied at (re)connect: it would undo later changes.
    await client.publishAsync(`${BASE}/set`, JSON.stringify({ threshold: 0.9 }), { qos: 1, retain: true });
    const repliesBefore = replies().length;
    daemon = new Daemon(config(), silentLogger());
    await daemon.start();
    await watch.waitFor(() => watch.on(`${BASE}/status`).at(-1)?.payload === 'online', 'online again');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal(replies().length, repliesBefore, 'no reply to the retained command');
    // Clearing it (an empty retained message) reaches the daemon as an empty command: not answered either.
    await client.publishAsync(`${BASE}/set`, '', { qos: 1, retain: true });
    assert.deepEqual(
      [daemon.settings!.low, daemon.settings!.high, daemon.settings!.threshold, daemon.settings!.policy],
      [2, 5, 0.12, 'cascade'],
    );
    for (const r of await classify(3)) assert.deepEqual([r.low, r.high, r.threshold], [2, 5, 0.12]);
    const reset = await send({ reset: true });
    assert.ok(reset.ok);
    assert.equal(replies().length, repliesBefore + 1, 'the reset is the only command answered since the restart');
    assert.deepEqual(
      [reset.config.low, reset.config.high, reset.config.threshold, reset.config.overridden],
      [shipped.low, shipped.high, shipped.threshold, []],
    );
    for (const r of await classify(3)) assert.deepEqual([r.low, r.high, r.threshold], [shipped.low, shipped.high, shipped.threshold]);
    await waitFor(() => readdirSync(join(dir, 'inbox')).filter((f) => !f.startsWith('.')).length === 0, 'every file settled');
    // Across every change and the restart: each frame classified once, none lost.
    const inputs = results().map((r) => basename(r.input));
    assert.equal(new Set(inputs).size, inputs.length);
    assert.equal(inputs.length, next);
  });

  it('control.enabled: false ignores set and says so on config', async () => {
    await daemon.stop();
    daemon = new Daemon(config({ enabled: false }), silentLogger());
    await daemon.start();
    await watch.waitFor(() => latestConfig()?.control === false, 'config with control off');
    const before = replies().length;
    await client.publishAsync(`${BASE}/set`, JSON.stringify({ threshold: 0.9 }), { qos: 1 });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal(replies().length, before);
    assert.equal(daemon.settings!.threshold, shipped.threshold);
  });
});
