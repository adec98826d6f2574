/** How a search is shown: the table, the --json object and the settings deploy.json's metadata records, each assembled here once. */
import Table from 'cli-table3';
import { percentWithInterval } from '../../stats/index.js';
import { guaranteeMetadata } from './guarantee.js';
import { guaranteeReport } from './guarantee-report.js';
import { intervalPair, pointIntervals } from './intervals.js';
import { scoreComparisonLines } from './scores.js';
import type { DelayTarget, PairTrial } from './select.js';
import type { SearchResult } from './types.js';

const round = (v: number, digits = 6) => Number(v.toFixed(digits));

export interface TrialRow {
  low: number;
  high: number;
  threshold: number | null;
  fraction_low: number | null;
  /** 95% Clopper-Pearson interval of F_L over the batch. */
  fraction_low_ci: [number, number] | null;
  accuracy: number | null;
  accuracy_ci: [number, number] | null;
  delay_low_ms: number;
  delay_high_ms: number;
  delay_ms: number | null;
  meets: boolean;
}

export function trialRow(t: PairTrial): TrialRow {
  const ci = t.point && pointIntervals(t.point);
  return {
    low: t.low,
    high: t.high,
    threshold: t.point ? t.point.threshold : null,
    fraction_low: t.point ? round(t.point.fraction_low) : null,
    fraction_low_ci: ci ? intervalPair(ci.fraction_low) : null,
    accuracy: t.point ? round(t.point.accuracy) : null,
    accuracy_ci: ci ? intervalPair(ci.accuracy) : null,
    delay_low_ms: round(t.delay_low_ms),
    delay_high_ms: round(t.delay_high_ms),
    delay_ms: t.delay_ms === undefined ? null : round(t.delay_ms),
    meets: t.meets,
  };
}

/** What the search ran with (data, LEC, grid, pick, delay target and cost): in --json and in deploy.json's metadata. */
export function searchSettings(r: SearchResult) {
  const { batch, target, delays } = r;
  return {
    data: { source: batch.source, ...(batch.split ? { split: batch.split } : {}), images: batch.count, seed: batch.seed },
    lec: r.lec,
    threshold_step: r.step,
    pick: r.pick,
    delay: { target_ms: target.ms, ...target.given, tolerance: target.tolerance, cost: delays.source, hardware: delays.hardware },
  };
}

/** The --json object: the settings, every pair tried, the choice (or null), the closest miss, the file written and the guarantee. */
export function searchJson(r: SearchResult): Record<string, unknown> {
  const c = r.chosen;
  return {
    model: r.family.dir,
    ...searchSettings(r),
    pairs_tried: r.tried.map(trialRow),
    chosen: c?.point ? { ...trialRow(c), ...c.point } : null,
    closest: r.closest ? trialRow(r.closest) : null,
    written: r.written ?? null,
    ...(r.guarantee ? { guarantee: guaranteeMetadata(r.guarantee, r.batch) } : {}),
    ...(r.scoreComparison ? { score_comparison: r.scoreComparison } : {}),
  };
}

export function targetText(target: DelayTarget): string {
  const g = target.given;
  const how = 'delay_ratio' in g ? `${g.delay_ratio} x effort ${g.full_effort}'s ${g.full_delay_ms.toFixed(4)} ms` : 'given';
  return `${target.ms.toFixed(4)} ms (${how}), tolerance ${(target.tolerance * 100).toFixed(1)}%`;
}

/** The readable report: settings, the table of pairs tried, and the choice (or the closest miss). */
export function searchReport(r: SearchResult, style: { head: string[]; border?: string[] }): string {
  const lines = [
    `model: ${r.family.dir}`,
    `batch: ${r.batch.dataset.description}`,
    r.lec === 'auto'
      ? `LEC: auto (each pair's threshold is the smallest whose delay meets the target), threshold step ${r.step}`
      : `LEC (F_L >= LEC): ${r.lec}, threshold step ${r.step}`,
    `delays: ${r.delays.source === 'sim' ? `PIVOT-Sim on ${r.delays.hardware}` : r.delays.hardware}`,
    `target: ${targetText(r.target)}`,
  ];
  if (r.guarantee) lines.push(...guaranteeReport(r, r.guarantee, style));
  else {
    const table = new Table({
      head: ['pair (L,H)', 'Th', 'F_L [95% CI]', 'accuracy [95% CI]', 'D_L ms', 'D_H ms', 'delay ms', 'meets?'],
      style,
    });
    for (const t of r.tried) {
      const ci = t.point && pointIntervals(t.point);
      table.push([
        `(${t.low},${t.high})`,
        t.point ? String(t.point.threshold) : '-',
        t.point
          ? percentWithInterval(t.point.fraction_low, ci!.fraction_low, 1)
          : r.lec === 'auto'
            ? 'D_L misses the target'
            : 'LEC unreachable',
        t.point ? percentWithInterval(t.point.accuracy, ci!.accuracy) : '-',
        t.delay_low_ms.toFixed(4),
        t.delay_high_ms.toFixed(4),
        t.delay_ms === undefined ? '-' : t.delay_ms.toFixed(4),
        t.meets ? 'yes' : 'no',
      ]);
    }
    lines.push(table.toString());
  }
  const c = r.chosen;
  if (c?.point) {
    const ci = pointIntervals(c.point);
    lines.push(
      `chosen: low ${c.low}, high ${c.high}, threshold ${c.point.threshold}: accuracy ${percentWithInterval(c.point.accuracy, ci.accuracy)}, ` +
        `F_L ${percentWithInterval(c.point.fraction_low, ci.fraction_low, 1)} ` +
        `(C_L ${c.point.correct_low}, I_L ${c.point.incorrect_low}, C_H ${c.point.correct_high}, I_H ${c.point.incorrect_high}), ` +
        `delay ${c.delay_ms!.toFixed(4)} ms (${((c.delay_ms! / r.target.ms) * 100).toFixed(1)}% of the target)`,
    );
    lines.push(
      `(95% Clopper-Pearson intervals over the ${c.point.images} batch images; the pair was chosen on them, so check it on other images with pivot eval)`,
    );
  } else if (r.closest && !r.guarantee)
    lines.push(`no pair meets the target; closest: (${r.closest.low},${r.closest.high}) at ${r.closest.delay_ms!.toFixed(4)} ms`);
  if (r.scoreComparison) lines.push(...scoreComparisonLines(r.scoreComparison, style));
  if (r.written) lines.push(`wrote ${r.written}`);
  return lines.join('\n');
}
