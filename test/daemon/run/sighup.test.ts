/**
 * SIGHUP reloads `pivot run`'s config file: a valid file adds, removes and changes sources and
 * loads a new deployment; a file that does not validate is refused with the reason logged, and
 * the daemon carries on with what it had.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ResultPayload } from '../../../src/daemon/publish/index.js';
import { startMosquitto, subscribe, type Broker, type Collector } from '../../helpers/mosquitto.js';
import { DEPLOY, MODEL_DIR, sampleFiles, shippedDeploy } from '../../runtime/helpers.js';
import { pivotRun, stop, waitForLog, type Proc } from './helpers.js';

const BASE = 'pivot-edge/hup';
const samples = sampleFiles().map((s) => s.source as string);

describe('pivot run: SIGHUP reloads the config file', () => {
  let dir: string;
  let broker: Broker;
  let watch: Collector;
  let daemon: Proc;
  const file = () => join(dir, 'daemon.yaml');
  const write = (sources: string, deploy = DEPLOY) =>
    writeFileSync(
      file(),
      [
        `deploy: ${deploy}`,
        'device_id: hup',
        `sources: ${sources}`,
        `mqtt: { url: "${broker.url}", reconnect_s: 0.5 }`,
        'telemetry: { interval_s: 0 }',
        'http: { enabled: false }',
      ].join('\n'),
    );
  const results = (source: string) => watch.on(`${BASE}/${source}/result`).map((m) => JSON.parse(m.payload) as ResultPayload);
  /** Drops a sample into `folder` and waits for its result on `source`. */
  async function classified(folder: string, source: string, sample: string): Promise<ResultPayload> {
    copyFileSync(sample, join(dir, folder, basename(sample)));
    await watch.waitFor(
      () => results(source).some((r) => basename(r.input) === basename(sample)),
      `the result of ${basename(sample)} on ${source}`,
      60_000,
    );
    return results(source).find((r) => basename(r.input) === basename(sample))!;
  }
  const hup = async (logged: string | RegExp) => {
    const before = daemon.err().length;
    daemon.child.kill('SIGHUP');
    await waitForLog({ ...daemon, err: () => daemon.err().slice(before) }, logged);
    return daemon.err().slice(before);
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pivot-sighup-'));
    broker = await startMosquitto();
    watch = await subscribe(broker.url, `${BASE}/#`);
    write('[{ name: a, type: directory, path: ./a }]');
    daemon = pivotRun(['--config', file()]);
    await waitForLog(daemon, 'daemon running');
  });

  after(async () => {
    await stop(daemon, 'SIGKILL');
    await watch?.close();
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a valid file: source a removed, b added, the new deployment used from the next batch', async () => {
    assert.equal((await classified('a', 'a', samples[0]!)).threshold, shippedDeploy().threshold);
    const deploy = join(dir, 'deploy-0.1.json');
    writeFileSync(deploy, JSON.stringify({ ...JSON.parse(readFileSync(DEPLOY, 'utf8')), model: MODEL_DIR, threshold: 0.1 }));
    write('[{ name: b, type: directory, path: ./b }]', deploy);
    const ha = await subscribe(broker.url, 'homeassistant/+/hup/#');
    const log = await hup('config reloaded');
    const line = JSON.parse(log.split('\n').find((l) => l.includes('config reloaded'))!) as {
      sources: string[];
      settings: { threshold: number };
    };
    assert.deepEqual(line.sources, ['b (directory)']);
    assert.equal(line.settings.threshold, 0.1);
    const result = await classified('b', 'b', samples[1]!);
    assert.equal(result.threshold, 0.1);
    assert.match(watch.on(`${BASE}/config`).at(-1)!.payload, /"threshold":0\.1.*"sources":\["b"\]/);
    // Home Assistant: the removed source's entities are deleted (empty retained config), the new one's announced.
    try {
      await ha.waitFor((m) => m.some((x) => x.topic === 'homeassistant/sensor/hup/b_label/config' && x.payload !== ''), 'discovery of b');
      assert.ok(
        ha.messages.some((x) => x.topic === 'homeassistant/sensor/hup/a_label/config' && x.payload === ''),
        'a_label removed',
      );
    } finally {
      await ha.close();
    }
  });

  it('a bad file: refused with the field named, the running config carries on', async () => {
    writeFileSync(file(), 'sources:\n  - name: cam\n    type: webcam\n');
    const log = await hup('does not validate');
    assert.match(log, /daemon\.yaml: sources\.0\.type/);
    assert.doesNotMatch(log, /config reloaded/);
    const result = await classified('b', 'b', samples[2]!);
    assert.equal(result.threshold, 0.1);
    assert.equal(await stop(daemon), 0, daemon.err().slice(-2000));
  });
});
