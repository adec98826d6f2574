/**
 * Per-effort latency of the shipped model family with onnxruntime-node on this CPU,
 * measured side by side in one run (interleaved rounds), as ratios to the full effort.
 * Feeds the model card's latency column. The measuring and the statistic (median ms per
 * image) are src/latency's, as in `pivot bench` (which adds p95 and the PIVOT-Sim comparison).
 *
 *   npm run bench:efforts [-- --model models/fmnist-vit --threads 1 --rounds 5]
 */
import { parseArgs } from 'node:util';
import { measureEfforts } from '../src/latency/index.js';
import { loadModelFamily } from '../src/model/manifest.js';
import { ModelRuntime } from '../src/model/index.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'models/fmnist-vit' },
    threads: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '5' },
    json: { type: 'boolean', default: false },
  },
});

const family = loadModelFamily(values.model!);
const runtime = new ModelRuntime(family, { intraOpThreads: Number(values.threads) });
const efforts = family.manifest.efforts.map((e) => e.effort);
const full = Math.max(...efforts);
const rounds = Number(values.rounds);

const results: Record<string, Record<number, number>> = {};
for (const [name, batch, iterations] of [
  ['batch1', 1, 300],
  ['batch32', 32, 20],
] as const) {
  const timings = await measureEfforts(runtime, efforts, { batch, rounds, iterations, warmup: 3 });
  results[name] = Object.fromEntries(timings.map((t) => [t.effort, t.medianMs]));
}
await runtime.close();

if (values.json) {
  console.log(JSON.stringify({ model: family.manifest.name, threads: Number(values.threads), ms_per_image: results }));
} else {
  console.log(`${family.manifest.name}: median ms per image (${rounds} interleaved rounds, ${values.threads} thread(s))`);
  console.log('effort  active   batch1 ms  ratio   batch32 ms  ratio');
  for (const e of efforts) {
    const mask = family.effort(e).active.join('');
    const b1 = results.batch1![e]!;
    const b32 = results.batch32![e]!;
    console.log(
      `${String(e).padStart(6)}  ${mask}  ${b1.toFixed(4).padStart(9)}  ${(b1 / results.batch1![full]!).toFixed(3)}  ${b32.toFixed(4).padStart(10)}  ${(b32 / results.batch32![full]!).toFixed(3)}`,
    );
  }
}
