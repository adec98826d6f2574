/** `pivot bench`: each effort's latency measured on this device next to PIVOT-Sim's estimate, as ratios to the full effort. */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import {
  BENCH_DEFAULTS,
  benchChartSpec,
  benchCsv,
  benchJson,
  benchTable,
  fitTable,
  parseBatches,
  runBench,
  runFit,
  type BenchOptions,
} from '../bench/index.js';
import { defaultDeployPath } from '../config/deploy.js';
import { writeChart } from '../sim/index.js';
import { ConfigError } from '../errors.js';
import { integer, number } from './options.js';
import { progress } from './progress.js';

export function register(program: Command): void {
  program
    .command('bench')
    .description(
      "measure each effort's latency on this device (onnxruntime-node) and compare its ratio to the full effort with PIVOT-Sim's",
    )
    .option(
      '--model <dir>',
      'model family directory (per-effort comparison only; no pair); with --fit it may be repeated for one profile fitted on several families',
      (dir: string, dirs: string[] = []) => [...dirs, dir],
    )
    .option('--deploy <file>', 'deploy config: its model family and the pair D_L + F_H*D_H (default: deploy/deploy.json of the package)')
    .option(
      '--hw <preset|file>',
      'PIVOT-Sim hardware: zcu102, a hw.yaml, or a device profile (kind: cpu) whose predictions are compared with the measurement (default: zcu102)',
    )
    .option('--hardware <preset|file>', 'the same as --hw')
    .option(
      '--fit <device.yaml>',
      'measure every effort at several batch sizes and write a fitted device profile (kind: cpu) for pivot sim/search/bench --hw',
    )
    .option('--fit-batches <list>', "batch sizes measured for --fit; the first is the profile's batch (default 1,2,4)", parseBatches)
    .option(
      '--fit-masks <n>',
      'extra active masks timed per effort for --fit, cut from the full-effort graph (default 2; 0 for none)',
      integer,
    )
    .option(
      '--calibration <ladder.yaml>',
      'the calibration ladder timed with the model for --fit: synthetic ViTs of other shapes, so the profile spans them (default: the built-in ladder)',
    )
    .option('--no-calibration', 'fit --fit on the model alone, without the calibration ladder')
    .option(
      '--min-turn <ms>',
      'with --fit: time every case for at least this many ms per round (more calls for short ones, after untimed calls filling a tenth of it) (default 0: off)',
      integer,
    )
    .option('--power <watts>', 'measured average power for the profile written by --fit (energy = power x delay)', number)
    .option('--batch <n>', `images per onnxruntime call (default ${BENCH_DEFAULTS.batch}, or the device profile's)`, integer)
    .option('--threads <n>', `onnxruntime intra-op threads (default ${BENCH_DEFAULTS.threads}, or the device profile's)`, integer)
    .option(
      '--clock <wall|cpu>',
      "call time: wall-clock, or the process's CPU time (1 thread; robust to other jobs on a shared machine) (default wall, or the device profile's)",
    )
    .option('--rounds <n>', `interleaved rounds over all efforts (default ${BENCH_DEFAULTS.rounds})`, integer)
    .option('--iterations <n>', 'timed calls per effort per round (default: 200 images per round, at least 10 calls)', integer)
    .option('--warmup <n>', 'untimed calls per effort before the first round (default 10; fewer for large models)', integer)
    .option(
      '--data <dir>',
      "labelled set for the pair's F_L: Fashion-MNIST IDX directory or class-per-subfolder images (default: the model's bundled samples)",
    )
    .option('--limit <n>', 'measure F_L on the first n images only', integer)
    .option('--json', 'one JSON object')
    .option('--out <file.csv>', 'also write the per-effort table as CSV')
    .option(
      '--chart <file.svg|file.png>',
      'measured vs predicted (device profile) or vs simulated ratios (accelerator) per effort, as a chart',
    )
    // The integers' ranges are checked by runBench (so library callers get the same errors).
    .action(
      async (
        cli: Omit<BenchOptions, 'model'> & {
          model?: string[];
          json?: boolean;
          out?: string;
          chart?: string;
          fit?: string;
          fitBatches?: number[];
          fitMasks?: number;
          calibration?: string | false;
          minTurn?: number;
          power?: number;
        },
      ) => {
        const { model: models, ...rest } = cli;
        const opts = { ...rest, model: models?.[0] };
        if (opts.fit !== undefined) {
          for (const [flag, set] of [
            ['--hw', opts.hw ?? opts.hardware],
            ['--batch', opts.batch],
            ['--data', opts.data],
            ['--limit', opts.limit],
            ['--out', opts.out],
            ['--chart', opts.chart],
          ] as const)
            if (set !== undefined)
              throw new ConfigError(`--fit measures and writes a profile: drop ${flag} (use --fit-batches for the batch sizes)`);
          if (models !== undefined && opts.deploy !== undefined) throw new ConfigError('--model and --deploy: give one or the other');
          const target = models !== undefined ? { model: models } : { deploy: opts.deploy ?? defaultDeployPath() };
          const timing = progress('pivot bench --fit: timing', 'turns');
          const report = await runFit({
            ...target,
            onProgress: (done, total) => timing.update(done, total),
            out: opts.fit,
            batches: opts.fitBatches,
            threads: opts.threads,
            rounds: opts.rounds,
            iterations: opts.iterations,
            warmup: opts.warmup,
            powerW: opts.power,
            masks: opts.fitMasks,
            clock: opts.clock,
            calibration: opts.calibration,
            minTurnMs: opts.minTurn,
          }).finally(() => timing.stop());
          process.stderr.write(`wrote ${report.file}\n`);
          process.stdout.write(opts.json ? `${JSON.stringify(report)}\n` : fitTable(report));
          return;
        }
        if (
          opts.fitBatches !== undefined ||
          opts.fitMasks !== undefined ||
          opts.power !== undefined ||
          opts.calibration !== undefined ||
          opts.minTurn !== undefined
        )
          throw new ConfigError('--fit-batches, --fit-masks, --min-turn, --calibration, --no-calibration and --power go with --fit');
        if ((models?.length ?? 0) > 1) throw new ConfigError('--model: give it once (several families are for --fit)');
        const timing = progress('pivot bench: timing', 'turns');
        const report = await runBench({ ...opts, onProgress: (done, total) => timing.update(done, total) }).finally(() => timing.stop());
        if (opts.out) {
          try {
            writeFileSync(opts.out, benchCsv(report));
          } catch (err) {
            throw new ConfigError(`--out: ${opts.out}: ${(err as Error).message}`, { cause: err });
          }
          process.stderr.write(`wrote ${opts.out}\n`);
        }
        if (opts.chart) process.stderr.write(`wrote ${await writeChart(opts.chart, benchChartSpec(report))}\n`);
        process.stdout.write(opts.json ? `${benchJson(report)}\n` : benchTable(report));
      },
    );
}
