/**
 * Labelled image sets for Phase 1, materialised as one normalized float32 NCHW buffer:
 * a Fashion-MNIST IDX directory (train split for the taps, test split for the
 * random-path check) or a folder with one subfolder per class (e.g. the bundled samples/).
 * Reading the datasets and preprocessing are the shared src/data and src/preprocess.
 */
import { resolve } from 'node:path';
import { InputError } from '../../errors.js';
import { idxDataset, isIdxDir, loadIdxImages, loadImageFolder, type LabelledInput } from '../../data/index.js';
import type { Manifest } from '../../model/manifest.js';
import { Preprocessor } from '../../preprocess/index.js';

export { isIdxDir };

export interface ImageSet {
  /** Where the images came from (shown to users and stored in paths.json). */
  source: string;
  count: number;
  /** count x (channels x height x width) normalized floats. */
  pixels: Float32Array;
  labels: Int32Array;
}

/**
 * Takes one item of each class in turn, so a small limit still covers every class of a
 * folder listed class by class. (IDX splits are already shuffled; this leaves them mixed.)
 */
function interleaveClasses(items: Iterable<LabelledInput>, limit: number): LabelledInput[] {
  const byClass = new Map<number, LabelledInput[]>();
  for (const item of items) {
    const list = byClass.get(item.label) ?? [];
    list.push(item);
    byClass.set(item.label, list);
  }
  const lists = [...byClass.values()];
  const picked: LabelledInput[] = [];
  for (let round = 0; picked.length < limit && lists.some((l) => round < l.length); round++)
    for (const list of lists) {
      const item = list[round];
      if (item && picked.length < limit) picked.push(item);
    }
  return picked;
}

function firstItems(items: Iterable<LabelledInput>, limit: number): LabelledInput[] {
  const picked: LabelledInput[] = [];
  for (const item of items) {
    if (picked.length >= limit) break;
    picked.push(item);
  }
  return picked;
}

async function materialise(items: LabelledInput[], source: string, manifest: Manifest): Promise<ImageSet> {
  if (items.length === 0) throw new InputError(source, 'contains no images');
  const pre = new Preprocessor(manifest.preprocess);
  const pixels = new Float32Array(items.length * pre.size);
  await Promise.all(items.map((item, i) => pre.tensor(item.source, item.name, pixels, i * pre.size)));
  for (const item of items)
    if (item.label < 0 || item.label >= manifest.labels.length)
      throw new InputError(item.name, `label ${item.label} is outside the manifest's ${manifest.labels.length} classes`);
  return { source, count: items.length, pixels, labels: Int32Array.from(items.map((i) => i.label)) };
}

/** The first `limit` images of an IDX split (Fashion-MNIST's splits are already shuffled). */
export async function loadIdxSet(dir: string, split: 'train' | 'test', limit: number, manifest: Manifest): Promise<ImageSet> {
  const source = `${resolve(dir)} (${split} split)`;
  return materialise(firstItems(idxDataset(loadIdxImages(dir, split), source).items(), limit), source, manifest);
}

/** Up to `limit` images of a class-per-subfolder folder, classes interleaved. */
export async function loadFolderSet(dir: string, limit: number, manifest: Manifest): Promise<ImageSet> {
  return materialise(interleaveClasses(loadImageFolder(dir, manifest.labels).items(), limit), resolve(dir), manifest);
}

/** An IDX split or a class-folder set, whichever `dir` is. */
export async function loadImageSet(dir: string, split: 'train' | 'test', limit: number, manifest: Manifest): Promise<ImageSet> {
  if (!Number.isInteger(limit) || limit < 1) throw new InputError('image count', `${limit} is not a positive integer`);
  return isIdxDir(dir) ? loadIdxSet(dir, split, limit, manifest) : loadFolderSet(dir, limit, manifest);
}
