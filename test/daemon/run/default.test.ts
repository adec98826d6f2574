/**
 * `pivot run` with no config file (what `npm start` runs): the built-in default seeds its inbox
 * with the bundled samples once, classifies them, and publishes every result on the embedded
 * broker, which a real `mosquitto_sub` watches. The state folder and the ports are moved to a
 * temp folder and free ports so the checkout is not touched.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import getPort from 'get-port';
import type { ResultPayload } from '../../../src/daemon/publish/index.js';
import { sampleFiles, shippedDeploy } from '../../runtime/helpers.js';
import { waitFor } from '../../helpers/wait.js';
import { mosquittoSub, pivotRun, stop, waitForLog } from './helpers.js';

const SAMPLES = sampleFiles().length;
/** The shipped deploy.json the built-in default runs. */
const shipped = shippedDeploy();

describe('pivot run with no config: the built-in default', () => {
  let dir: string;
  let state: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'pivot-default-'));
    state = join(dir, 'state');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('seeds the inbox with every bundled sample, publishes one result each on the embedded broker, and stops cleanly', async () => {
    const port = await getPort({ host: '127.0.0.1' });
    const daemon = pivotRun([], {
      cwd: dir,
      env: { PIVOT_STATE_DIR: state, PIVOT_MQTT_PORT: String(port), PIVOT_HTTP_PORT: '0', PIVOT_LOG_LEVEL: 'debug' },
    });
    const sub = await (async () => {
      await waitForLog(daemon, 'embedded MQTT broker listening');
      return mosquittoSub(port, 'pivot-edge/#');
    })();
    try {
      const results = () =>
        sub
          .messages()
          .filter((m) => m.topic.endsWith('/inbox/result'))
          .map((m) => JSON.parse(m.payload) as ResultPayload);
      await waitFor(() => new Set(results().map((r) => r.input)).size >= SAMPLES, `${SAMPLES} results`, 120_000).catch((err: Error) => {
        throw new Error(`${err.message} (got ${results().length})\nlog:\n${daemon.err().slice(-2000)}`);
      });
      const inputs = new Set(results().map((r) => r.input));
      assert.equal(inputs.size, SAMPLES);
      for (const r of results()) {
        assert.ok(r.input.startsWith(join(state, 'inbox')), r.input);
        assert.equal(r.threshold, shipped.threshold);
        assert.equal(r.low, shipped.low);
        assert.equal(r.high, shipped.high);
      }
      assert.ok(sub.messages().some((m) => m.topic.endsWith('/status') && m.payload === 'online'));
      const config = sub.messages().find((m) => m.topic.endsWith('/config'));
      assert.ok(config, 'the retained settings on <base>/config');
      assert.equal((JSON.parse(config.payload) as { policy: string }).policy, 'cascade');
      await waitFor(() => readdirSync(join(state, '.done')).length === SAMPLES, 'every sample moved to state/.done');
      assert.equal(await stop(daemon, 'SIGINT'), 0, daemon.err().slice(-2000));
      await waitFor(
        () => sub.messages().some((m) => m.topic.endsWith('/status') && m.payload === 'offline'),
        'offline on the status topic',
      );
      assert.deepEqual(readdirSync(join(state, 'inbox')), []);
      assert.ok(existsSync(join(state, 'outbox')));
    } finally {
      await stop(daemon, 'SIGKILL');
      await stop(sub);
    }
  });

  it('a later run keeps watching the same inbox without seeding it again; taken ports move the broker and HTTP to the next free ones', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    const takenHttp = createServer();
    await new Promise<void>((resolve) => takenHttp.listen(0, '127.0.0.1', resolve));
    const httpPort = (takenHttp.address() as { port: number }).port;
    const daemon = pivotRun([], {
      cwd: dir,
      env: { PIVOT_STATE_DIR: state, PIVOT_MQTT_PORT: String(port), PIVOT_HTTP_PORT: String(httpPort) },
    });
    try {
      await waitForLog(daemon, 'daemon running');
      const movedTo = (wanted: number) => {
        const lines = daemon
          .err()
          .split('\n')
          .filter((l) => l.includes(`port ${wanted} is taken`));
        assert.equal(lines.length, 1, `one line saying port ${wanted} is taken:\n${daemon.err().slice(-2000)}`);
        const used = (JSON.parse(lines[0]!) as { used: number }).used;
        assert.ok(used > wanted);
        return used;
      };
      const used = movedTo(port);
      const usedHttp = movedTo(httpPort);
      const health = await fetch(`http://127.0.0.1:${usedHttp}/healthz`);
      assert.equal(health.headers.get('content-type'), 'application/json; charset=utf-8', '/healthz on the moved HTTP port');
      assert.doesNotMatch(daemon.err(), /first run/);
      assert.deepEqual(readdirSync(join(state, 'inbox')), []);
      const sub = mosquittoSub(used, 'pivot-edge/+/status');
      await waitFor(() => sub.messages().some((m) => m.payload === 'online'), 'the retained online status on the moved port');
      await stop(sub);
      assert.equal(await stop(daemon), 0, daemon.err().slice(-2000));
    } finally {
      await stop(daemon, 'SIGKILL');
      taken.close();
      takenHttp.close();
    }
  });
});
