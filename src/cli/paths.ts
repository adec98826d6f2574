/** `pivot paths`: Phase 1 optimal path selection (CKA matrix + Path-Score) on a model family. */
import Table from 'cli-table3';
import type { Command } from 'commander';
import { runPhase1, type Phase1Result } from '../search/phase1/index.js';
import { createLogger } from '../util/log.js';
import { integer, nonNegativeInt } from './options.js';

/** No ANSI colours: the tables are often piped or logged. */
const PLAIN = { head: [], border: [] };
const fmt = (v: number) => v.toFixed(3);
const skipped = (active: readonly number[]) => active.flatMap((a, e) => (a ? [] : [e + 1])).join(',') || '-';

function report({ paths, files }: Phase1Result): string {
  const lines: string[] = [`${paths.model}: CKA(MLP_i, A_j) over ${paths.images} images from ${paths.data}`];
  const cka = new Table({ head: ['', ...paths.cka.cols], style: PLAIN });
  paths.cka.values.forEach((row, i) => cka.push([paths.cka.rows[i]!, ...row.map(fmt)]));
  lines.push(cka.toString(), '', 'Optimal path per effort (highest Path-Score):');
  const efforts = new Table({ head: ['effort', 'active mask', 'skipped attentions', 'Path-Score', 'paths scored'], style: PLAIN });
  for (const e of paths.efforts)
    efforts.push([e.effort, e.active.join(' '), skipped(e.active), fmt(e.score) + (e.tie_broken ? ' (tie)' : ''), e.candidates]);
  lines.push(efforts.toString());
  if (paths.efforts.some((e) => e.tie_broken)) lines.push('(tie): equal Path-Scores; kept the path that skips the deeper attentions.');
  const rp = paths.random_paths;
  if (rp) {
    lines.push(
      '',
      `Fig. 4a check: ${rp.paths.length} random effort-${rp.effort} paths, no fine-tuning, ${rp.images} images from ${rp.data}`,
    );
    const t = new Table({ head: ['active mask', 'Path-Score', 'accuracy'], style: PLAIN });
    for (const p of [...rp.paths].sort((a, b) => b.score - a.score))
      t.push([p.active.join(' '), fmt(p.score), `${(p.accuracy * 100).toFixed(2)}%`]);
    lines.push(
      t.toString(),
      `Spearman rank correlation (accuracy vs Path-Score): ${rp.spearman === null ? 'undefined (constant values)' : rp.spearman.toFixed(3)}`,
    );
  }
  lines.push('', `wrote ${files.json}`, `wrote ${files.svg}`, `wrote ${files.png}`);
  return lines.join('\n');
}

export function register(program: Command): void {
  program
    .command('paths')
    .description('Phase 1: CKA matrix of the residual-stream taps, Path-Score, optimal path per effort -> paths.json + cka.svg/png')
    .requiredOption('--model <dir>', 'model family directory (manifest.json with an analysis graph)')
    .option(
      '--data <dir>',
      "tap images: Fashion-MNIST IDX directory (train split) or a folder of class subfolders (default: /usr/share/datasets/fashion-mnist if installed, else the model's samples/)",
    )
    .option('--images <n>', 'number of tap images', integer, 256)
    .option('--out <dir>', 'output directory (default: the model directory)')
    .option('--random-paths [n]', 'Fig. 4a check: accuracy of n distinct random paths (no fine-tuning) vs Path-Score', integer)
    .option('--random-effort <k>', 'effort of the random paths (default: floor(depth / 2))', integer)
    .option('--eval-images <n>', 'evaluation images for the random paths', integer, 2000)
    .option('--eval-data <dir>', "evaluation images (default: the IDX test split, else the model's samples/)")
    .option('--seed <n>', 'seed for drawing the random paths', nonNegativeInt, 0)
    .option('--threads <n>', "onnxruntime intra-op threads (default: onnxruntime's choice)", nonNegativeInt)
    .option('--json', 'print paths.json to stdout instead of the tables')
    // runPhase1 checks the counts' ranges (and names the option).
    .action(async (opts) => {
      const logger = createLogger();
      const randomPaths = opts.randomPaths === true ? 12 : (opts.randomPaths as number | undefined);
      const result = await runPhase1({
        model: opts.model,
        data: opts.data,
        images: opts.images,
        out: opts.out,
        randomPaths,
        randomEffort: opts.randomEffort,
        evalImages: opts.evalImages,
        evalData: opts.evalData,
        seed: opts.seed,
        threads: opts.threads || undefined,
        logger,
        onRandomPath: (p, i, total) =>
          logger.info({ active: p.active.join(''), score: p.score, accuracy: p.accuracy }, `random path ${i}/${total}`),
      });
      process.stdout.write(`${opts.json ? JSON.stringify(result.paths, null, 2) : report(result)}\n`);
    });
}
