/**
 * Daemon benchmark (`npm run bench:daemon`): end-to-end throughput of `pivot run`'s path
 * (watched folder -> sharp -> cascade -> on-disk outbox -> Mosquitto -> a subscriber) beside
 * the bare cascade on the same files in the same run, and the daemon's memory across rounds.
 * Numbers, not a timed test. Needs /usr/sbin/mosquitto.
 *
 *   npm run bench:daemon -- [--files 1000] [--rounds 3] [--batch 8]
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { openCascade } from '../src/cascade/index.js';
import { defaultDeployPath } from '../src/config/deploy.js';
import { Daemon, validateDaemonConfig } from '../src/daemon/index.js';
import { listImages } from '../src/data/index.js';
import { startMosquitto, subscribe } from '../test/helpers/mosquitto.js';

const { values: args } = parseArgs({
  options: { files: { type: 'string', default: '1000' }, rounds: { type: 'string', default: '3' }, batch: { type: 'string', default: '8' } },
});
const files = Number(args.files);
const rounds = Number(args.rounds);
const batch = Number(args.batch);
const deploy = defaultDeployPath();
const samples = listImages(join(deploy, '..', '..', 'models', 'fmnist-vit', 'samples'));
const pick = (i: number) => samples[i % samples.length]!;
const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1);

const dir = mkdtempSync(join(tmpdir(), 'pivot-daemon-bench-'));
const broker = await startMosquitto();
const inbox = await subscribe(broker.url, 'pivot-edge/bench/inbox/result');
const daemon = new Daemon(
  validateDaemonConfig(
    {
      deploy,
      device_id: 'bench',
      sources: [{ name: 'inbox', type: 'directory', path: 'inbox', after: 'delete' }],
      mqtt: { url: broker.url },
      outbox: { dir: 'outbox' },
      runtime: { batch_size: batch, intra_op_threads: 1 },
      telemetry: { interval_s: 0 },
      http: { enabled: false },
    },
    join(dir, 'daemon.yaml'),
  ),
  pino({ level: 'warn' }),
);
await daemon.start();

// The bare cascade on the same kind of files, same batch size and threads, for the ratio.
const bare = await openCascade({ deploy }, { intraOpThreads: 1 }, { batchSize: batch });
const bareInputs = Array.from({ length: files }, (_, i) => ({ source: pick(i), name: `${i}` }));

process.stderr.write(`daemon bench: ${files} files x ${rounds} rounds, batch ${batch}, 1 onnxruntime thread, broker ${broker.url}\n`);
const rows: string[] = [];
for (let round = 1; round <= rounds; round++) {
  let t0 = performance.now();
  await bare.cascade.classifyAll(bareInputs);
  const bareSeconds = (performance.now() - t0) / 1000;

  const before = inbox.messages.length;
  t0 = performance.now();
  for (let i = 0; i < files; i++) copyFileSync(pick(i), join(dir, 'inbox', `r${round}-${i}-${basename(pick(i))}`));
  const copied = performance.now();
  await inbox.waitFor((m) => m.length >= before + files, `${files} results`, 600_000);
  const daemonSeconds = (performance.now() - t0) / 1000;
  // The folder source waits until a file has been steady for 2 s before taking it: a fixed delay, not throughput.
  const steadySeconds = Math.max(0, daemonSeconds - (copied - t0) / 1000 - 2);
  // Heap after a full collection (the script runs with --expose-gc), so rounds compare live memory, not GC timing.
  (globalThis as { gc?: () => void }).gc?.();
  const rss = process.memoryUsage().rss;
  rows.push(
    `round ${round}: bare cascade ${(files / bareSeconds).toFixed(0)} images/s; daemon end to end ${(files / daemonSeconds).toFixed(0)} frames/s ` +
      `(${(files / steadySeconds).toFixed(0)} frames/s without the 2 s settle wait), ${((files / steadySeconds) / (files / bareSeconds)).toFixed(2)}x of bare; ` +
      `process RSS ${mb(rss)} MiB, live heap ${mb(process.memoryUsage().heapUsed)} MiB`,
  );
  process.stderr.write(`${rows.at(-1)}\n`);
}
const unique = new Set(inbox.messages.map((m) => (JSON.parse(m.payload) as { input: string }).input)).size;
process.stdout.write(`${rows.join('\n')}\nresults received: ${inbox.messages.length}, distinct inputs: ${unique} of ${files * rounds}\n`);

await daemon.stop();
await bare.runtime.close();
await inbox.close();
await broker.stop();
rmSync(dir, { recursive: true, force: true });
