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
import { loadModelFamily, ModelRuntime, type ModelFamily } from '../model/index.js';
import { loadDeploy } from '../config/deploy.js';
import { defaultDataset, openDataset } from '../data/index.js';
import { checkCount, driftCorrected, measureCases, type Clock, type EffortTiming, type TimingCase } from '../latency/index.js';
import { CpuDeviceSchema, resolveVit, simulateEfforts, type CpuDevice, type VitSource } from '../sim/index.js';
import { compareEfforts } from './compare.js';
import { comparePair, type PairChoice, type PairComparison } from './pair.js';
import { checkClock, measurePair } from './run.js';
import { deviceDescription } from './device-info.js';
import { crossModel, fitDevice, leaveOneEffortOut, leaveOneModelOut, type FittedPoint, type FitPoint, type Transfer } from './fit.js';
import { extraMasks, familyWithMasks, maskBits, maskGraphs } from './masks.js';
import { DEFAULT_LADDER, loadLadder, probeFamily, probeVit, type Probe } from './ladder.js';

export interface FitOptions {
  /**
   * Model family directories (one, or several for a fit pooled over architectures), or
   * (exclusive) a deploy file whose family is fitted and whose pair is checked.
   */
  model?: string | string[];
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
  /** Extra active masks timed per shipped effort (graphs cut from the full effort); 0 for none. */
  masks?: number;
  /** Call time: wall-clock (default) or the process's CPU time (one thread; robust to other jobs on the machine). */
  clock?: Clock;
  /** The calibration ladder timed with the model (ladder.ts): a ladder file, false for none, absent for the default ladder. */
  calibration?: string | false;
  /** Every case timed for at least this many ms per round (src/latency/measure.ts, turnCalls); 0 for off. */
  minTurnMs?: number;
  /** Timing progress: turns done of the total (see MeasureOptions.onProgress). */
  onProgress?: (done: number, total: number) => void;
}

export const FIT_DEFAULTS = { batches: [1, 2, 4], threads: 1, rounds: 5, iterations: 40, masks: 2, minTurnMs: 0 } as const;

export interface FitReport {
  model: string;
  model_dir: string;
  file: string;
  profile: CpuDevice;
  settings: {
    batches: number[];
    threads: number;
    rounds: number;
    iterations: number;
    masks: number;
    min_turn_ms: number;
    clock: Clock;
    calibration: string;
  };
  /** The model families' points (the ladder's are in `ladder`). */
  points: FittedPoint[];
  /** Robust-fit weight per point (below 1: down-weighted as disturbed). */
  weights: number[];
  /** The calibration ladder's points, fitted with the model's, per probe. */
  ladder: LadderRow[];
  /** Each effort at the profile's batch, predicted by a fit that never saw that effort. */
  leave_one_out: FittedPoint[];
  /** With several families: each family's efforts predicted by a fit on the other families alone. */
  leave_one_model_out: FittedPoint[];
  /**
   * With several families: each family's efforts predicted by a fit on one other family alone
   * (plus the ladder, when there is one); with a ladder, each family's predicted by the ladder alone.
   */
  cross_model: Transfer[];
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

export interface LadderRow {
  probe: string;
  tokens: number;
  dim: number;
  depth: number;
  points: FittedPoint[];
  weights: number[];
}

/** The ladder the options ask for: none, the default one, or a ladder file's. */
function ladderOf(calibration: string | false | undefined): { label: string; probes: readonly Probe[] } {
  if (calibration === false) return { label: 'none', probes: [] };
  if (calibration === undefined) return { label: 'default', probes: DEFAULT_LADDER };
  return { label: calibration, probes: loadLadder(calibration) };
}

interface FittedFamily {
  family: ModelFamily;
  source: VitSource;
  runtime: ModelRuntime;
  cases: (TimingCase & { point: Omit<FitPoint, 'measured_ms'> })[];
}

/** A family's timing cases: every effort at every batch size, plus the extra masks' graphs; `repeat` times the calls per round. */
async function prepareFamily(
  family: ModelFamily,
  batches: readonly number[],
  perEffort: number,
  threads: number,
  repeat: number,
  ladder = false,
): Promise<FittedFamily> {
  const masks = perEffort > 0 ? await maskGraphs(family, extraMasks(family, perEffort)) : [];
  const runtime = new ModelRuntime(familyWithMasks(family, masks), { intraOpThreads: threads });
  const model = family.manifest.name;
  const effortOfCount = new Map(family.manifest.efforts.map((e) => [e.active.reduce((a: number, b) => a + b, 0), e.effort]));
  const cases = batches.flatMap((batch) => [
    ...family.manifest.efforts.map((e) => ({
      effort: e.effort,
      batch,
      runtime,
      repeat,
      point: { model, effort: e.effort, batch, ...(ladder ? { ladder } : {}) },
    })),
    ...masks.map((g) => ({
      effort: g.id,
      batch,
      runtime,
      repeat,
      point: { model, effort: effortOfCount.get(g.active.reduce((a, b) => a + b, 0))!, mask: maskBits(g.active), batch },
    })),
  ]);
  return { family, source: resolveVit(family.dir), runtime, cases };
}

export async function runFit(opts: FitOptions): Promise<FitReport> {
  const batches = opts.batches ?? [...FIT_DEFAULTS.batches];
  const settings = {
    batches,
    threads: checkCount('--threads', opts.threads ?? FIT_DEFAULTS.threads),
    rounds: checkCount('--rounds', opts.rounds ?? FIT_DEFAULTS.rounds),
    iterations: checkCount('--iterations', opts.iterations ?? FIT_DEFAULTS.iterations),
    masks: checkCount('--fit-masks', opts.masks ?? FIT_DEFAULTS.masks, 0),
    min_turn_ms: checkCount('--min-turn', opts.minTurnMs ?? FIT_DEFAULTS.minTurnMs, 0),
    clock: 'wall' as Clock,
    calibration: 'default',
  };
  settings.clock = checkClock(opts.clock ?? 'wall', settings.threads);
  if (opts.powerW !== undefined && !(opts.powerW > 0))
    throw new ConfigError(`--power: must be a positive number of watts, got ${opts.powerW}`);
  if ((opts.model === undefined) === (opts.deploy === undefined)) throw new ConfigError('--fit: give --model or --deploy (one of them)');
  const ladder = ladderOf(opts.calibration);
  settings.calibration = ladder.label;
  const deployment = opts.deploy !== undefined ? loadDeploy(opts.deploy) : undefined;
  const families = deployment ? [deployment.family] : [opts.model!].flat().map((dir) => loadModelFamily(dir));
  const names = families.map((f) => f.manifest.name);
  if (new Set(names).size !== names.length) throw new ConfigError(`--model: the same family twice (${names.join(', ')})`);
  const dataPath = deployment ? defaultDataset(families[0]!, 'measure') : undefined;
  const dataset = dataPath === undefined ? undefined : openDataset(dataPath, families[0]!.manifest.labels);
  const prepared: FittedFamily[] = [];
  let points: FitPoint[];
  let timings: EffortTiming[];
  let choice: PairChoice | undefined;
  try {
    // Several families: a small one gets more calls per round, about as much time per case as the largest (by MACs, at most 64x).
    const largestMacs = (f: ModelFamily) => Math.max(...f.manifest.efforts.map((e) => e.macs));
    const maxMacs = Math.max(...families.map(largestMacs));
    const repeatFor = (f: ModelFamily) => Math.min(64, Math.max(1, Math.round(maxMacs / largestMacs(f))));
    for (const family of families) prepared.push(await prepareFamily(family, batches, settings.masks, settings.threads, repeatFor(family)));
    // The ladder's probes get as many calls as the families' by the same rule (at least one per round).
    for (const probe of ladder.probes) {
      const family = await probeFamily(probe);
      prepared.push(await prepareFamily(family, batches, 0, settings.threads, repeatFor(family), true));
    }
    const cases = prepared.flatMap((f) => f.cases);
    timings = await measureCases(prepared[0]!.runtime, cases, {
      batch: batches[0]!,
      rounds: settings.rounds,
      iterations: settings.iterations,
      warmup: opts.warmup,
      clock: settings.clock,
      minTurnMs: settings.min_turn_ms,
      onProgress: opts.onProgress,
    });
    // Each case's time in a typical round of the run (drift between rounds removed: src/latency/drift.ts).
    const level = driftCorrected(timings);
    timings = timings.map((t, i) => ({ ...t, medianMs: level[i]! }));
    points = cases.map((c, i) => ({ ...c.point, measured_ms: level[i]! }));
    // Right after the timing, in the same run: the deployed cascade at the profile's batch.
    if (deployment && dataset) choice = await measurePair(prepared[0]!.runtime, deployment, dataset, batches[0]!);
  } finally {
    await Promise.all(prepared.map((f) => f.runtime.close()));
  }
  const sources = prepared.map((f) => f.source);
  const fit = fitDevice(sources, points);
  const isLadder = fit.points.map((p) => p.ladder === true);
  const ladderRows = ladder.probes.map((probe): LadderRow => {
    const vit = probeVit(probe);
    const at = fit.points.flatMap((p, i) => (p.model === vit.name ? [i] : []));
    return {
      probe: probe.name,
      tokens: vit.tokens,
      dim: vit.dim,
      depth: vit.depth,
      points: at.map((i) => fit.points[i]!),
      weights: at.map((i) => fit.weights[i]!),
    };
  });
  const ladderErrors = fit.points.filter((p) => p.ladder).map((p) => Math.abs(p.error));
  const profile = CpuDeviceSchema.parse({
    kind: 'cpu',
    name: basename(opts.out).replace(/\.[^.]*$/, ''),
    device: `${deviceDescription()}, onnxruntime-node, ${settings.threads} intra-op thread(s)`,
    threads: settings.threads,
    clock: settings.clock,
    batch: batches[0],
    costs_ns: fit.costs,
    ...(opts.powerW !== undefined ? { power_w: opts.powerW } : {}),
    fit: {
      model: names.join(' + '),
      points: points.length,
      calibration: ladder.probes.length
        ? {
            ladder: ladder.label,
            probes: ladder.probes.length,
            points: ladderErrors.length,
            rms_error: Math.sqrt(ladderErrors.reduce((s, e) => s + e * e, 0) / ladderErrors.length),
            max_error: Math.max(...ladderErrors),
          }
        : 'none',
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
    const costs = simulateEfforts(sources[0]!, profile);
    const shipped = new Set(families[0]!.manifest.efforts.map((e) => e.effort));
    const compared = compareEfforts(
      timings.filter((t) => t.batch === batches[0] && shipped.has(t.effort)),
      costs,
    );
    pair = comparePair(compared, costs, choice);
  }
  return {
    model: names.join(' + '),
    model_dir: families.map((f) => f.dir).join(', '),
    file: opts.out,
    pair,
    profile,
    settings,
    points: fit.points.filter((_, i) => !isLadder[i]),
    weights: fit.weights.filter((_, i) => !isLadder[i]),
    ladder: ladderRows,
    leave_one_out: leaveOneEffortOut(sources, points, batches[0]!),
    leave_one_model_out: leaveOneModelOut(sources, points, batches[0]!),
    cross_model: crossModel(sources, points, batches[0]!),
    rms_error: fit.rms_error,
    max_error: fit.max_error,
  };
}

const PLAIN = { head: [], border: [] };
const COMPACT = { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' };
const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;

/** A point's label: family (when several), effort, and the extra mask it timed. */
function label(p: FitPoint, several: boolean): string {
  return `${several ? `${p.model} ` : ''}${p.effort}${p.mask !== undefined ? ` (${p.mask})` : ''}`;
}

function checkTable(title: string, rows: readonly FittedPoint[], several: boolean): string {
  const t = new Table({ head: ['effort', 'measured ms/img', title, 'error'], style: PLAIN, chars: COMPACT });
  for (const p of rows) t.push([label(p, several), p.measured_ms.toFixed(4), p.predicted_ms.toFixed(4), pct(p.error)]);
  return t.toString();
}

const worst = (rows: readonly FittedPoint[]) => pct(Math.max(...rows.map((p) => Math.abs(p.error)))).slice(1);

const transfers = (list: readonly Transfer[]) =>
  list.map((t) => `  ${t.from} -> ${t.to}: ${worst(t.rows)} (${t.rows.map((p) => pct(p.error)).join(', ')})\n`).join('');

/** The ladder's residuals: per probe, each effort's at every batch size, and the worst. */
function ladderTable(ladder: readonly LadderRow[], batches: readonly number[]): string {
  const t = new Table({
    head: ['probe', 'tokens x dim, depth', ...batches.map((b) => `residuals, batch ${b}`), 'worst'],
    style: PLAIN,
    chars: COMPACT,
  });
  for (const l of ladder)
    t.push([
      l.probe,
      `${l.tokens} x ${l.dim}, ${l.depth}`,
      ...batches.map((b) =>
        l.points
          .filter((p) => p.batch === b)
          .map((p) => `${p.effort}: ${pct(p.error)}`)
          .join(' '),
      ),
      worst(l.points),
    ]);
  const all = ladder.flatMap((l) => l.points);
  return `calibration ladder, fitted with the model (residual per effort):\n${t.toString()}\nladder residuals: worst ${worst(all)}`;
}

export function fitTable(r: FitReport): string {
  const several = r.leave_one_model_out.length > 0;
  const costs = new Table({ head: ['cost', 'ns'], style: PLAIN, chars: COMPACT });
  for (const [k, v] of Object.entries(r.profile.costs_ns)) costs.push([k, v.toPrecision(4)]);
  const pts = new Table({
    head: ['effort', 'batch', 'measured ms/img', 'fitted ms/img', 'residual', 'weight'],
    style: PLAIN,
    chars: COMPACT,
  });
  r.points.forEach((p, i) =>
    pts.push([label(p, several), p.batch, p.measured_ms.toFixed(4), p.predicted_ms.toFixed(4), pct(p.error), r.weights[i]!.toFixed(2)]),
  );
  const s = r.settings;
  const extra = r.points.filter((p) => p.mask !== undefined).length / s.batches.length;
  const ladderPoints = r.ladder.reduce((n, l) => n + l.points.length, 0);
  return (
    `${r.model}: device profile ${r.file} (${r.profile.device})\n` +
    `fitted on ${r.points.length + ladderPoints} drift-corrected medians: ${r.points.length / s.batches.length - extra} efforts and ${extra} extra masks` +
    `${ladderPoints ? `, and ${ladderPoints / s.batches.length} calibration graphs of ${r.ladder.length} probes (${s.calibration} ladder),` : ''} x batches ` +
    `${s.batches.join(', ')} (${s.rounds} interleaved rounds, ${s.clock} clock${s.min_turn_ms ? `, at least ${s.min_turn_ms} ms per case per round` : ''})\n` +
    `${costs.toString()}\nresiduals (relative, every point): rms ${pct(r.rms_error).slice(1)}, max ${pct(r.max_error).slice(1)}\n${pts.toString()}\n` +
    (r.ladder.length ? `${ladderTable(r.ladder, s.batches)}\n` : '') +
    `leave one effort out (every mask with as many attentions), batch ${r.profile.batch}: worst ${worst(r.leave_one_out)}\n` +
    `${checkTable('predicted (effort left out)', r.leave_one_out, several)}\n` +
    (several
      ? `leave one family out${r.ladder.length ? ' (the ladder kept)' : ''}, batch ${r.profile.batch}: worst ${worst(r.leave_one_model_out)}\n` +
        `${checkTable('predicted (family left out)', r.leave_one_model_out, several)}\n` +
        `fitted on one family alone${r.ladder.length ? ' (+ the ladder)' : ''}, predicting another's efforts at batch ${r.profile.batch} (worst error):\n` +
        transfers(r.cross_model.filter((t) => t.from !== 'ladder'))
      : '') +
    (r.ladder.length
      ? `fitted on the ladder alone, predicting each family's efforts at batch ${r.profile.batch} (worst error):\n` +
        transfers(r.cross_model.filter((t) => t.from === 'ladder'))
      : '') +
    (r.pair
      ? `deployed pair ${r.pair.low} -> ${r.pair.high} (Th ${r.pair.threshold}), F_L = ${r.pair.f_l.toFixed(4)} on ${r.pair.images} images: ` +
        `D_L + F_H*D_H measured ${r.pair.measured.pair_ms.toFixed(4)} ms/img, predicted ${r.pair.simulated.pair_ms.toFixed(4)} (${pct(r.pair.error)})\n`
      : '')
  );
}
