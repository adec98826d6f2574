/**
 * Daemon benchmark (`npm run bench:daemon`): end-to-end throughput of `pivot run`'s path
 * (watched folder -> sharp -> cascade -> on-disk outbox -> Mosquitto -> a subscriber) beside
 * the bare cascade on fresh copies of the same images in the same run, the bytes the outbox writes to disk per
 * message beside the payload's size, and the daemon's memory across rounds.
 * Numbers, not a timed test. Needs /usr/sbin/mosquitto and mosquitto_sub (mosquitto-clients).
 * The subscriber is a `mosquitto_sub` process, as a consumer is on another process or machine,
 * so this process's CPU is the daemon's and the bare cascade's alone.
 *
 * Each daemon round is compared with the mean of the bare passes run just before and just after
 * it. Throughput is the steady rate of results (middleRate), also shown timed from the first
 * result to the last: the folder source holds each file until it has been steady for 2 s (a
 * fixed delay for half-copied files, not a cost per frame), and the files of a round are all
 * copied in well under that, so from the first result on the daemon always has settled files waiting. Files are copied by a child process, so this
 * process's block-layer writes (/proc/self/io write_bytes) are the daemon's own.
 *
 *   npm run bench:daemon -- [--files 1000] [--rounds 3] [--batch 8]
 */
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { openCascade } from '../src/cascade/index.js';
import { defaultDeployPath } from '../src/config/deploy.js';
import { Daemon, validateDaemonConfig } from '../src/daemon/index.js';
import { listImages } from '../src/data/index.js';
import { startMosquitto } from '../test/helpers/mosquitto.js';

const { values: args } = parseArgs({
  options: {
    files: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '3' },
    batch: { type: 'string', default: '8' },
  },
});
const files = Number(args.files);
const rounds = Number(args.rounds);
const batch = Number(args.batch);
const deploy = defaultDeployPath();
const samples = listImages(join(deploy, '..', '..', 'models', 'fmnist-vit', 'samples'));
const pick = (i: number) => samples[i % samples.length]!;
const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
const cpuMs = (since: NodeJS.CpuUsage) => {
  const { user, system } = process.cpuUsage(since);
  return (user + system) / 1000;
};
/** Bytes this process caused to be written to storage (Linux); undefined elsewhere. */
const blockWrites = (): number | undefined => {
  try {
    return Number(/write_bytes: (\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))?.[1]);
  } catch {
    return undefined;
  }
};
/**
 * Copies files in a child process (see the header); returns the child's own block-layer writes,
 * which Linux adds to this process's /proc/self/io once the child is reaped.
 */
const COPY = `const fs = require('node:fs');
for (const [a, b] of JSON.parse(fs.readFileSync(process.argv[1], 'utf8'))) fs.copyFileSync(a, b);
const io = fs.existsSync('/proc/self/io') ? fs.readFileSync('/proc/self/io', 'utf8') : '';
process.stdout.write(/write_bytes: (\\d+)/.exec(io)?.[1] ?? '0');`;
const copyInChild = async (list: string) => Number((await promisify(execFile)(process.execPath, ['-e', COPY, list])).stdout);
/**
 * The list goes through a file (1,000 pairs of paths outgrow the 128 KiB limit of one argument),
 * written before a round's block-layer count starts: its bytes are this process's, not the daemon's.
 */
const writeCopyList = (name: string, into: string) => {
  const list = join(dir, `copy-list-${name}.json`);
  const pairs = Array.from({ length: files }, (_, i) => [pick(i), join(into, `${name}-${i}-${basename(pick(i))}`)]);
  writeFileSync(list, JSON.stringify(pairs));
  return { list, paths: pairs.map(([, to]) => to!) };
};

/**
 * `mosquitto_sub` on the result topic: one payload per line. Notes when each line arrived;
 * `done` resolves once `count` lines are in.
 */
function subscriber(port: number, topic: string) {
  const child = spawn('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(port), '-t', topic, '-q', '1'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let text = '';
  const arrivals: number[] = [];
  let waiter: { count: number; resolve: () => void } | undefined;
  child.stdout.on('data', (chunk: Buffer) => {
    const now = performance.now();
    text += chunk;
    for (let at = chunk.indexOf(10); at >= 0; at = chunk.indexOf(10, at + 1)) arrivals.push(now);
    if (waiter && arrivals.length >= waiter.count) waiter.resolve();
  });
  return {
    payloads: () => text.split('\n').filter(Boolean),
    lines: () => arrivals.length,
    /** Arrival time (performance.now()) of each line. */
    arrivals,
    done: (count: number) =>
      new Promise<void>((resolve) => {
        if (arrivals.length >= count) resolve();
        else waiter = { count, resolve };
      }),
    close: () => child.kill(),
  };
}

const dir = mkdtempSync(join(tmpdir(), 'pivot-daemon-bench-'));
const broker = await startMosquitto();
const inbox = subscriber(broker.port, 'pivot-edge/bench/inbox/result');
// mosquitto_sub reports nothing when its subscription is in place: give it a moment before the first round.
await new Promise((resolve) => setTimeout(resolve, 500));
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

process.stderr.write(`daemon bench: ${files} files x ${rounds} rounds, batch ${batch}, 1 onnxruntime thread, broker ${broker.url}\n`);
/**
 * Results per second while the daemon is busy: the least-squares slope of result count over
 * arrival time, for the 10th to the 90th percentile result of a round. Results reach the broker
 * in bursts (one per outbox commit), and the round's first and last ones carry fixed delays (the
 * first batch is committed at once after an idle spell, the last one waits out the commit
 * interval), which a first-to-last timing would count as throughput.
 */
function middleRate(arrived: number[]): number {
  const from = Math.floor(arrived.length * 0.1);
  const to = Math.ceil(arrived.length * 0.9);
  const xs = arrived.slice(from, to).map((t) => t / 1000);
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = (from + to - 1) / 2;
  let sxy = 0;
  let sxx = 0;
  xs.forEach((x, i) => {
    sxy += (x - mx) * (from + i - my);
    sxx += (x - mx) ** 2;
  });
  return sxy / sxx;
}

/** One pass of the bare cascade over the files: images/s and CPU ms per image. */
let bareRuns = 0;
const runBare = async () => {
  // The same kind of files the daemon reads: just copied, in one flat folder (fresh copies read
  // about 10% slower than the checked-in samples in their class folders). The copy is not timed.
  const folder = join(dir, `bare-${++bareRuns}`);
  mkdirSync(folder);
  const { list, paths } = writeCopyList(`bare${bareRuns}`, folder);
  await copyInChild(list);
  const inputs = paths.map((source, i) => ({ source, name: `${i}` }));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await bare.cascade.classifyAll(inputs);
  const result = { rate: files / ((performance.now() - t0) / 1000), cpu: cpuMs(cpu0) / files };
  rmSync(folder, { recursive: true, force: true });
  return result;
};

// Each daemon round is compared with the bare passes just before and after it (their mean), so
// load from other processes that drifts during a run weighs on both sides alike.
const rows: string[] = [];
let bareBefore = await runBare();
for (let round = 1; round <= rounds; round++) {
  const { list } = writeCopyList(`r${round}`, join(dir, 'inbox'));
  const cpu0 = process.cpuUsage();
  const before = inbox.lines();
  const written = { journal: daemon.publisher.stats().outbox_written_bytes, block: blockWrites() };
  const t0 = performance.now();
  const copying = copyInChild(list);
  await inbox.done(before + files);
  const last = performance.now();
  const arrived = inbox.arrivals.slice(before, before + files);
  const firstToLast = (files - 1) / ((last - arrived[0]!) / 1000);
  const steadyRate = middleRate(arrived);
  const daemonCpu = cpuMs(cpu0) / files;
  const payload =
    inbox
      .payloads()
      .slice(before, before + files)
      .reduce((sum, p) => sum + Buffer.byteLength(p), 0) / files;
  const journal = (daemon.publisher.stats().outbox_written_bytes - written.journal) / files;
  const copyWrites = await copying;
  const blockAfter = blockWrites();
  const block = written.block === undefined || blockAfter === undefined ? undefined : (blockAfter - written.block - copyWrites) / files;
  // Heap after a full collection (the script runs with --expose-gc), so rounds compare live memory, not GC timing.
  (globalThis as { gc?: () => void }).gc?.();
  const rss = process.memoryUsage().rss;
  const heap = process.memoryUsage().heapUsed;
  const bareAfter = await runBare();
  const bareRate = (bareBefore.rate + bareAfter.rate) / 2;
  const bareCpu = (bareBefore.cpu + bareAfter.cpu) / 2;
  rows.push(
    `round ${round}: bare cascade ${bareBefore.rate.toFixed(0)} / ${bareAfter.rate.toFixed(0)} images/s (before / after); ` +
      `daemon ${steadyRate.toFixed(0)} frames/s steady (middle 80% of results), ${(steadyRate / bareRate).toFixed(2)}x of bare ` +
      `(first to last result ${firstToLast.toFixed(0)}, ${(firstToLast / bareRate).toFixed(2)}x; ` +
      `${(files / ((last - t0) / 1000)).toFixed(0)} counting the copy and the 2 s wait); ` +
      `CPU per frame ${daemonCpu.toFixed(2)} ms vs bare ${bareCpu.toFixed(2)} ms (this process; broker and subscriber are others); ` +
      `per message: payload ${payload.toFixed(0)} B, outbox wrote ${journal.toFixed(0)} B (${(journal / payload).toFixed(2)}x)` +
      `${block === undefined ? '' : `, block-layer writes ${block.toFixed(0)} B (${(block / payload).toFixed(2)}x)`}; ` +
      `process RSS ${mb(rss)} MiB, live heap ${mb(heap)} MiB`,
  );
  process.stderr.write(`${rows.at(-1)}\n`);
  bareBefore = bareAfter;
}
const received = inbox.payloads();
const unique = new Set(received.map((p) => (JSON.parse(p) as { input: string }).input)).size;
process.stdout.write(`${rows.join('\n')}\nresults received: ${received.length}, distinct inputs: ${unique} of ${files * rounds}\n`);

await daemon.stop();
await bare.runtime.close();
inbox.close();
await broker.stop();
rmSync(dir, { recursive: true, force: true });
