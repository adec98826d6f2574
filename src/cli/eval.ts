/** `pivot eval`: accuracy, F_L, C/I counts, throughput and stage latency of a cascade on a labelled dataset. */
import { resolve } from 'node:path';
import { SingleBar } from 'cli-progress';
import Table from 'cli-table3';
import type { Command } from 'commander';
import { evaluate, openCascade, type EvalSummary, type Policy } from '../cascade/index.js';
import { deployGuarantee, guaranteeLine, type Deployment } from '../config/deploy.js';
import { isIdxDir, limitDataset, openDataset, requireDefaultDataset } from '../data/index.js';
import { InputError } from '../errors.js';
import { clopperPearson, percentWithInterval, type Interval } from '../stats/index.js';
import { addRuntimeOptions, resultLine, tableStyle } from './classify.js';
import { nonNegativeInt, positiveInt, unitInterval } from './options.js';

interface EvalOptions {
  deploy?: string;
  model?: string;
  low?: number;
  high?: number;
  threshold?: number;
  policy: Policy;
  data?: string;
  limit?: number;
  batch: number;
  threads?: number;
  json?: boolean;
}

const ms = (v: number | undefined) => (v === undefined ? '-' : v.toFixed(2));
const rounded = (i: Interval): [number, number] => [Number(i.lower.toFixed(6)), Number(i.upper.toFixed(6))];

interface EvalReport extends EvalSummary {
  model: string;
  /** 95% Clopper-Pearson intervals over the images classified. */
  accuracy_ci: [number, number] | null;
  fraction_low_ci: [number, number] | null;
  /** What the deployment's metadata certifies, and whether it covers the pair and threshold evaluated. */
  guarantee?: string;
}

function withIntervals(s: EvalSummary, deployment: Deployment, data: string): EvalReport {
  const ci = (k: number) => (s.count ? rounded(clopperPearson(k, s.count)) : null);
  // --policy low answers everything with the low effort (Th 1 in effect); --policy high nothing (Th 0).
  const threshold = s.policy === 'low' ? 1 : s.policy === 'high' ? 0 : s.threshold;
  const line = guaranteeLine({ ...deployment.config, low: s.low, high: s.high, threshold });
  const g = deployGuarantee(deployment.config);
  // The calibration images are a random part of the same split: evaluating on it re-uses them.
  const overlap = g && isIdxDir(data) && g.calibration.split === 'test' && resolve(g.calibration.source) === resolve(data);
  return {
    model: deployment.family.dir,
    ...s,
    accuracy_ci: ci(s.correct_low + s.correct_high),
    fraction_low_ci: ci(s.correct_low + s.incorrect_low),
    ...(line
      ? { guarantee: `${line}${overlap ? `; note: this data contains those ${g.calibration.images} calibration images` : ''}` }
      : {}),
  };
}

function report(s: EvalReport): string {
  const pct = (v: number, ci: [number, number] | null) => (ci ? percentWithInterval(v, { lower: ci[0], upper: ci[1] }) : '-');
  const head = new Table({ style: tableStyle() });
  head.push(
    { model: s.model },
    { policy: `${s.policy} (low ${s.low}, high ${s.high}, threshold ${s.threshold})` },
    { data: s.data },
    { images: `${s.count}${s.failed ? ` (+${s.failed} failed)` : ''}` },
    { 'accuracy [95% CI]': pct(s.accuracy, s.accuracy_ci) },
    { 'F_L (answered by low) [95% CI]': pct(s.fraction_low, s.fraction_low_ci) },
    { 'C_L / I_L': `${s.correct_low} / ${s.incorrect_low}` },
    { 'C_H / I_H': `${s.correct_high} / ${s.incorrect_high}` },
    { throughput: `${s.throughput.toFixed(1)} images/s (${s.elapsed_s.toFixed(2)} s)` },
  );
  const stages = new Table({ head: ['stage', 'calls', `mean ms / call (batch ${s.batch_size})`, 'p95 ms'], style: tableStyle() });
  for (const [stage, st] of Object.entries(s.latency_ms)) stages.push([stage, st.calls, ms(st.mean), ms(st.p95)]);
  return `${head.toString()}\n${stages.toString()}${s.guarantee ? `\n${s.guarantee}` : ''}`;
}

export function register(program: Command): void {
  addRuntimeOptions(
    program
      .command('eval')
      .description('accuracy, F_L, C_L/C_H/I_L/I_H, throughput and per-stage latency on a labelled dataset')
      .option('--model <dir>', 'model family directory instead of --deploy (needs --low, --high, --threshold)')
      .option('--low <effort>', 'low effort (overrides the deploy file)', nonNegativeInt)
      .option('--high <effort>', 'high effort (overrides the deploy file)', nonNegativeInt)
      .option('--threshold <t>', 'entropy threshold in [0, 1] (overrides the deploy file)', unitInterval)
      .option(
        '--data <dir>',
        "Fashion-MNIST IDX directory (test split) or a folder with one subfolder per class (default: the model's bundled samples)",
      )
      .option('--limit <n>', 'evaluate only the first n images', positiveInt),
  ).action(async (opts: EvalOptions) => {
    const { cascade, runtime, deployment } = await openCascade(opts, { intraOpThreads: opts.threads }, { batchSize: opts.batch });
    const data = opts.data ?? requireDefaultDataset(deployment.family, 'measure');
    const dataset = limitDataset(openDataset(data, deployment.family.manifest.labels), opts.limit);
    const bar = process.stderr.isTTY
      ? new SingleBar({ stream: process.stderr, format: 'eval [{bar}] {value}/{total} images | {eta}s left', hideCursor: true })
      : undefined;
    bar?.start(dataset.count, 0);
    // One unreadable image must not end an evaluation: it is counted as failed and listed after the run.
    const failures: string[] = [];
    const evaluated = await evaluate(cascade, dataset, {
      onProgress: (done) => bar?.update(done),
      onFailure: (f) => failures.push(JSON.stringify(resultLine(f))),
    });
    bar?.stop();
    const summary = withIntervals(evaluated, deployment, data);
    for (const line of failures) process.stderr.write(`${line}\n`);
    await runtime.close();
    process.stdout.write(`${opts.json ? JSON.stringify(summary) : report(summary)}\n`);
    if (summary.failed) process.exitCode = InputError.exitCode; // some inputs could not be classified
  });
}
