/** `pivot search`: Phase 2, the effort pair and threshold that meet a delay target under F_L >= LEC -> deploy.json. */
import { type Command, Option } from 'commander';
import { ConfigError } from '../errors.js';
import {
  COST_SOURCES,
  DelayTargetError,
  GUARANTEE_DEFAULT_IMAGES,
  LOSSES,
  PICKS,
  runSearch,
  searchJson,
  searchReport,
  type SearchOptions,
  type SearchResult,
} from '../search/phase2/index.js';
import { P_VALUES } from '../stats/index.js';
import { tableStyle } from './classify.js';
import { integer, nonNegativeInt, number, numberOrAuto, positiveInt } from './options.js';

export function register(program: Command): void {
  program
    .command('search')
    .description(
      'Phase 2: the (low, high) effort pair and entropy threshold meeting a delay target under F_L >= LEC (the first in pair order, or --pick accurate) -> deploy.json',
    )
    .requiredOption('--model <dir>', 'model family directory (manifest.json + one ONNX file per effort)')
    .option(
      '--data <dir>',
      "Fashion-MNIST IDX directory or a folder with one subfolder per class (default: /usr/share/datasets/fashion-mnist if installed, else the model's samples/)",
    )
    .addOption(new Option('--split <split>', 'IDX split to draw from (default: train; test with --max-drop)').choices(['train', 'test']))
    .option('--images <n>', `random images in the search batch (default: 256; ${GUARANTEE_DEFAULT_IMAGES} with --max-drop)`, positiveInt)
    .option('--seed <n>', 'seed for drawing the batch', nonNegativeInt, 1)
    .option(
      '--lec <F|auto>',
      "low effort constraint: fraction of inputs the low effort must answer, in [0, 1], or auto: each pair's threshold is the smallest whose delay meets the target (required; 0 by default with --max-drop)",
      numberOrAuto,
    )
    .option('--delay <ms>', 'delay target in ms per image', number)
    .option('--delay-ratio <r>', "delay target as a fraction of the full (largest) effort's delay", number)
    .option('--tolerance <t>', 'a pair meets the target when its delay <= target * (1 + t)', number, 0.05)
    .addOption(
      new Option('--cost <source>', 'delays from PIVOT-Sim or measured here with onnxruntime').choices(COST_SOURCES).default('sim'),
    )
    .option(
      '--hardware <preset|file>',
      'PIVOT-Sim hardware: zcu102, a hw.yaml or a device profile from pivot bench --fit (with --cost sim)',
      'zcu102',
    )
    .option('--step <s>', 'threshold grid step', number, 0.01)
    .addOption(
      new Option('--pick <rule>', 'among pairs meeting the target: the first in pair order (as the paper) or the most accurate')
        .choices(PICKS)
        .default('first'),
    )
    .option('--rounds <n>', 'interleaved timing rounds over all efforts (with --cost device)', integer, 5)
    .option('--threads <n>', "onnxruntime intra-op threads (default: onnxruntime's choice)", positiveInt)
    .option('--out <file>', 'deploy config to write (not the shipped deploy/deploy.json)', 'deploy.json')
    .option(
      '--max-drop <eps>',
      'guarantee: the accuracy lost against the high effort alone is at most eps (a fraction: 0.01 = one point)',
      number,
    )
    .option('--delta <d>', 'with --max-drop: the guarantee holds with probability at least 1 - d over the calibration images', number)
    .addOption(
      new Option('--loss <loss>', 'with --max-drop: labelled (needs labels) or label-free (bounds the labelled one)').choices(LOSSES),
    )
    .option('--labels-free', 'with --max-drop: the same as --loss label-free, for calibration images without trustworthy labels')
    .addOption(new Option('--p-value <method>', 'with --max-drop: exact binomial or Hoeffding-Bentkus').choices(P_VALUES))
    .option(
      '--compare-scores',
      'also compare the routing scores (entropy, max_prob, margin) on the batch: AUROC for "the low effort is wrong" and accuracy at the chosen F_L',
    )
    .option('--json', 'one JSON object instead of the table')
    .action(async (opts: SearchOptions & { json?: boolean; labelsFree?: boolean }, command: Command) => {
      if (opts.labelsFree) {
        if (opts.loss === 'labelled') throw new ConfigError('--labels-free and --loss labelled contradict each other');
        opts.loss = 'label-free';
      }
      if (opts.cost === 'device' && command.getOptionValueSource('hardware') === 'cli')
        throw new ConfigError('--hardware: applies to --cost sim only (--cost device measures this device)');
      const print = (r: SearchResult) =>
        process.stdout.write(`${opts.json ? JSON.stringify(searchJson(r)) : searchReport(r, tableStyle())}\n`);
      try {
        print(await runSearch(opts));
      } catch (err) {
        // The pairs tried are the useful part of a miss: show them, then fail with the error's exit code.
        if (err instanceof DelayTargetError) print(err.result);
        throw err;
      }
    });
}
