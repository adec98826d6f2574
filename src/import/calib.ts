/**
 * The calibration images of `pivot import`: a folder with one subfolder per class
 * that name the model's labels (labelled: accuracy per effort is measured) or any other
 * folder of images (unlabelled: Phase 1 only). Each is decoded once, onto the model's grid.
 */
import { resolve } from 'node:path';
import { InputError } from '../errors.js';
import { listImages, matchLabel } from '../data/index.js';
import type { Manifest } from '../model/manifest.js';
import { decodeImageSet, loadFolderSet, type ImageSet } from '../search/phase1/images.js';
import { readFailure } from '../util/files.js';
import { classFolders } from './labels.js';

export interface CalibrationSet extends ImageSet {
  /** True when the images came from class subfolders (labels[i] is the class), false when labels are all -1. */
  labelled: boolean;
}

/**
 * Class subfolders that name the model's labels make a labelled set (one unknown folder is
 * then an error); subfolders none of which names a label are just where the images are.
 */
export async function loadCalibration(dir: string, manifest: Manifest, limit: number): Promise<CalibrationSet> {
  if (classFolders(dir).some((f) => matchLabel(f, manifest.labels) !== undefined))
    return { ...(await loadFolderSet(dir, limit, manifest)), labelled: true };
  let files: string[];
  try {
    files = listImages(dir).slice(0, limit);
  } catch (err) {
    throw new InputError(dir, readFailure(err, 'no such directory'), { cause: err });
  }
  if (files.length === 0) throw new InputError(dir, 'contains no images');
  const set = await decodeImageSet(
    files.map((file) => ({ source: file, name: file })),
    { source: resolve(dir), labels: new Int32Array(files.length).fill(-1) },
    manifest,
  );
  return { ...set, labelled: false };
}
