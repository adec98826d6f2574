/** `pivot bench` output: a readable table, one JSON object, or the per-effort table as CSV. */
import Table from 'cli-table3';
import type { PairComparison } from './pair.js';
import type { BenchReport } from './run.js';

/** No colour, and no separator line between rows. */
const PLAIN = { head: [], border: [] };
const COMPACT = { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' };
const fixed = (v: number, digits: number) => v.toFixed(digits);
const corr = (v: number | null) => (v === null ? 'n/a' : v.toFixed(3));

export const CSV_COLUMNS = [
  'effort',
  'active',
  'measured_ms',
  'measured_p95_ms',
  'measured_ratio',
  'simulated_ms',
  'simulated_ratio',
  'ratio_of_ratios',
  'error',
] as const;

export function benchCsv(report: BenchReport): string {
  const lines = report.efforts.rows.map((r) =>
    [
      r.effort,
      r.active.join(''),
      r.measured_ms,
      r.measured_p95_ms,
      r.measured_ratio,
      r.simulated_ms,
      r.simulated_ratio,
      r.ratio_of_ratios,
      r.error,
    ].join(','),
  );
  return `${CSV_COLUMNS.join(',')}\n${lines.join('\n')}\n`;
}

export function benchJson(report: BenchReport): string {
  return JSON.stringify(report);
}

const signedPct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;

/** The first words of either table: the model, this device and how it was timed. */
function measuredOn(report: BenchReport): string {
  const s = report.settings;
  return (
    `${report.model}: measured on ${report.device.cpu} (onnxruntime-node, ${s.threads} thread(s), batch ${s.batch}, ` +
    `${s.rounds} interleaved rounds x ${s.iterations} calls per effort${s.clock === 'cpu' ? ', CPU-time clock' : ''})`
  );
}

/**
 * The deployed pair's D_L, D_H and D_L + F_H*D_H, measured and as `predictedBy` gives them, after the
 * line saying where F_L was measured; with `fullEffort`, a column of ratios to that effort.
 */
function pairTable(pair: PairComparison, predictedBy: string, fullEffort?: number): string {
  const head = [`pair ${pair.low} -> ${pair.high} (Th ${pair.threshold})`, 'D_L ms', 'D_H ms', 'D_L + F_H*D_H ms'];
  const t = new Table({
    head: fullEffort === undefined ? head : [...head, `ratio to effort ${fullEffort}`],
    style: PLAIN,
    chars: COMPACT,
  });
  for (const [name, side] of [
    ['measured', pair.measured],
    [predictedBy, pair.simulated],
  ] as const) {
    const row = [name, fixed(side.low_ms, 4), fixed(side.high_ms, 4), fixed(side.pair_ms, 4)];
    t.push(fullEffort === undefined ? row : [...row, fixed(side.ratio, 3)]);
  }
  const fLine = `F_L = ${fixed(pair.f_l, 4)} (F_H = ${fixed(pair.f_h, 4)}) measured on ${pair.images} images of ${pair.data}`;
  return `\n${fLine}\n${t.toString()}\n`;
}

/** With a device profile: measured vs predicted ms per effort and for the pair, and the error. */
function predictionTable(report: BenchReport): string {
  const { efforts, pair } = report;
  const head = `${measuredOn(report)} vs the device profile ${report.hardware}\n`;
  const t = new Table({
    head: ['effort', 'active', 'measured ms/img (median)', 'p95', 'predicted ms/img', 'error'],
    style: PLAIN,
    chars: COMPACT,
  });
  for (const r of efforts.rows)
    t.push([
      r.effort,
      r.active.join(''),
      fixed(r.measured_ms, 4),
      fixed(r.measured_p95_ms, 4),
      fixed(r.simulated_ms, 4),
      signedPct(r.error),
    ]);
  const worst = Math.max(...efforts.rows.map((r) => Math.abs(r.error)));
  let out = `${head}${t.toString()}\nworst effort error ${(worst * 100).toFixed(1)}%\n`;
  if (pair) out += `${pairTable(pair, 'predicted')}pair error ${signedPct(pair.error)}\n`;
  return `${out}${report.note}\n`;
}

export function benchTable(report: BenchReport): string {
  if (report.hardware_kind === 'cpu') return predictionTable(report);
  const { efforts, pair } = report;
  const full = efforts.full_effort;
  const head = `${measuredOn(report)} vs PIVOT-Sim on ${report.hardware}\n`;
  const t = new Table({
    head: [
      'effort',
      'active',
      'measured ms/img (median)',
      'p95',
      `ratio to ${full}`,
      'sim ms/img',
      `sim ratio to ${full}`,
      'measured/sim ratio',
    ],
    style: PLAIN,
    chars: COMPACT,
  });
  for (const r of efforts.rows)
    t.push([
      r.effort,
      r.active.join(''),
      fixed(r.measured_ms, 4),
      fixed(r.measured_p95_ms, 4),
      fixed(r.measured_ratio, 3),
      fixed(r.simulated_ms, 4),
      fixed(r.simulated_ratio, 3),
      fixed(r.ratio_of_ratios, 3),
    ]);
  let out = `${head}${t.toString()}\n`;
  out += `correlation over ${efforts.rows.length} efforts (measured vs simulated ms): Spearman ${corr(efforts.correlation.spearman)}, Pearson ${corr(efforts.correlation.pearson)}\n`;
  if (pair) {
    out += pairTable(pair, 'PIVOT-Sim', full);
    out += `measured/sim pair ratio: ${fixed(pair.ratio_of_ratios, 3)} (the simulated D_L includes Eq. 3's entropy on the host)\n`;
  }
  out += `\nmeasured/sim ratio > 1: the effort costs relatively more (of the full effort) on this device than PIVOT-Sim predicts on ${report.hardware}.\n`;
  return `${out}${report.note}\n`;
}
