/**
 * Image folders: a labelled dataset is a directory with one subfolder per class. A
 * subfolder matches a manifest label by the exact label, its slug ('T-shirt/top' ->
 * 't-shirt-top') or its class index ('0'..'9').
 */
import { type Dirent, readdirSync, statSync } from 'node:fs';
import { extname, join, relative } from 'node:path';
import { InputError } from '../errors.js';
import { readFailure } from '../util/files.js';
import type { LabelledDataset, LabelledInput } from './dataset.js';

/**
 * File extensions treated as images when scanning folders, by the CLI and the daemon's directory
 * source (explicitly named files are always tried): what sharp's prebuilt libvips decodes. HEIC is
 * not among them (its HEIF support reads AVIF only).
 */
export const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set(['.jpg', '.jpeg', '.png', '.webp', '.tif', '.tiff', '.gif', '.avif']);

/** Lowercase, every run of non-alphanumerics turned into one '-', no leading/trailing '-'. */
export function slug(label: string): string {
  return label
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/** The class index a folder name stands for, or undefined. */
export function matchLabel(folder: string, labels: readonly string[]): number | undefined {
  const exact = labels.indexOf(folder);
  if (exact >= 0) return exact;
  const bySlug = labels.findIndex((l) => slug(l) === slug(folder));
  if (bySlug >= 0) return bySlug;
  if (/^\d+$/.test(folder) && Number(folder) < labels.length) return Number(folder);
  return undefined;
}

const visible = (name: string) => !name.startsWith('.');

/** The first few labels' slugs and how many there are: an ImageNet model has 1000, too many for one error message. */
function someLabels(labels: readonly string[], shown = 6): string {
  const first = labels.slice(0, shown).map((l) => slug(l));
  return labels.length <= shown ? first.join(', ') : `${labels.length} labels: ${first.join(', ')}, ...`;
}

/** Image files under `dir`, recursively, in a stable (sorted) order. */
export function listImages(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })
    .filter((e) => visible(e.name))
    .sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...listImages(path));
    else if (IMAGE_EXTENSIONS.has(extname(entry.name).toLowerCase())) found.push(path);
  }
  return found;
}

/** Loads a class-per-subfolder image folder against the manifest's labels, classes interleaved. */
export function loadImageFolder(dir: string, labels: readonly string[]): LabelledDataset {
  let entries: Dirent[];
  try {
    if (!statSync(dir).isDirectory()) throw new InputError(dir, 'not a directory');
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(dir, readFailure(err, 'no such directory'), { cause: err });
  }
  const perClass: LabelledInput[][] = [];
  for (const entry of entries.filter((e) => e.isDirectory() && visible(e.name)).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const label = matchLabel(entry.name, labels);
    if (label === undefined)
      throw new InputError(
        join(dir, entry.name),
        `folder name matches no label; use a label, its slug or its index 0..${labels.length - 1} (${someLabels(labels)})`,
      );
    perClass.push(listImages(join(dir, entry.name)).map((file) => ({ source: file, name: file, label })));
  }
  // Round-robin over the classes, so the first N items (eval --limit N) cover every class.
  const items: LabelledInput[] = [];
  for (let i = 0; perClass.some((files) => i < files.length); i++)
    for (const files of perClass) if (i < files.length) items.push(files[i]!);
  if (!items.length) throw new InputError(dir, 'no images found (expected one subfolder of images per class)');
  return { description: `image folder ${relative(process.cwd(), dir) || dir}`, count: items.length, items: () => items };
}
