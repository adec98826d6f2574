/** Labelled datasets for evaluation: Fashion-MNIST IDX directories and class-per-subfolder image folders. */
import { existsSync } from 'node:fs';
import { InputError } from '../errors.js';
import type { LabelledDataset } from './dataset.js';
import { loadImageFolder } from './folder.js';
import { isIdxDir, loadIdxImages, type IdxImageSet } from './idx.js';

export type { LabelledDataset, LabelledInput } from './dataset.js';
export { IMAGE_EXTENSIONS, listImages, loadImageFolder, matchLabel, slug } from './folder.js';
export { FASHION_MNIST_DIR, isIdxDir, loadIdxImages, readIdx } from './idx.js';
export { defaultDataset, requireDefaultDataset, samplesDir, type DataUse } from './defaults.js';
export type { IdxArray, IdxImageSet } from './idx.js';

/** An IDX split as a dataset of raw grayscale images (no decoding needed). */
export function idxDataset(set: IdxImageSet, description: string): LabelledDataset {
  const { count, width, height, pixels, labels } = set;
  const size = width * height;
  return {
    description,
    count,
    *items() {
      for (let i = 0; i < count; i++)
        yield {
          source: { data: pixels.subarray(i * size, (i + 1) * size), width, height, channels: 1 as const },
          name: `${description}#${i}`,
          label: labels[i]!,
        };
    },
  };
}

/** Opens `path` as an IDX directory (test split) or an image folder with one subfolder per class. */
export function openDataset(path: string, labels: readonly string[]): LabelledDataset {
  if (!existsSync(path)) throw new InputError(path, 'no such dataset directory');
  if (isIdxDir(path)) return idxDataset(loadIdxImages(path, 'test'), `Fashion-MNIST test (${path})`);
  return loadImageFolder(path, labels);
}

/** The first `limit` items of a dataset. */
export function limitDataset(set: LabelledDataset, limit: number | undefined): LabelledDataset {
  if (limit === undefined || limit >= set.count) return set;
  return {
    description: `${set.description}, first ${limit}`,
    count: limit,
    *items() {
      let n = 0;
      for (const item of set.items()) {
        if (n++ >= limit) return;
        yield item;
      }
    },
  };
}
