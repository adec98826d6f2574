/** `pivot bench`: each effort's latency measured on this device next to PIVOT-Sim's estimate, as ratios to the full effort. */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { BENCH_DEFAULTS, benchCsv, benchJson, benchTable, runBench, type BenchOptions } from '../bench/index.js';
import { ConfigError } from '../errors.js';
import { integer } from './options.js';

export function register(program: Command): void {
  program
    .command('bench')
    .description("measure each effort's latency on this device (onnxruntime-node) and compare its ratio to the full effort with PIVOT-Sim's")
    .option('--model <dir>', 'model family directory (per-effort comparison only; no pair)')
    .option('--deploy <file>', 'deploy config: its model family and the pair D_L + F_H*D_H (default: deploy/deploy.json of the package)')
    .option('--hardware <preset|file>', 'PIVOT-Sim hardware: zcu102 or a hw.yaml', BENCH_DEFAULTS.hardware)
    .option('--batch <n>', 'images per onnxruntime call', integer, BENCH_DEFAULTS.batch)
    .option('--threads <n>', 'onnxruntime intra-op threads', integer, BENCH_DEFAULTS.threads)
    .option('--rounds <n>', 'interleaved rounds over all efforts', integer, BENCH_DEFAULTS.rounds)
    .option('--iterations <n>', 'timed calls per effort per round (default: 200 images per round, at least 10 calls)', integer)
    .option('--data <dir>', "labelled set for the pair's F_L: Fashion-MNIST IDX directory or class-per-subfolder images (default: the model's bundled samples)")
    .option('--limit <n>', 'measure F_L on the first n images only', integer)
    .option('--json', 'one JSON object')
    .option('--out <file.csv>', 'also write the per-effort table as CSV')
    // The integers' ranges are checked by runBench (so library callers get the same errors).
    .action(async (opts: BenchOptions & { json?: boolean; out?: string }) => {
      const report = await runBench(opts);
      if (opts.out) {
        try {
          writeFileSync(opts.out, benchCsv(report));
        } catch (err) {
          throw new ConfigError(`--out: ${opts.out}: ${(err as Error).message}`, { cause: err });
        }
        process.stderr.write(`wrote ${opts.out}\n`);
      }
      process.stdout.write(opts.json ? `${benchJson(report)}\n` : benchTable(report));
    });
}
