/** Phase 2 end to end: draw the batch, run every effort once, cost the efforts, walk the pairs, write deploy.json. */
import { resolve } from 'node:path';
import { defaultDeployPath } from '../../config/deploy.js';
import { requireDefaultDataset } from '../../data/index.js';
import { ConfigError } from '../../errors.js';
import { loadModelFamily, ModelRuntime } from '../../model/index.js';
import { drawBatch, predictEffort } from './batch.js';
import { deviceDelays, simDelays, type EffortDelays } from './cost.js';
import { writeDeploy } from './deploy.js';
import { DelayTargetError } from './errors.js';
import { asSelection, GUARANTEE_DEFAULT_IMAGES, guaranteeSpec, selectGuaranteed, unmetMessage } from './guarantee.js';
import { pairOrder } from './order.js';
import { compareScores } from './scores.js';
import { checkTarget, resolveTarget, selectPair, type TargetOptions } from './select.js';
import { thresholdGrid, type EffortPredictions } from './sweep.js';
import type { SearchOptions, SearchResult } from './types.js';

/** Option checks that need no model or data, so a typo fails before any work. */
function checkOptions(opts: SearchOptions, target: TargetOptions): void {
  if (opts.lec === undefined && opts.maxDrop === undefined)
    throw new ConfigError('--lec is required (it is optional, 0 by default, with --max-drop)');
  if (opts.lec === 'auto') {
    if (opts.maxDrop !== undefined)
      throw new ConfigError(
        '--lec auto sets thresholds by the delay target; with --max-drop they are certified instead: give a number or no --lec',
      );
  } else if (opts.lec !== undefined && !(opts.lec >= 0 && opts.lec <= 1))
    throw new ConfigError(`--lec: ${opts.lec} is not a number in [0, 1] or auto`);
  if (opts.out !== undefined && resolve(opts.out) === defaultDeployPath())
    throw new ConfigError(
      `--out: ${resolve(opts.out)} is the shipped deploy config; write the search result elsewhere and point --deploy at it`,
    );
  if (opts.split !== undefined && opts.split !== 'train' && opts.split !== 'test')
    throw new ConfigError(`--split: '${opts.split}' is not train or test`);
  if (opts.rounds !== undefined && !(Number.isInteger(opts.rounds) && opts.rounds > 0))
    throw new ConfigError(`--rounds: ${opts.rounds} is not a positive integer`);
  checkTarget(target);
}

/** Why no pair was chosen, with the closest miss. */
function missMessage({ target, lec, closest, tried }: SearchResult): string {
  const missed = `no effort pair meets the delay target ${target.ms.toFixed(4)} ms (+${(target.tolerance * 100).toFixed(1)}% tolerance)`;
  if (lec === 'auto') {
    // Only a pair whose low effort alone is too slow has no threshold under auto.
    const fastest = tried.reduce((a, b) => (b.delay_low_ms < a.delay_low_ms ? b : a));
    return `${missed}: no low effort alone is fast enough; the fastest, effort ${fastest.low}, takes ${fastest.delay_low_ms.toFixed(4)} ms`;
  }
  const near = closest ? `closest: (${closest.low},${closest.high}) at ${closest.delay_ms!.toFixed(4)} ms` : 'no pair reached the LEC';
  return `${missed} at LEC ${lec}; ${near}`;
}

export async function runSearch(opts: SearchOptions): Promise<SearchResult> {
  const targetOptions = { delay: opts.delay, delayRatio: opts.delayRatio, tolerance: opts.tolerance ?? 0.05 };
  checkOptions(opts, targetOptions);
  const spec = guaranteeSpec(opts);
  const lec = opts.lec ?? 0;
  const step = opts.step ?? 0.01;
  const grid = thresholdGrid(step);
  const family = loadModelFamily(opts.model);
  const efforts = family.manifest.efforts.map((e) => e.effort);
  if (efforts.length < 2) throw new ConfigError(`${family.manifestPath}: Phase 2 needs at least two efforts, found ${efforts.length}`);
  const cost = opts.cost ?? 'sim';
  // Sim delays first: a bad --hardware fails before any inference.
  const simulated = cost === 'sim' ? simDelays(family.dir, opts.hardware ?? 'zcu102', efforts) : undefined;
  const batch = await drawBatch({
    data: opts.data ?? requireDefaultDataset(family, 'tune'),
    split: opts.split ?? (spec ? 'test' : 'train'),
    images: opts.images ?? (spec ? GUARANTEE_DEFAULT_IMAGES : 256),
    seed: opts.seed ?? 1,
    manifest: family.manifest,
  });
  const runtime = new ModelRuntime(family, { intraOpThreads: opts.threads });
  let delays: EffortDelays;
  const predictions = new Map<number, EffortPredictions>();
  try {
    for (const e of efforts) predictions.set(e, await predictEffort(runtime, e, batch));
    delays = simulated ?? (await deviceDelays(runtime, efforts, opts.rounds ?? 5));
  } finally {
    await runtime.close();
  }
  const target = resolveTarget(targetOptions, delays);
  const pick = opts.pick ?? 'first';
  const order = pairOrder(efforts);
  const reference = Math.max(...efforts);
  const guarantee = spec &&
    lec !== 'auto' && {
      spec,
      reference,
      ...selectGuaranteed(order, { predictions, labels: batch.labels, delays, lec, grid, target, reference }, spec, pick),
    };
  const selection = guarantee ? asSelection(guarantee) : selectPair(order, predictions, batch.labels, delays, lec, grid, target, pick);
  const result: SearchResult = { ...selection, family, batch, lec, step, pick, delays, target, ...(guarantee ? { guarantee } : {}) };
  if (guarantee && !guarantee.chosen) throw new DelayTargetError(unmetMessage(guarantee, lec as number, target), result);
  if (!selection.chosen) throw new DelayTargetError(missMessage(result), result);
  if (opts.compareScores && selection.chosen?.point)
    result.scoreComparison = compareScores(predictions, batch.labels, selection.chosen, selection.chosen.point.fraction_low);
  if (opts.out !== undefined) result.written = writeDeploy(result, opts.out);
  return result;
}
