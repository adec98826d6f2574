/** The readable part of a guaranteed search: what is certified, how, the calibration size it needs, and one row per pair. */
import Table from 'cli-table3';
import { calibrationSize, certifiableRate, percentWithInterval } from '../../stats/index.js';
import { guaranteeStatement, type GuaranteedTrial, type GuaranteeOutcome } from './guarantee.js';
import { pointIntervals } from './intervals.js';
import type { SearchResult } from './types.js';

const pct = (v: number, digits = 2) => `${(v * 100).toFixed(digits)}%`;
const lossText = (g: GuaranteeOutcome) =>
  g.spec.loss === 'labelled'
    ? `labelled loss: the cascade's answer is wrong and effort ${g.reference}'s is right`
    : `label-free loss: the cascade's answer differs from effort ${g.reference}'s`;

function resultText(t: GuaranteedTrial): string {
  if (!t.tested) return 'not tested: D_L alone misses the delay';
  if (t.failed === 'guarantee')
    return `no certified Th${t.drop_bound_at_lec ? ` (at the LEC point: drop <= ${pct(t.drop_bound_at_lec.bound)})` : ''}`;
  if (t.failed === 'lec') return 'F_L < LEC';
  if (t.failed === 'delay') return 'misses the delay';
  return 'meets all';
}

/** Images needed, at the per-pair level, to certify eps with no loss and with a loss rate of half eps. */
function sizeAdvice(g: GuaranteeOutcome): string {
  const { maxDrop, pValue } = g.spec;
  const none = calibrationSize(maxDrop, g.alpha, 0, pValue);
  const half = calibrationSize(maxDrop, g.alpha, maxDrop / 2, pValue);
  return `images needed for a ${pct(maxDrop)} drop at ${g.alpha.toPrecision(3)}: ${none} if no loss is observed, ${half} if the loss rate is ${pct(maxDrop / 2)}`;
}

export function guaranteeReport(r: SearchResult, g: GuaranteeOutcome, style: { head: string[]; border?: string[] }): string[] {
  const n = r.batch.count;
  const lines = [
    `guarantee: ${guaranteeStatement(g.spec, n, g.reference)}`,
    `  method: Learn-then-Test, fixed sequence from Th = 0 up, ${g.spec.pValue === 'binomial' ? 'exact binomial' : 'Hoeffding-Bentkus'} p-values on the ${lossText(g)}`,
    `  ${g.pairs_tested} pair(s) can meet the delay target; each is tested at delta / ${g.pairs_tested} = ${g.alpha.toPrecision(3)}`,
    `  ${sizeAdvice(g)}`,
  ];
  if (r.batch.split === 'train')
    lines.push(
      '  warning: calibrating on the training split: a model fits the images it was trained on better, so the guarantee may not hold',
    );
  const table = new Table({
    head: ['pair (L,H)', 'certified Th', 'losses', 'p-value', 'F_L [95% CI]', 'accuracy [95% CI]', 'delay ms', 'result'],
    style,
  });
  for (const t of g.tried) {
    const cert = t.certificate?.certified;
    const ci = t.point && pointIntervals(t.point);
    table.push([
      `(${t.low},${t.high})`,
      cert ? String(cert.threshold) : '-',
      cert ? `${cert.losses}/${n}` : '-',
      cert ? cert.p_value.toPrecision(2) : '-',
      t.point ? percentWithInterval(t.point.fraction_low, ci!.fraction_low, 1) : '-',
      t.point ? percentWithInterval(t.point.accuracy, ci!.accuracy) : '-',
      t.delay_ms === undefined ? '-' : t.delay_ms.toFixed(4),
      resultText(t),
    ]);
  }
  lines.push(table.toString());
  const c = g.chosen?.certificate?.certified;
  if (c)
    lines.push(
      `certified: Th ${c.threshold} is the most aggressive threshold of (${g.chosen!.low},${g.chosen!.high}) that passed: ${c.losses} losses in ${n} images, ` +
        `p = ${c.p_value.toPrecision(2)} <= ${g.alpha.toPrecision(3)}; the drop this calibration certifies there: <= ${pct(certifiableRate(g.spec.pValue, c.losses, n, g.alpha))}`,
    );
  return lines;
}
