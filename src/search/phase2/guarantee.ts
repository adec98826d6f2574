/**
 * The accuracy-drop guarantee of `pivot search --max-drop eps --delta d`: per-image losses of
 * a (low, high) pair at each threshold, their certification by Learn-then-Test, and the
 * choice of a pair whose certified threshold also meets the LEC and the delay target.
 *
 * The drop is accuracy(reference effort alone) - accuracy(cascade), the reference being the
 * family's largest effort. It is at most the rate of "the cascade's answer is wrong and the
 * reference's is right" (the labelled loss), which is at most the rate of "the cascade's
 * answer differs from the reference's" (the label-free loss, which needs no labels). When the
 * pair's high effort is the reference, only images the low effort answers can cost a loss, so
 * both rates grow with the threshold; the grid is tested from Th = 0 (the safest) upwards, and
 * a certified rate <= eps bounds the drop by eps. (Fixed-sequence testing is valid in any
 * order fixed in advance; the order only decides how far it gets.)
 *
 * Every pair that could meet the delay target is tested at delta / m (m such pairs,
 * Bonferroni), so the chance that any certified threshold of any pair is wrong, and hence
 * that the pair picked afterwards (by delay, LEC or accuracy) is, stays at most delta.
 */
import type { EffortPair } from '../../cascade/index.js';
import { ConfigError } from '../../errors.js';
import { pairAverage } from '../../sim/index.js';
import { certifiableRate, P_VALUES, pValue, type PValueMethod } from '../../stats/index.js';
import type { EffortDelays } from './cost.js';
import { fixedSequence, type FixedSequenceResult } from './ltt.js';
import { meetsTarget, type DelayTarget, type PairTrial, type Pick, type Selection } from './select.js';
import { operatingPoint, pointAt, type EffortPredictions, type OperatingPoint } from './sweep.js';

export const LOSSES = ['labelled', 'label-free'] as const;
export type Loss = (typeof LOSSES)[number];

export interface GuaranteeSpec {
  /** eps: the largest accuracy drop (a fraction, 0.01 = one point) to certify. */
  maxDrop: number;
  /** The guarantee holds with probability at least 1 - delta over the calibration draw. */
  delta: number;
  loss: Loss;
  pValue: PValueMethod;
}

/** Bit set in lossIndicators when image i costs a loss if the low effort answers it. */
const WHEN_LOW = 1;
/** ... and if it is escalated to the high effort (only when the high effort is not the reference). */
const WHEN_HIGH = 2;

/**
 * Per image, whether the cascade's answer costs a loss against the reference effort (by
 * default the pair's high effort; the search uses the family's largest), for each of the two
 * ways the image can be routed. Labelled: the answer is wrong and the reference is right.
 * Label-free: the answer differs from the reference's.
 */
export function lossIndicators(
  low: EffortPredictions,
  high: EffortPredictions,
  labels: ArrayLike<number>,
  loss: Loss,
  reference: EffortPredictions = high,
): Uint8Array {
  const out = new Uint8Array(labels.length);
  const costs = (answer: number, i: number) =>
    loss === 'labelled' ? answer !== labels[i] && reference.classes[i] === labels[i] : answer !== reference.classes[i];
  for (let i = 0; i < labels.length; i++)
    out[i] = (costs(low.classes[i]!, i) ? WHEN_LOW : 0) | (costs(high.classes[i]!, i) ? WHEN_HIGH : 0);
  return out;
}

/** Calibration images with a loss at `threshold`, routed as the cascade routes them. */
export function lossCount(low: EffortPredictions, indicators: Uint8Array, threshold: number): number {
  let k = 0;
  // !(E <= Th) escalates (a NaN entropy too): the low effort answers exactly when E <= Th.
  for (let i = 0; i < indicators.length; i++) if (indicators[i]! & (low.entropies[i]! <= threshold ? WHEN_LOW : WHEN_HIGH)) k++;
  return k;
}

export interface PairCertificate extends FixedSequenceResult {
  /** Level each of this pair's tests ran at (delta / pairs tested). */
  alpha: number;
  images: number;
}

/** Fixed-sequence testing of one pair over `grid` (ascending: the safest threshold first), given its lossIndicators. */
export function certifyPair(
  low: EffortPredictions,
  indicators: Uint8Array,
  grid: readonly number[],
  spec: GuaranteeSpec,
  alpha: number,
): PairCertificate {
  const n = indicators.length;
  const result = fixedSequence(
    grid,
    (i) => lossCount(low, indicators, grid[i]!),
    (k) => pValue(spec.pValue, k, n, spec.maxDrop),
    alpha,
  );
  return { ...result, alpha, images: n };
}

/** Why a pair was not chosen. */
type FailedConstraint = 'delay' | 'guarantee' | 'lec';

export interface GuaranteedTrial extends EffortPair {
  /** Whether the pair was tested: only pairs whose low effort alone can meet the delay target are. */
  tested: boolean;
  certificate?: PairCertificate;
  /** At the certified (most aggressive) threshold. */
  point?: OperatingPoint;
  delay_low_ms: number;
  delay_high_ms: number;
  delay_ms?: number;
  /** The smallest eps certifiable at the pair's LEC point (its smallest threshold with F_L >= LEC). */
  drop_bound_at_lec?: { threshold: number; losses: number; bound: number };
  failed?: FailedConstraint;
}

export interface GuaranteedSelection {
  tried: GuaranteedTrial[];
  /** Pairs tested (m) and the level each ran at (delta / m). */
  pairs_tested: number;
  alpha: number;
  chosen?: GuaranteedTrial;
  /** With no winner: the pair nearest to meeting every constraint, and what it misses. */
  closest?: GuaranteedTrial;
}

/** What every pair is judged on: the calibration predictions and labels, the delays and the constraints. */
export interface PairInputs {
  predictions: ReadonlyMap<number, EffortPredictions>;
  labels: ArrayLike<number>;
  delays: EffortDelays;
  lec: number;
  grid: readonly number[];
  target: DelayTarget;
  /** The effort the drop is measured against (default: each pair's high effort); the search uses the largest. */
  reference?: number;
}

function tryPair(pair: EffortPair, inputs: PairInputs, spec: GuaranteeSpec, alpha: number): GuaranteedTrial {
  const { predictions, labels, delays, lec, grid, target } = inputs;
  const delay_low_ms = delays.byEffort.get(pair.low)!.asLow;
  const delay_high_ms = delays.byEffort.get(pair.high)!.asHigh;
  const base = { ...pair, delay_low_ms, delay_high_ms };
  if (!meetsTarget(delay_low_ms, target)) return { ...base, tested: false, failed: 'delay' };
  const low = predictions.get(pair.low)!;
  const high = predictions.get(pair.high)!;
  const indicators = lossIndicators(low, high, labels, spec.loss, predictions.get(inputs.reference ?? pair.high)!);
  const certificate = certifyPair(low, indicators, grid, spec, alpha);
  const lecPoint = operatingPoint(low, high, labels, lec, grid);
  const lecLosses = lecPoint && lossCount(low, indicators, lecPoint.threshold);
  const drop_bound_at_lec = lecPoint && {
    threshold: lecPoint.threshold,
    losses: lecLosses!,
    bound: certifiableRate(spec.pValue, lecLosses!, labels.length, alpha),
  };
  if (!certificate.certified) return { ...base, tested: true, certificate, drop_bound_at_lec, failed: 'guarantee' };
  const point = pointAt(low, high, labels, certificate.certified.threshold);
  const delay_ms = pairAverage(delay_low_ms, delay_high_ms, point.fraction_low);
  const failed = point.fraction_low < lec ? 'lec' : !meetsTarget(delay_ms, target) ? 'delay' : undefined;
  return { ...base, tested: true, certificate, point, delay_ms, drop_bound_at_lec, ...(failed ? { failed } : {}) };
}

/** The pair nearest to a solution: by delay among those meeting the guarantee and LEC, else by F_L, else by the drop certifiable at the LEC. */
function closestTrial(tried: readonly GuaranteedTrial[]): GuaranteedTrial | undefined {
  const best = (ts: GuaranteedTrial[], key: (t: GuaranteedTrial) => number) =>
    ts.reduce<GuaranteedTrial | undefined>((b, t) => (!b || key(t) < key(b) ? t : b), undefined);
  const slow = tried.filter((t) => t.failed === 'delay' && t.point);
  if (slow.length) return best(slow, (t) => t.delay_ms!);
  const short = tried.filter((t) => t.failed === 'lec');
  if (short.length) return best(short, (t) => -t.point!.fraction_low);
  const uncertified = tried.filter((t) => t.drop_bound_at_lec);
  if (uncertified.length) return best(uncertified, (t) => t.drop_bound_at_lec!.bound);
  return best(tried.slice(), (t) => t.delay_low_ms);
}

/**
 * Walks the pairs in order like selectPair, but each pair's threshold is its most aggressive
 * certified one, and a pair must meet the guarantee, the LEC and the delay target.
 */
export function selectGuaranteed(
  order: readonly EffortPair[],
  inputs: PairInputs,
  spec: GuaranteeSpec,
  pick: Pick = 'first',
): GuaranteedSelection {
  // Which pairs are tested is fixed by the delays alone, before any calibration image is looked at.
  const pairs_tested = order.filter((p) => meetsTarget(inputs.delays.byEffort.get(p.low)!.asLow, inputs.target)).length;
  const alpha = pairs_tested ? spec.delta / pairs_tested : spec.delta;
  const tried: GuaranteedTrial[] = [];
  let chosen: GuaranteedTrial | undefined;
  for (const pair of order) {
    const trial = tryPair(pair, inputs, spec, alpha);
    tried.push(trial);
    if (trial.failed) continue;
    if (pick === 'first') return { tried, pairs_tested, alpha, chosen: trial };
    if (!chosen || trial.point!.accuracy > chosen.point!.accuracy) chosen = trial;
  }
  return chosen ? { tried, pairs_tested, alpha, chosen } : { tried, pairs_tested, alpha, closest: closestTrial(tried) };
}

/** A guaranteed search's outcome: the spec and what the pairs gave. */
export interface GuaranteeOutcome extends GuaranteedSelection {
  spec: GuaranteeSpec;
  /** The effort the drop is measured against: the family's largest. */
  reference: number;
}

/** Calibration images the search draws by default when a guarantee is asked for (256 certify little: see calibrationSize). */
export const GUARANTEE_DEFAULT_IMAGES = 2000;

/** --max-drop, --delta, --loss, --p-value as a spec, or undefined when no guarantee is asked for. */
export function guaranteeSpec(opts: { maxDrop?: number; delta?: number; loss?: Loss; pValue?: PValueMethod }): GuaranteeSpec | undefined {
  if (opts.maxDrop === undefined) {
    for (const [name, value] of [
      ['--delta', opts.delta],
      ['--loss', opts.loss],
      ['--p-value', opts.pValue],
    ] as const)
      if (value !== undefined) throw new ConfigError(`${name}: applies with --max-drop only`);
    return undefined;
  }
  if (!(opts.maxDrop > 0 && opts.maxDrop < 1))
    throw new ConfigError(`--max-drop: ${opts.maxDrop} is not a fraction in (0, 1) (0.01 = one point of accuracy)`);
  if (opts.delta === undefined)
    throw new ConfigError('--delta is required with --max-drop: the chance, in (0, 1), that the guarantee may fail');
  if (!(opts.delta > 0 && opts.delta < 1)) throw new ConfigError(`--delta: ${opts.delta} is not a number in (0, 1)`);
  if (opts.loss !== undefined && !LOSSES.includes(opts.loss))
    throw new ConfigError(`--loss: '${opts.loss}' is not one of ${LOSSES.join(', ')}`);
  if (opts.pValue !== undefined && !P_VALUES.includes(opts.pValue))
    throw new ConfigError(`--p-value: '${opts.pValue}' is not one of ${P_VALUES.join(', ')}`);
  return { maxDrop: opts.maxDrop, delta: opts.delta, loss: opts.loss ?? 'labelled', pValue: opts.pValue ?? 'binomial' };
}

/** A guaranteed trial in the plain search's terms (its point is the certified one), for the shared report, JSON and deploy writer. */
function asPairTrial(t: GuaranteedTrial): PairTrial {
  return {
    low: t.low,
    high: t.high,
    ...(t.point ? { point: t.point } : {}),
    delay_low_ms: t.delay_low_ms,
    delay_high_ms: t.delay_high_ms,
    ...(t.delay_ms !== undefined ? { delay_ms: t.delay_ms } : {}),
    meets: !t.failed,
  };
}

export function asSelection(g: GuaranteedSelection): Selection {
  return {
    tried: g.tried.map(asPairTrial),
    ...(g.chosen ? { chosen: asPairTrial(g.chosen) } : {}),
    ...(g.closest ? { closest: asPairTrial(g.closest) } : {}),
  };
}

const pct = (v: number, digits = 2) => `${(v * 100).toFixed(digits)}%`;

/** Why no pair was chosen: a count per failed constraint and the closest pair with what it misses. */
export function unmetMessage(g: GuaranteeOutcome, lec: number, target: DelayTarget): string {
  const count = (f: FailedConstraint) => g.tried.filter((t) => t.failed === f).length;
  const parts = [
    `${count('guarantee')} pair(s) have no threshold certified at a drop <= ${pct(g.spec.maxDrop)}`,
    `${count('lec')} answer less than the LEC ${lec} at their certified threshold`,
    `${count('delay')} miss the delay target ${target.ms.toFixed(4)} ms (+${(target.tolerance * 100).toFixed(1)}%)`,
  ];
  const c = g.closest;
  let closest = '';
  if (c?.failed === 'delay' && c.point)
    closest = `closest: (${c.low},${c.high}) at Th ${c.point.threshold}: ${c.delay_ms!.toFixed(4)} ms, F_L ${c.point.fraction_low.toFixed(3)}`;
  else if (c?.failed === 'lec' && c.point)
    closest = `closest: (${c.low},${c.high}) answers F_L ${c.point.fraction_low.toFixed(3)} at its certified Th ${c.point.threshold}`;
  else if (c?.drop_bound_at_lec)
    closest =
      `closest: (${c.low},${c.high}) at Th ${c.drop_bound_at_lec.threshold} (its LEC point) certifies a drop <= ${pct(c.drop_bound_at_lec.bound)} ` +
      `(${c.drop_bound_at_lec.losses} loss${c.drop_bound_at_lec.losses === 1 ? '' : 'es'} in ${c.certificate!.images} images): raise --max-drop to that, or calibrate on more --images`;
  else if (c) closest = `closest: (${c.low},${c.high}), whose low effort alone takes ${c.delay_low_ms.toFixed(4)} ms`;
  return `no effort pair meets the guarantee, the LEC and the delay target: ${parts.join('; ')}${closest ? `; ${closest}` : ''}`;
}

/** Plain words for deploy.json, `pivot eval` and `pivot run`. */
export function guaranteeStatement(spec: GuaranteeSpec, images: number, reference: number): string {
  return (
    `with probability >= ${pct(1 - spec.delta, 1)} over the draw of the ${images} calibration images, the accuracy lost against ` +
    `always running effort ${reference} is <= ${pct(spec.maxDrop)} on images from the same distribution as the calibration images`
  );
}

/** deploy.json `metadata.guarantee` (and the --json `guarantee`): what is certified, how, and on which calibration images. */
export function guaranteeMetadata(
  g: GuaranteeOutcome,
  calibration: { source: string; split?: string; count: number; seed: number },
): Record<string, unknown> {
  const cert = g.chosen?.certificate?.certified;
  return {
    statement: guaranteeStatement(g.spec, calibration.count, g.reference),
    reference_effort: g.reference,
    max_drop: g.spec.maxDrop,
    delta: g.spec.delta,
    loss: g.spec.loss,
    p_value: g.spec.pValue,
    method: 'Learn-then-Test, fixed-sequence over the threshold grid from 0 up, Bonferroni over the pairs tested',
    calibration: {
      source: calibration.source,
      ...(calibration.split ? { split: calibration.split } : {}),
      images: calibration.count,
      seed: calibration.seed,
    },
    pair: g.chosen ? { low: g.chosen.low, high: g.chosen.high } : null,
    pairs_tested: g.pairs_tested,
    alpha_per_pair: g.alpha,
    certified_threshold: cert ? cert.threshold : null,
    losses: cert ? cert.losses : null,
    p_value_at_threshold: cert ? cert.p_value : null,
    drop_bound: cert ? certifiableRate(g.spec.pValue, cert.losses, calibration.count, g.alpha) : null,
  };
}
