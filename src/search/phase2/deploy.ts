/** The search's result as a deploy.json (validated like any hand-written one), with what it measured under `metadata`. */
import { dirname, relative, resolve } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { validateDeploy, type DeployConfig } from '../../config/deploy.js';
import { ConfigError } from '../../errors.js';
import { guaranteeMetadata } from './guarantee.js';
import { intervalPair, pointIntervals } from './intervals.js';
import { searchSettings, trialRow } from './report.js';
import type { SearchResult } from './types.js';

export function deployConfig(r: SearchResult, outPath: string): DeployConfig {
  const c = r.chosen;
  if (!c?.point) throw new ConfigError('no pair was chosen, nothing to deploy');
  const p = c.point;
  const ci = pointIntervals(p);
  const model = relative(dirname(outPath), r.family.dir) || '.';
  const settings = searchSettings(r);
  return {
    model,
    low: c.low,
    high: c.high,
    threshold: p.threshold,
    metadata: {
      chosen_by: 'pivot search',
      date: new Date().toISOString(),
      ...settings,
      delay: { ...settings.delay, predicted_ms: c.delay_ms },
      batch: {
        accuracy: p.accuracy,
        accuracy_ci: intervalPair(ci.accuracy),
        fraction_low: p.fraction_low,
        fraction_low_ci: intervalPair(ci.fraction_low),
        correct_low: p.correct_low,
        incorrect_low: p.incorrect_low,
        correct_high: p.correct_high,
        incorrect_high: p.incorrect_high,
      },
      pairs_tried: r.tried.map(trialRow),
      ...(r.guarantee ? { guarantee: guaranteeMetadata(r.guarantee, r.batch) } : {}),
    },
  };
}

/** Validates (model dir, efforts) and writes atomically; returns the absolute path. */
export function writeDeploy(r: SearchResult, out: string): string {
  const path = resolve(out);
  const config = deployConfig(r, path);
  validateDeploy(config, path);
  try {
    writeFileAtomic.sync(path, `${JSON.stringify(config, null, 2)}\n`);
  } catch (err) {
    throw new ConfigError(`--out: cannot write ${path}: ${(err as Error).message}`, { cause: err });
  }
  return path;
}
