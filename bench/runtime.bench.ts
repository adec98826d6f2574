/**
 * Runtime benchmark (`npm run bench`): on the 10,000 Fashion-MNIST test images, in one run,
 *   always-high, always-low and the cascade of the shipped deploy.json through the runtime,
 *   and a raw onnxruntime loop over pre-decoded tensors with the same routing.
 * Variants run interleaved for several rounds (this machine is shared and noisy) and the
 * median throughput of each is compared side by side. Numbers, not a timed test.
 *
 *   npm run bench -- [--deploy deploy/deploy.json] [--rounds 3] [--batch 32] [--threads 1] [--limit 10000]
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import * as ort from 'onnxruntime-node';
import { median } from 'simple-statistics';
import { Cascade, evaluate, predict, shouldEscalate, type EvalSummary, type Policy } from '../src/cascade/index.js';
import { defaultDeployPath, loadDeploy, type Deployment } from '../src/config/deploy.js';
import { FASHION_MNIST_DIR, idxDataset, limitDataset, loadIdxImages } from '../src/data/index.js';
import { ModelRuntime } from '../src/model/index.js';
import { normalizeInto, normalizeTable } from '../src/preprocess/index.js';

const { values: args } = parseArgs({
  options: {
    deploy: { type: 'string' },
    rounds: { type: 'string', default: '3' },
    batch: { type: 'string', default: '32' },
    threads: { type: 'string', default: '1' },
    limit: { type: 'string' },
    data: { type: 'string', default: FASHION_MNIST_DIR },
  },
});
const rounds = Number(args.rounds);
const batch = Number(args.batch);
const threads = Number(args.threads);

interface Measured {
  accuracy: number;
  fractionLow: number;
  throughput: number;
}

const deployment: Deployment = loadDeploy(args.deploy ?? defaultDeployPath());
const { low, high, threshold } = deployment.config;
const { manifest } = deployment.family;
const dataset = limitDataset(idxDataset(loadIdxImages(args.data, 'test'), 'Fashion-MNIST test'), args.limit ? Number(args.limit) : undefined);
const count = dataset.count;

// --- the runtime: resident sessions, preprocessing from uint8 pixels, cascade runner, evaluation tally
const runtime = new ModelRuntime(deployment.family, { intraOpThreads: threads });
const cascades = new Map<Policy, Cascade>();
for (const policy of ['high', 'low', 'cascade'] as const)
  cascades.set(policy, await Cascade.create(runtime, { low, high, threshold, policy }, { batchSize: batch }));

async function viaRuntime(policy: Policy): Promise<Measured> {
  const s: EvalSummary = await evaluate(cascades.get(policy)!, dataset);
  return { accuracy: s.accuracy, fractionLow: s.fraction_low, throughput: s.throughput };
}

// --- the raw loop: its own onnxruntime sessions, every image normalized up front, the same routing
const size = manifest.input.shape.slice(1).reduce((a, b) => a * b, 1);
const dims = manifest.input.shape.slice(1);
const classes = manifest.labels.length;
const tensors = new Float32Array(count * size);
const truth = new Uint8Array(count);
{
  const table = normalizeTable(manifest.preprocess);
  let i = 0;
  for (const item of dataset.items()) {
    normalizeInto((item.source as { data: Uint8Array }).data, table, tensors, i * size);
    truth[i++] = item.label;
  }
}
const rawOptions: ort.InferenceSession.SessionOptions = { intraOpNumThreads: threads, graphOptimizationLevel: 'all', executionMode: 'sequential' };
const rawSession = async (effort: number) => ort.InferenceSession.create(deployment.family.file(deployment.family.effort(effort).file), rawOptions);
const raw = { low: await rawSession(low), high: await rawSession(high) };
const highBuffer = new Float32Array(batch * size);

async function rawLoop(): Promise<Measured> {
  const { input, output } = manifest;
  let correct = 0;
  let answeredLow = 0;
  const started = performance.now();
  for (let start = 0; start < count; start += batch) {
    const n = Math.min(batch, count - start);
    const lowOut = await raw.low.run({ [input.name]: new ort.Tensor('float32', tensors.subarray(start * size, (start + n) * size), [n, ...dims]) });
    const lowLogits = lowOut[output.name]!.data as Float32Array;
    const answers = new Array<number>(n);
    const up: number[] = [];
    for (let r = 0; r < n; r++) {
      const p = predict(lowLogits, classes, r);
      answers[r] = p.classIndex;
      if (shouldEscalate(p.entropy, threshold)) up.push(r);
    }
    if (up.length) {
      up.forEach((r, j) => highBuffer.set(tensors.subarray((start + r) * size, (start + r + 1) * size), j * size));
      const highOut = await raw.high.run({ [input.name]: new ort.Tensor('float32', highBuffer.subarray(0, up.length * size), [up.length, ...dims]) });
      const highLogits = highOut[output.name]!.data as Float32Array;
      up.forEach((r, j) => (answers[r] = predict(highLogits, classes, j).classIndex));
    }
    answeredLow += n - up.length;
    for (let r = 0; r < n; r++) if (answers[r] === truth[start + r]) correct++;
  }
  const elapsed = (performance.now() - started) / 1000;
  return { accuracy: correct / count, fractionLow: answeredLow / count, throughput: count / elapsed };
}

const variants: Record<string, () => Promise<Measured>> = {
  'always-high': () => viaRuntime('high'),
  'always-low': () => viaRuntime('low'),
  cascade: () => viaRuntime('cascade'),
  'raw loop (same routing)': rawLoop,
};
const names = Object.keys(variants);

process.stderr.write(
  `runtime bench: ${count} images, deploy ${deployment.path} (low ${low}, high ${high}, threshold ${threshold}), ` +
    `batch ${batch}, ${threads} intra-op thread(s), ${rounds} interleaved round(s) after a warm-up\n`,
);
for (const name of names) await variants[name]!(); // warm-up: first runs pay for allocation and graph setup
const runs = new Map<string, Measured[]>(names.map((n) => [n, []]));
for (let round = 0; round < rounds; round++) {
  // Rotate the order so no variant always runs right after the same neighbour.
  for (let k = 0; k < names.length; k++) {
    const name = names[(k + round) % names.length]!;
    const m = await variants[name]!();
    runs.get(name)!.push(m);
    process.stderr.write(`  round ${round + 1} ${name}: ${m.throughput.toFixed(0)} images/s\n`);
  }
}

const result = (name: string) => {
  const all = runs.get(name)!;
  return { ...all[0]!, throughput: median(all.map((m) => m.throughput)) };
};
const base = result('always-high');
const table = new Table({
  head: ['variant', 'accuracy', 'F_L', 'images/s (median)', 'vs always-high', 'accuracy vs always-high'],
  style: { head: [], border: [] },
});
for (const name of names) {
  const r = result(name);
  table.push([
    name,
    `${(r.accuracy * 100).toFixed(2)}%`,
    `${(r.fractionLow * 100).toFixed(1)}%`,
    r.throughput.toFixed(0),
    `${(r.throughput / base.throughput).toFixed(2)}x`,
    `${((r.accuracy - base.accuracy) * 100).toFixed(2)} pp`,
  ]);
}
const cascade = result('cascade');
const rawResult = result('raw loop (same routing)');
const speedup = cascade.throughput / base.throughput;
const loss = (base.accuracy - cascade.accuracy) * 100;
const overhead = (rawResult.throughput / cascade.throughput - 1) * 100;
const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');
process.stdout.write(
  `${table.toString()}\n` +
    `cascade vs always-high: ${speedup.toFixed(2)}x throughput, ${loss.toFixed(2)} pp accuracy loss ` +
    `(target >= 1.5x at <= 0.5 pp: ${verdict(speedup >= 1.5 && loss <= 0.5)})\n` +
    `runtime overhead vs raw onnxruntime loop: ${overhead.toFixed(1)}% (target <= 5%: ${verdict(overhead <= 5)})\n` +
    `raw loop agrees with the runtime: accuracy ${rawResult.accuracy === cascade.accuracy ? 'identical' : 'DIFFERS'}, ` +
    `F_L ${rawResult.fractionLow === cascade.fractionLow ? 'identical' : 'DIFFERS'}\n`,
);
await runtime.close();
await raw.low.release();
await raw.high.release();
