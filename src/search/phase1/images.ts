/**
 * Labelled image sets for Phase 1: a Fashion-MNIST IDX directory (train split for the taps,
 * test split for the random-path check) or a folder with one subfolder per class (e.g. the
 * bundled samples/). Images are held as decoded uint8 pixels on the model's grid and
 * normalized to float32 NCHW a batch at a time, when fed: a quarter of the memory of
 * holding them as floats (256 images at 224x224: 39 MB instead of 154 MB), same values.
 * Reading the datasets and preprocessing are the shared src/data and src/preprocess.
 */
import { resolve } from 'node:path';
import { InputError } from '../../errors.js';
import { idxDataset, isIdxDir, loadIdxImages, loadImageFolder, type LabelledInput } from '../../data/index.js';
import type { Manifest } from '../../model/manifest.js';
import { type ImageSource, normalizeInto, normalizeTable, Preprocessor } from '../../preprocess/index.js';

export { isIdxDir };

export interface ImageSet {
  /** Where the images came from (shown to users and stored in paths.json). */
  source: string;
  count: number;
  /** Floats per image (channels x height x width). */
  size: number;
  labels: Int32Array;
  /** Images [start, start + count) as normalized float32 NCHW (a new buffer each call). */
  batch(start: number, count: number): Float32Array;
}

/**
 * Decodes `sources` onto the manifest's grid (uint8 HWC, one image after another) and
 * returns the set that normalizes them when fed.
 */
export async function decodeImageSet(
  sources: readonly { source: ImageSource; name: string }[],
  meta: { source: string; labels: Int32Array },
  manifest: Manifest,
): Promise<ImageSet> {
  const pre = new Preprocessor(manifest.preprocess);
  const size = pre.size;
  const pixels = new Uint8Array(sources.length * size);
  await Promise.all(
    sources.map(async (item, i) => {
      const decoded = await pre.pixels(item.source, item.name);
      if (decoded.length !== size) throw new InputError(item.name, `decoded to ${decoded.length} values, expected ${size}`);
      pixels.set(decoded, i * size);
    }),
  );
  const table = normalizeTable(manifest.preprocess);
  const count = sources.length;
  return {
    source: meta.source,
    count,
    size,
    labels: meta.labels,
    batch(start, n) {
      if (!Number.isInteger(start) || !Number.isInteger(n) || start < 0 || n < 0 || start + n > count)
        throw new InputError(meta.source, `images ${start}..${start + n - 1} asked of a set of ${count}`);
      const out = new Float32Array(n * size);
      for (let i = 0; i < n; i++) normalizeInto(pixels.subarray((start + i) * size, (start + i + 1) * size), table, out, i * size);
      return out;
    },
  };
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
  for (const item of items)
    if (item.label < 0 || item.label >= manifest.labels.length)
      throw new InputError(item.name, `label ${item.label} is outside the manifest's ${manifest.labels.length} classes`);
  return decodeImageSet(items, { source, labels: Int32Array.from(items.map((i) => i.label)) }, manifest);
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
