/**
 * `pivot search --compare-scores`: how well each routing score (cascade/score.ts) tells when
 * the low effort is wrong, on the search's own images. Two measures: the AUROC for "the low
 * effort is wrong" (1 = every wrong answer scores above every right one), and the accuracy of
 * the chosen pair when each score routes the same fraction F_L of the images to the low effort
 * (its F_L most confident ones), so the scores are compared at equal cost.
 */
import Table from 'cli-table3';
import type { EffortPair } from '../../cascade/index.js';
import { ROUTING_SCORES, type RoutingScore } from '../../cascade/score.js';
import { seededRandom } from '../phase1/rng.js';
import { auroc, clopperPearson, type Interval } from '../../stats/index.js';
import type { EffortPredictions } from './sweep.js';

/** One effort's values of `score` per image. */
function scoreValues(p: EffortPredictions, score: RoutingScore): Float64Array {
  if (score === 'entropy') return p.entropies;
  const values = p.scores?.[score];
  if (!values) throw new Error(`the predictions carry no ${score} scores`);
  return values;
}

/** The pair's accuracy when the low effort answers the round(fraction x n) images it is surest of by `values` (a NaN score is never answered). */
export function accuracyAtFraction(
  low: EffortPredictions,
  high: EffortPredictions,
  labels: ArrayLike<number>,
  values: Float64Array,
  fraction: number,
): number {
  const n = labels.length;
  const key = (i: number) => (Number.isNaN(values[i]!) ? Infinity : values[i]!);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => key(a) - key(b) || a - b);
  const answered = new Uint8Array(n);
  for (let j = 0; j < Math.round(fraction * n); j++) answered[order[j]!] = 1;
  let correct = 0;
  for (let i = 0; i < n; i++) if ((answered[i] ? low : high).classes[i] === labels[i]) correct++;
  return correct / n;
}

interface ScoreRow {
  score: RoutingScore;
  /** AUROC for "the pair's low effort is wrong". */
  auroc: number;
  /** 95% paired-bootstrap interval of auroc - auroc(entropy) (zero width for entropy itself). */
  auroc_vs_entropy: Interval;
  accuracy: number;
  accuracy_ci: Interval;
}

export interface ScoreComparison {
  pair: EffortPair;
  fraction_low: number;
  images: number;
  rows: ScoreRow[];
  /** AUROC of every score for every effort that can be a low effort. */
  by_effort: { effort: number; accuracy: number; auroc: Record<RoutingScore, number> }[];
}

const wrongOf = (p: EffortPredictions, labels: ArrayLike<number>) => Uint8Array.from(p.classes, (c, i) => Number(c !== labels[i]));

/** Percentile interval of AUROC(score) - AUROC(entropy) over `rounds` resamples of the images (the same resample for both). */
function pairedBootstrap(entropy: Float64Array, other: Float64Array, wrong: Uint8Array, rounds: number, seed: number): Interval {
  const random = seededRandom(seed);
  const n = wrong.length;
  const diffs: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const idx = Array.from({ length: n }, () => Math.floor(random() * n));
    const w = Uint8Array.from(idx, (i) => wrong[i]!);
    const d =
      auroc(
        Float64Array.from(idx, (i) => other[i]!),
        w,
      ) -
      auroc(
        Float64Array.from(idx, (i) => entropy[i]!),
        w,
      );
    if (!Number.isNaN(d)) diffs.push(d);
  }
  diffs.sort((a, b) => a - b);
  const at = (q: number) => diffs[Math.min(diffs.length - 1, Math.max(0, Math.round(q * (diffs.length - 1))))] ?? NaN;
  return { lower: at(0.025), upper: at(0.975) };
}

export function compareScores(
  predictions: ReadonlyMap<number, EffortPredictions>,
  labels: ArrayLike<number>,
  pair: EffortPair,
  fraction: number,
  options: { rounds?: number; seed?: number } = {},
): ScoreComparison {
  const low = predictions.get(pair.low)!;
  const high = predictions.get(pair.high)!;
  const wrong = wrongOf(low, labels);
  const n = labels.length;
  const rows = ROUTING_SCORES.map((score): ScoreRow => {
    const values = scoreValues(low, score);
    const accuracy = accuracyAtFraction(low, high, labels, values, fraction);
    return {
      score,
      auroc: auroc(values, wrong),
      auroc_vs_entropy:
        score === 'entropy'
          ? { lower: 0, upper: 0 }
          : pairedBootstrap(low.entropies, values, wrong, options.rounds ?? 200, options.seed ?? 1),
      accuracy,
      accuracy_ci: clopperPearson(Math.round(accuracy * n), n),
    };
  });
  const top = Math.max(...predictions.keys());
  const by_effort = [...predictions.entries()]
    .filter(([effort]) => effort < top)
    .sort(([a], [b]) => a - b)
    .map(([effort, p]) => {
      const w = wrongOf(p, labels);
      return {
        effort,
        accuracy: 1 - w.reduce((a, b) => a + b, 0) / n,
        auroc: Object.fromEntries(ROUTING_SCORES.map((s) => [s, auroc(scoreValues(p, s), w)])) as Record<RoutingScore, number>,
      };
    });
  return { pair: { low: pair.low, high: pair.high }, fraction_low: fraction, images: n, rows, by_effort };
}

const pctCi = (v: number, i: Interval) => `${(v * 100).toFixed(2)}% [${(i.lower * 100).toFixed(1)}, ${(i.upper * 100).toFixed(1)}]`;

/** The comparison as two tables: the chosen pair at its F_L, then the AUROC of every low effort. */
export function scoreComparisonLines(c: ScoreComparison, style: { head: string[]; border?: string[] }): string[] {
  const pair = new Table({
    head: [
      'score',
      `AUROC (effort ${c.pair.low} wrong)`,
      'minus entropy [95% CI]',
      `accuracy of (${c.pair.low},${c.pair.high}) at F_L ${c.fraction_low.toFixed(3)} [95% CI]`,
    ],
    style,
  });
  for (const r of c.rows)
    pair.push([
      r.score,
      r.auroc.toFixed(4),
      r.score === 'entropy'
        ? '-'
        : `${(r.auroc - c.rows[0]!.auroc).toFixed(4)} [${r.auroc_vs_entropy.lower.toFixed(4)}, ${r.auroc_vs_entropy.upper.toFixed(4)}]`,
      pctCi(r.accuracy, r.accuracy_ci),
    ]);
  const efforts = new Table({ head: ['low effort', 'accuracy', ...ROUTING_SCORES.map((s) => `AUROC ${s}`)], style });
  for (const e of c.by_effort)
    efforts.push([String(e.effort), `${(e.accuracy * 100).toFixed(2)}%`, ...ROUTING_SCORES.map((s) => e.auroc[s].toFixed(4))]);
  return [
    `routing scores on the ${c.images} batch images (AUROC for "the low effort is wrong"; accuracy with each score answering the same F_L):`,
    pair.toString(),
    efforts.toString(),
  ];
}
