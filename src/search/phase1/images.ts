/**
 * Labelled image sets for Phase 1: a Fashion-MNIST IDX directory (train split for the
 * taps, test split for the random-path accuracy check) or a folder with one subfolder
 * per class (e.g. the model's bundled samples/). Images come out normalized exactly as
 * the model's manifest says, batched as one float32 NCHW buffer.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InputError } from '../../errors.js';
import { loadIdxImages } from '../../data/idx.js';
import type { Manifest } from '../../model/manifest.js';
import { Preprocessor } from '../../preprocess/index.js';

export interface ImageSet {
  /** Where the images came from (shown to users and stored in paths.json). */
  source: string;
  count: number;
  /** count x (channels x height x width) normalized floats. */
  pixels: Float32Array;
  labels: Int32Array;
}

const IMAGE_EXT = /\.(png|jpe?g|webp|tiff?|gif|avif)$/i;

/** True when `dir` holds Fashion-MNIST-style IDX files. */
export function isIdxDir(dir: string): boolean {
  return ['train', 't10k'].some((p) =>
    [`${p}-images-idx3-ubyte`, `${p}-images-idx3-ubyte.gz`].some((f) => existsSync(join(dir, f))),
  );
}

/** The first `limit` images of an IDX split (Fashion-MNIST's splits are already shuffled). */
export async function loadIdxSet(dir: string, split: 'train' | 'test', limit: number, manifest: Manifest): Promise<ImageSet> {
  const set = loadIdxImages(dir, split);
  const count = Math.min(limit, set.count);
  const pre = new Preprocessor(manifest.preprocess);
  const pixels = new Float32Array(count * pre.size);
  const plane = set.height * set.width;
  for (let i = 0; i < count; i++) {
    const raw = { data: set.pixels.subarray(i * plane, (i + 1) * plane), width: set.width, height: set.height, channels: 1 as const };
    // IDX images on the model's grid skip sharp; other sizes are resized like any image.
    if (!pre.tensorIfOnGrid(raw, pixels, i * pre.size)) await pre.tensor(raw, `${dir} ${split}[${i}]`, pixels, i * pre.size);
  }
  const labels = Int32Array.from(set.labels.subarray(0, count));
  for (const l of labels)
    if (l >= manifest.labels.length) throw new InputError(dir, `label ${l} is outside the manifest's ${manifest.labels.length} classes`);
  return { source: `${resolve(dir)} (${split} split)`, count, pixels, labels };
}

function slug(label: string): string {
  return label
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/**
 * Up to `limit` images from a folder of class subfolders, named by label or label slug
 * ("T-shirt/top" -> t-shirt-top). Classes are interleaved (one image of each class in
 * turn, files in name order) so a small limit still covers every class.
 */
export async function loadFolderSet(dir: string, limit: number, manifest: Manifest): Promise<ImageSet> {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new InputError(dir, 'not a directory');
  const byName = new Map<string, number>();
  manifest.labels.forEach((label, i) => {
    byName.set(label.toLowerCase(), i);
    byName.set(slug(label), i);
  });
  const classes = readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
  if (classes.length === 0) throw new InputError(dir, 'has no class subfolders (expected <dir>/<label>/<image>)');
  const lists = classes.map((name) => {
    const label = byName.get(name.toLowerCase());
    if (label === undefined)
      throw new InputError(join(dir, name), `subfolder is not one of the model's labels (${manifest.labels.join(', ')})`);
    const files = readdirSync(join(dir, name))
      .filter((f) => IMAGE_EXT.test(f))
      .sort()
      .map((f) => join(dir, name, f));
    return { label, files };
  });
  const picked: { file: string; label: number }[] = [];
  for (let round = 0; picked.length < limit; round++) {
    const before = picked.length;
    for (const { label, files } of lists) {
      const file = files[round];
      if (file !== undefined && picked.length < limit) picked.push({ file, label });
    }
    if (picked.length === before) break;
  }
  if (picked.length === 0) throw new InputError(dir, 'its class subfolders contain no images');
  const pre = new Preprocessor(manifest.preprocess);
  const pixels = new Float32Array(picked.length * pre.size);
  await Promise.all(picked.map(({ file }, i) => pre.tensor(file, file, pixels, i * pre.size)));
  return { source: resolve(dir), count: picked.length, pixels, labels: Int32Array.from(picked.map((p) => p.label)) };
}

/** An IDX split or a class-folder set, whichever `dir` is. */
export function loadImageSet(dir: string, split: 'train' | 'test', limit: number, manifest: Manifest): Promise<ImageSet> {
  if (!Number.isInteger(limit) || limit < 1) throw new InputError('image count', `${limit} is not a positive integer`);
  return isIdxDir(dir) ? loadIdxSet(dir, split, limit, manifest) : loadFolderSet(dir, limit, manifest);
}
