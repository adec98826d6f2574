/**
 * `seq` end to end: each source's results are numbered 1, 2, 3, ... with no gap and no reuse,
 * across a daemon restart on the same state folder (real Mosquitto, the real model).
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, it } from 'node:test';
import { Daemon, validateDaemonConfig } from '../../src/daemon/index.js';
import type { PayloadOf } from '../../src/daemon/publish/index.js';
import { silentLogger } from '../helpers/log.js';
import { startMosquitto, subscribe, type Broker, type Collector } from '../helpers/mosquitto.js';
import { DEPLOY, sampleFiles } from '../runtime/helpers.js';

const DEVICE = 'seq-pi';
const BASE = `pivot-edge/${DEVICE}`;
const SOURCES = ['inbox', 'door'];
const files = sampleFiles().map((s) => s.source as string);

let dir: string;
let broker: Broker;
let watch: Collector;

const config = () =>
  validateDaemonConfig(
    {
      deploy: DEPLOY,
      device_id: DEVICE,
      sources: SOURCES.map((name) => ({ name, type: 'directory', path: name })),
      mqtt: { url: broker.url },
      outbox: { dir: 'outbox' },
      telemetry: { interval_s: 0 },
      http: { enabled: false },
    },
    join(dir, 'daemon.yaml'),
  );

const results = (source: string) => watch.on(`${BASE}/${source}/result`).map((m) => JSON.parse(m.payload) as PayloadOf['result']);

/** Runs a daemon on the state folder until each source has published `total` distinct inputs, dropping `count` new files per source. */
async function runOnce(offset: number, count: number, total: number): Promise<void> {
  const daemon = new Daemon(config(), silentLogger());
  await daemon.start();
  try {
    for (const source of SOURCES) {
      for (const file of files.slice(offset, offset + count)) copyFileSync(file, join(dir, source, `${source}-${basename(file)}`));
    }
    await watch.waitFor(
      () => SOURCES.every((source) => new Set(results(source).map((r) => r.input)).size === total),
      `${total} results per source`,
      60_000,
    );
  } finally {
    await daemon.stop();
  }
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pivot-seq-'));
  broker = await startMosquitto();
  watch = await subscribe(broker.url, `${BASE}/#`);
});

after(async () => {
  await watch?.close();
  await broker?.stop();
  rmSync(dir, { recursive: true, force: true });
});

it('seq is gap-free per source across a daemon restart on the same state folder', async () => {
  await runOnce(0, 5, 5);
  await runOnce(5, 4, 9);
  for (const source of SOURCES) {
    const got = results(source);
    // At-least-once: a redelivery repeats a seq with the same input; a new input never reuses one.
    const inputBySeq = new Map<number, string>();
    for (const r of got) {
      assert.equal(inputBySeq.get(r.seq) ?? r.input, r.input, `${source}: seq ${r.seq} names two inputs`);
      inputBySeq.set(r.seq, r.input);
    }
    assert.deepEqual(
      [...inputBySeq.keys()].sort((a, b) => a - b),
      [1, 2, 3, 4, 5, 6, 7, 8, 9],
      `${source}: seqs`,
    );
    assert.equal(new Set(inputBySeq.values()).size, 9, `${source}: each input once`);
  }
});
