/**
 * The dataset a command uses when --data is not given, chosen here for every command. The
 * choice depends on what the images are for: tuning (Phase 1's taps, Phase 2's search batch)
 * must not see the test images it is later judged on, so it prefers the Fashion-MNIST package
 * (whose train split it draws); measuring (`pivot eval`, `pivot bench`'s F_L) prefers the
 * model's small bundled labelled sample, which is quick and always there.
 */
import { existsSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import type { ModelFamily } from '../model/manifest.js';
import { FASHION_MNIST_DIR, isIdxDir } from './idx.js';

export type DataUse = 'tune' | 'measure';

/** The family's bundled labelled sample (manifest `samples`, else a samples/ folder), when present. */
export function samplesDir(family: ModelFamily): string | undefined {
  const dir = family.file(family.manifest.samples ?? 'samples');
  return existsSync(dir) ? dir : undefined;
}

/** The default dataset for `use`, or undefined when neither the Fashion-MNIST package (`idxDir`) nor the samples exist. */
export function defaultDataset(family: ModelFamily, use: DataUse, idxDir = FASHION_MNIST_DIR): string | undefined {
  const idx = isIdxDir(idxDir) ? idxDir : undefined;
  const samples = samplesDir(family);
  return use === 'tune' ? (idx ?? samples) : (samples ?? idx);
}

/** As defaultDataset, but a ConfigError naming --data when there is none. */
export function requireDefaultDataset(family: ModelFamily, use: DataUse, idxDir = FASHION_MNIST_DIR): string {
  const found = defaultDataset(family, use, idxDir);
  if (found === undefined) throw new ConfigError(`--data: not given, ${idxDir} is not installed and ${family.dir} bundles no samples`);
  return found;
}
