/**
 * `pivot bench --fit <device.yaml>`: time every effort of a model family at a few batch sizes
 * (interleaved rounds, medians), fit a device profile to the simulator's operation lists
 * (fit.ts), check it effort by effort out of sample (leave one effort out), and write it.
 */
import { writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import Table from 'cli-table3';
import { stringify } from 'yaml';
import { ConfigError } from '../errors.js';
import { loadModelFamily, ModelRuntime } from '../model/index.js';
import { loadDeploy } from '../config/deploy.js';
import { defaultDataset, openDataset } from '../data/index.js';
import { checkCount, measureCases, type EffortTiming } from '../latency/index.js';
import { CpuDeviceSchema, resolveVit, simulateEfforts, type CpuDevice } from '../sim/index.js';
import { compareEfforts } from './compare.js';
import { comparePair, type PairChoice, type PairComparison } from './pair.js';
import { measurePair } from './run.js';
import { deviceDescription } from './device-info.js';
import { fitDevice, leaveOneEffortOut, type FittedPoint, type FitPoint } from './fit.js';

export interface FitOptions {
  /** A model family directory, or (exclusive) a deploy file whose family is fitted and whose pair is checked. */
  model?: string;
  deploy?: string;
  /** Where the profile is written (YAML). */
  out: string;
  /** Batch sizes measured; the first is the profile's batch (its predictions are per image at it). */
  batches?: number[];
  threads?: number;
  rounds?: number;
  /** Timed calls per case per round at the first batch size (fewer at larger ones: about the same images). */
  iterations?: number;
  /** Untimed calls per case before the first round (default 10). */
  warmup?: number;
  /** Optional measured average power in watts, copied into the profile. */
  powerW?: number;
}

export const FIT_DEFAULTS = { batches: [1, 2, 4], threads: 1, rounds: 5, iterations: 40 } as const;

export interface FitReport {
  model: string;
  model_dir: string;
  file: string;
  profile: CpuDevice;
  settings: { batches: number[]; threads: number; rounds: number; iterations: number };
  points: FittedPoint[];
  /** Robust-fit weight per point (below 1: down-weighted as disturbed). */
  weights: number[];
  /** Each effort at the profile's batch, predicted by a fit that never saw that effort. */
  leave_one_out: FittedPoint[];
  /** With a deploy file: the deployed pair, predicted by the new profile vs measured in the same run. */
  pair: PairComparison | null;
  rms_error: number;
  max_error: number;
}

/** "1,2,4" -> [1, 2, 4] (positive integers, no repeats). */
export function parseBatches(text: string): number[] {
  const values = text.split(',').map((s) => Number(s.trim()));
  if (!values.length || values.some((v) => !Number.isInteger(v) || v < 1) || new Set(values).size !== values.length)
    throw new ConfigError(`--fit-batches: expected distinct positive integers like "1,2,4", got ${JSON.stringify(text)}`);
  return values;
}

export async function runFit(opts: FitOptions): Promise<FitReport> {
  const batches = opts.batches ?? [...FIT_DEFAULTS.batches];
  const settings = {
    batches,
    threads: checkCount('--threads', opts.threads ?? FIT_DEFAULTS.threads),
    rounds: checkCount('--rounds', opts.rounds ?? FIT_DEFAULTS.rounds),
    iterations: checkCount('--iterations', opts.iterations ?? FIT_DEFAULTS.iterations),
  };
  if (opts.powerW !== undefined && !(opts.powerW > 0))
    throw new ConfigError(`--power: must be a positive number of watts, got ${opts.powerW}`);
  if ((opts.model === undefined) === (opts.deploy === undefined)) throw new ConfigError('--fit: give --model or --deploy (one of them)');
  const deployment = opts.deploy !== undefined ? loadDeploy(opts.deploy) : undefined;
  const family = deployment?.family ?? loadModelFamily(opts.model!);
  const dataPath = deployment ? defaultDataset(family, 'measure') : undefined;
  const dataset = dataPath === undefined ? undefined : openDataset(dataPath, family.manifest.labels);
  const source = resolveVit(family.dir);
  const efforts = family.manifest.efforts.map((e) => e.effort);
  const runtime = new ModelRuntime(family, { intraOpThreads: settings.threads });
  let points: FitPoint[];
  let timings: EffortTiming[];
  let choice: PairChoice | undefined;
  try {
    const cases = batches.flatMap((batch) => efforts.map((effort) => ({ effort, batch })));
    timings = await measureCases(runtime, cases, {
      batch: batches[0]!,
      rounds: settings.rounds,
      iterations: settings.iterations,
      warmup: opts.warmup,
    });
    points = timings.map((t) => ({ effort: t.effort, batch: t.batch, measured_ms: t.medianMs }));
    // Right after the timing, in the same run: the deployed cascade at the profile's batch.
    if (deployment && dataset) choice = await measurePair(runtime, deployment, dataset, batches[0]!);
  } finally {
    await runtime.close();
  }
  const fit = fitDevice(source, points);
  const profile = CpuDeviceSchema.parse({
    kind: 'cpu',
    name: basename(opts.out).replace(/\.[^.]*$/, ''),
    device: `${deviceDescription()}, onnxruntime-node, ${settings.threads} intra-op thread(s)`,
    threads: settings.threads,
    batch: batches[0],
    costs_ns: fit.costs,
    ...(opts.powerW !== undefined ? { power_w: opts.powerW } : {}),
    fit: {
      model: family.manifest.name,
      points: points.length,
      batches,
      rms_error: fit.rms_error,
      max_error: fit.max_error,
      date: new Date().toISOString(),
    },
  });
  try {
    writeFileSync(opts.out, stringify(profile));
  } catch (err) {
    throw new ConfigError(`--fit: ${opts.out}: ${(err as Error).message}`, { cause: err });
  }
  let pair: PairComparison | null = null;
  if (choice) {
    const costs = simulateEfforts(source, profile);
    const compared = compareEfforts(
      timings.filter((t) => t.batch === batches[0]),
      costs,
    );
    pair = comparePair(compared, costs, choice);
  }
  return {
    model: family.manifest.name,
    model_dir: family.dir,
    file: opts.out,
    pair,
    profile,
    settings,
    points: fit.points,
    weights: fit.weights,
    leave_one_out: leaveOneEffortOut(source, points, batches[0]!),
    rms_error: fit.rms_error,
    max_error: fit.max_error,
  };
}

const PLAIN = { head: [], border: [] };
const COMPACT = { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' };
const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;

export function fitTable(r: FitReport): string {
  const costs = new Table({ head: ['cost', 'ns'], style: PLAIN, chars: COMPACT });
  for (const [k, v] of Object.entries(r.profile.costs_ns)) costs.push([k, v.toPrecision(4)]);
  const pts = new Table({
    head: ['effort', 'batch', 'measured ms/img', 'fitted ms/img', 'residual', 'weight'],
    style: PLAIN,
    chars: COMPACT,
  });
  r.points.forEach((p, i) =>
    pts.push([p.effort, p.batch, p.measured_ms.toFixed(4), p.predicted_ms.toFixed(4), pct(p.error), r.weights[i]!.toFixed(2)]),
  );
  const loo = new Table({ head: ['effort', 'measured ms/img', 'predicted (effort left out)', 'error'], style: PLAIN, chars: COMPACT });
  for (const p of r.leave_one_out) loo.push([p.effort, p.measured_ms.toFixed(4), p.predicted_ms.toFixed(4), pct(p.error)]);
  const s = r.settings;
  const worst = Math.max(...r.leave_one_out.map((p) => Math.abs(p.error)));
  return (
    `${r.model}: device profile ${r.file} (${r.profile.device})\n` +
    `fitted on ${r.points.length} medians: ${r.points.length / s.batches.length} efforts x batches ${s.batches.join(', ')} (${s.rounds} interleaved rounds)\n` +
    `${costs.toString()}\nresiduals (relative): rms ${pct(r.rms_error).slice(1)}, max ${pct(r.max_error).slice(1)}\n${pts.toString()}\n` +
    `leave one effort out, batch ${r.profile.batch}: worst ${pct(worst).slice(1)}\n${loo.toString()}\n` +
    (r.pair
      ? `deployed pair ${r.pair.low} -> ${r.pair.high} (Th ${r.pair.threshold}), F_L = ${r.pair.f_l.toFixed(4)} on ${r.pair.images} images: ` +
        `D_L + F_H*D_H measured ${r.pair.measured.pair_ms.toFixed(4)} ms/img, predicted ${r.pair.simulated.pair_ms.toFixed(4)} (${pct(r.pair.error)})\n`
      : '')
  );
}
