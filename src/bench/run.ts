/**
 * `pivot bench` as a library call: measure every effort of a model family on this device,
 * simulate the same efforts with PIVOT-Sim, compare ratios and rank order, and (for a deploy
 * file) the deployed pair's delay with F_L measured on a labelled set.
 */
import { cpus } from 'node:os';
import { Cascade, evaluate } from '../cascade/index.js';
import { defaultDeployPath, loadDeploy, type Deployment } from '../config/deploy.js';
import { defaultDataset, limitDataset, openDataset, type LabelledDataset } from '../data/index.js';
import { ConfigError, InputError } from '../errors.js';
import { loadModelFamily, ModelRuntime, type ModelFamily } from '../model/index.js';
import { CLOCKS, checkCount, measureEfforts, type Clock } from '../latency/index.js';
import { isCpuDevice, loadHardware, resolveVit, simulateEfforts, type CpuDevice } from '../sim/index.js';
import { compareEfforts, type EffortsComparison } from './compare.js';
import { comparePair, type PairChoice, type PairComparison } from './pair.js';

export interface BenchOptions {
  /** A model family directory (per-effort comparison only). Exclusive with `deploy`. */
  model?: string;
  /** A deploy.json (default: the shipped one): its model family, plus the pair comparison. */
  deploy?: string;
  /** Hardware preset, hw.yaml or device profile (`kind: cpu`) for PIVOT-Sim (default zcu102). `hw` is the same option under `pivot sim`'s name. */
  hardware?: string;
  hw?: string;
  batch?: number;
  /** onnxruntime intra-op threads (default 1: the single-core cost, steadier on a shared machine). */
  threads?: number;
  /** Call time: wall-clock (default) or the process's CPU time (one thread; see src/latency/measure.ts); a profile's own by default. */
  clock?: Clock;
  rounds?: number;
  iterations?: number;
  warmup?: number;
  /** Labelled set for F_L (default: the family's bundled samples, else Fashion-MNIST if installed). */
  data?: string;
  limit?: number;
  /** Timing progress: turns done of the total (see MeasureOptions.onProgress). */
  onProgress?: (done: number, total: number) => void;
}

export const BENCH_DEFAULTS = { hardware: 'zcu102', batch: 1, threads: 1, rounds: 5 } as const;

/** Timed calls per effort per round when not given: about 200 images' worth, at least 10 calls (a few seconds at any batch size). */
export const defaultIterations = (batch: number): number => Math.max(10, Math.ceil(200 / batch));

export interface BenchReport {
  model: string;
  model_dir: string;
  hardware: string;
  /** `cpu`: the hardware is a measured device profile, so its ms are predictions of this device's (compare `error`). */
  hardware_kind: 'cpu' | 'accelerator';
  device: { cpu: string; cores: number; node: string };
  settings: { batch: number; threads: number; rounds: number; iterations: number; clock: Clock };
  efforts: EffortsComparison;
  /** Null with --model, or when no labelled set is available. */
  pair: PairComparison | null;
  note: string;
}

export const BENCH_NOTE =
  'Absolute times differ by design (this CPU is not the simulated accelerator): compare the ratios to the full effort and the rank order.';

/** The CPU clock sums every thread's time, so it measures a call's duration only with one thread. */
export function checkClock(clock: Clock, threads: number): Clock {
  if (!CLOCKS.includes(clock)) throw new ConfigError(`--clock: expected ${CLOCKS.join(' or ')}, got ${JSON.stringify(clock)}`);
  if (clock === 'cpu' && threads !== 1)
    throw new ConfigError(`--clock cpu: needs --threads 1 (CPU time adds up the ${threads} threads' time), got --threads ${threads}`);
  return clock;
}

function profileNote(p: CpuDevice, s: BenchReport['settings']): string {
  const fitted = p.fit ? `fitted on ${p.fit.model}, batch ${p.batch}, ${p.threads} thread(s)` : `batch ${p.batch}, ${p.threads} thread(s)`;
  const mismatch =
    p.batch !== s.batch || p.threads !== s.threads || p.clock !== s.clock
      ? ` Measured at batch ${s.batch} with ${s.threads} thread(s), ${s.clock} clock: the profile's predictions are for its own batch, threads and clock (${p.clock}).`
      : '';
  return `Predicted ms come from the device profile ${p.name} (${fitted}); error = predicted / measured - 1.${mismatch}`;
}

function chooseFamily(opts: BenchOptions): { family: ModelFamily; deployment?: Deployment } {
  if (opts.model !== undefined) {
    if (opts.deploy !== undefined) throw new ConfigError('--model and --deploy: give one or the other');
    if (opts.data !== undefined || opts.limit !== undefined)
      throw new ConfigError('--data/--limit measure the deployed pair: use them with --deploy (or the default deploy file), not --model');
    return { family: loadModelFamily(opts.model) };
  }
  const deployment = loadDeploy(opts.deploy ?? defaultDeployPath());
  return { family: deployment.family, deployment };
}

/**
 * The deployed pair's F_L: the cascade run on the labelled set with the resident sessions, in
 * batches of `batch`. (Its stage times are not used as the pair's delay: the cascade decodes the
 * next batch while the current one runs, so on a small machine they include that contention.)
 */
export async function measurePair(
  runtime: ModelRuntime,
  deployment: Deployment,
  dataset: LabelledDataset,
  batch: number,
): Promise<PairChoice> {
  const { low, high, threshold } = deployment.config;
  const cascade = await Cascade.create(runtime, { low, high, threshold, policy: 'cascade' });
  const summary = await evaluate(cascade, dataset, { batchSize: batch });
  if (summary.count === 0) throw new InputError(dataset.description, 'no image could be classified, so F_L cannot be measured');
  return { low, high, threshold, f_l: summary.fraction_low, data: summary.data, images: summary.count };
}

export async function runBench(opts: BenchOptions = {}): Promise<BenchReport> {
  if (opts.hw !== undefined && opts.hardware !== undefined) throw new ConfigError('--hw and --hardware are the same option: give one');
  const hw = loadHardware(opts.hw ?? opts.hardware ?? BENCH_DEFAULTS.hardware);
  // A device profile predicts per image at the batch and threads it was fitted with.
  const profile = isCpuDevice(hw) ? hw : undefined;
  const batch = checkCount('--batch', opts.batch ?? profile?.batch ?? BENCH_DEFAULTS.batch);
  const settings = {
    batch,
    threads: checkCount('--threads', opts.threads ?? profile?.threads ?? BENCH_DEFAULTS.threads),
    rounds: checkCount('--rounds', opts.rounds ?? BENCH_DEFAULTS.rounds),
    iterations: checkCount('--iterations', opts.iterations ?? defaultIterations(batch)),
    clock: checkClock(opts.clock ?? profile?.clock ?? 'wall', opts.threads ?? profile?.threads ?? BENCH_DEFAULTS.threads),
  };
  if (opts.limit !== undefined) checkCount('--limit', opts.limit);
  const { family, deployment } = chooseFamily(opts);
  // Everything that can fail on bad input is checked before the (slow) measurement.
  const costs = simulateEfforts(resolveVit(family.dir), hw);
  const dataPath = deployment ? (opts.data ?? defaultDataset(family, 'measure')) : undefined;
  const dataset = dataPath === undefined ? undefined : limitDataset(openDataset(dataPath, family.manifest.labels), opts.limit);

  const runtime = new ModelRuntime(family, { intraOpThreads: settings.threads });
  try {
    const efforts = family.manifest.efforts.map((e) => e.effort);
    const timings = await measureEfforts(runtime, efforts, { ...settings, warmup: opts.warmup, onProgress: opts.onProgress });
    const compared = compareEfforts(timings, costs);
    // After the timing, so the evaluation's allocations do not disturb it.
    const pair = deployment && dataset ? await measurePair(runtime, deployment, dataset, settings.batch) : undefined;
    return {
      model: family.manifest.name,
      model_dir: family.dir,
      hardware: hw.name,
      hardware_kind: profile ? 'cpu' : 'accelerator',
      device: { cpu: cpus()[0]?.model.trim() ?? 'unknown', cores: cpus().length, node: process.version },
      settings,
      efforts: compared,
      pair: pair ? comparePair(compared, costs, pair) : null,
      note: profile ? profileNote(profile, settings) : BENCH_NOTE,
    };
  } finally {
    await runtime.close();
  }
}
