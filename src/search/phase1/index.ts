/**
 * PIVOT Phase 1 (paper Section 3.2): tap a model's residual stream on a small batch of
 * training images, compute the CKA matrix, score every path of every effort with
 * Algorithm 1 and keep the best; optionally check Fig. 4a (random paths: accuracy vs
 * Path-Score). Writes paths.json, cka.svg and cka.png.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { ConfigError } from '../../errors.js';
import { FASHION_MNIST_DIR, requireDefaultDataset, samplesDir } from '../../data/index.js';
import { AnalysisModel } from '../../model/analysis.js';
import { loadModelFamily, type ModelFamily } from '../../model/manifest.js';
import { writeHeatmap } from './heatmap.js';
import { isIdxDir, loadImageSet, type ImageSet } from './images.js';
import { randomPathsCheck, rescoreRandomPaths, type RandomPath } from './random-paths.js';
import { type PathsFile, PathsFileSchema } from './schema.js';
import { type EffortChoice, selectOptimalPaths } from './select.js';
import { measureCkaMatrix } from './taps.js';

export { linearCka, centeredGram, ckaFromGrams, ckaMatrix } from './cka.js';
export { pathScore } from './path-score.js';
export { selectOptimalPaths, rankPaths, enumeratePaths } from './select.js';
export { PathsFileSchema, type PathsFile } from './schema.js';

export interface Phase1Options {
  /** Model directory (or manifest.json path). */
  model: string;
  /** IDX directory or class-folder directory; default: Fashion-MNIST if installed, else the bundled samples. */
  data?: string;
  /** Tap images (paper: 256). */
  images: number;
  /** Output directory; default: the model directory. */
  out?: string;
  /** Random paths for the Fig. 4a check; 0 or undefined skips it. */
  randomPaths?: number;
  /** Effort of the random paths; default floor(D/2). */
  randomEffort?: number;
  /** Evaluation images for the random paths. */
  evalImages: number;
  /** Evaluation data; default: the IDX test split, else the bundled samples. */
  evalData?: string;
  seed: number;
  threads?: number;
  logger?: Logger;
  onRandomPath?: (path: RandomPath, index: number, total: number) => void;
}

export interface Phase1Result {
  paths: PathsFile;
  choices: EffortChoice[];
  files: { json: string; svg: string; png: string };
}

/** Tap data: --data, else the installed Fashion-MNIST, else the bundled samples (with a warning). */
function resolveTapData(family: ModelFamily, data: string | undefined, logger?: Logger): string {
  if (data !== undefined) return resolve(data);
  const samples = requireDefaultDataset(family, 'tune');
  if (samples === FASHION_MNIST_DIR) return samples;
  logger?.warn(
    { data: samples },
    `${FASHION_MNIST_DIR} not found: tapping the model's bundled samples (test images) instead of training images`,
  );
  return samples;
}

/** Random-path evaluation data: --eval-data, else the IDX test split, else the bundled samples, else the tap data. */
function resolveEvalData(family: ModelFamily, tapData: string, evalData: string | undefined): string {
  if (evalData !== undefined) return resolve(evalData);
  if (isIdxDir(tapData)) return tapData;
  return samplesDir(family) ?? tapData;
}

function checkOptions(o: Phase1Options, depth: number): void {
  const positive = (name: string, v: number | undefined) => {
    if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw new ConfigError(`${name}: ${v} is not a positive integer`);
  };
  positive('--images', o.images);
  positive('--eval-images', o.evalImages);
  if (o.images < 2) throw new ConfigError('--images: CKA needs at least 2 images');
  if (o.randomPaths !== undefined && (!Number.isInteger(o.randomPaths) || o.randomPaths < 0))
    throw new ConfigError(`--random-paths: ${o.randomPaths} is not a non-negative integer`);
  if (o.randomEffort !== undefined && (!Number.isInteger(o.randomEffort) || o.randomEffort < 0 || o.randomEffort > depth))
    throw new ConfigError(`--random-effort: ${o.randomEffort} is not an effort of this model (0..${depth})`);
}

/** paths.json's content: the CKA matrix of `model` over the tap images and the chosen path per effort. */
export function pathsFile(
  model: string,
  images: Pick<ImageSet, 'count' | 'source'>,
  cka: number[][],
  choices: readonly EffortChoice[],
): PathsFile {
  const depth = cka[0]?.length ?? 0;
  return {
    format: 'pivot-edge/paths@1',
    model,
    images: images.count,
    data: images.source,
    cka: {
      rows: Array.from({ length: depth + 1 }, (_, i) => `MLP_${i}`),
      cols: Array.from({ length: depth }, (_, j) => `A_${j + 1}`),
      values: cka,
    },
    efforts: choices.map((c) => ({
      effort: c.effort,
      active: c.active as (0 | 1)[],
      score: c.score,
      candidates: c.candidates,
      tie_broken: c.tieBroken,
    })),
  };
}

/** The random-path section of an existing paths.json for a model of this depth, if there is one. */
function readEarlierRandomPaths(file: string, depth: number): PathsFile['random_paths'] {
  let earlier: unknown;
  try {
    earlier = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined; // no earlier file (or not JSON): nothing to keep
  }
  const parsed = PathsFileSchema.safeParse(earlier);
  const section = parsed.success ? parsed.data.random_paths : undefined;
  return section?.paths.every((p) => p.active.length === depth) ? section : undefined;
}

export async function runPhase1(o: Phase1Options): Promise<Phase1Result> {
  const family = loadModelFamily(o.model);
  const { manifest } = family;
  const depth = manifest.architecture.depth;
  checkOptions(o, depth);
  const outDir = resolve(o.out ?? family.dir);
  mkdirSync(outDir, { recursive: true });
  const tapData = resolveTapData(family, o.data, o.logger);

  const model = await AnalysisModel.open(family, { threads: o.threads });
  try {
    const tapImages = await loadImageSet(tapData, 'train', o.images, manifest);
    if (tapImages.count < o.images) o.logger?.warn({ data: tapData }, `only ${tapImages.count} images available, tapping all of them`);
    o.logger?.info({ images: tapImages.count, data: tapImages.source }, 'tapping MLP_i and A_j activations');
    const cka = await measureCkaMatrix(model, tapImages);
    const choices = selectOptimalPaths(cka);
    for (const c of choices.filter((c) => c.tieBroken))
      o.logger?.info({ effort: c.effort }, 'Path-Score tie: kept the path that skips the deeper attentions');

    const paths = pathsFile(manifest.name, tapImages, cka, choices);

    if (o.randomPaths) {
      const effort = o.randomEffort ?? Math.floor(depth / 2);
      const evalDir = resolveEvalData(family, tapData, o.evalData);
      const evalImages: ImageSet = await loadImageSet(evalDir, 'test', o.evalImages, manifest);
      o.logger?.info({ effort, paths: o.randomPaths, images: evalImages.count, data: evalImages.source }, 'random-path check');
      const report = await randomPathsCheck(model, cka, evalImages, {
        effort,
        count: o.randomPaths,
        seed: o.seed,
        onPath: o.onRandomPath,
      });
      if (report.paths.length < o.randomPaths)
        o.logger?.warn({ effort }, `effort ${effort} has only ${report.paths.length} distinct paths; evaluated all of them`);
      paths.random_paths = {
        effort,
        images: report.images,
        data: evalImages.source,
        seed: o.seed,
        paths: report.paths.map((p) => ({ ...p, active: p.active as (0 | 1)[] })),
        spearman: Number.isFinite(report.spearman) ? report.spearman : null,
      };
    }

    const json = join(outDir, 'paths.json');
    if (!paths.random_paths) {
      // Without --random-paths, an earlier run's Fig. 4a check in the same file is kept (re-scored), not dropped.
      const earlier = readEarlierRandomPaths(json, depth);
      if (earlier) {
        const { paths: rescored, spearman } = rescoreRandomPaths(earlier.paths, cka);
        paths.random_paths = { ...earlier, paths: rescored, spearman: Number.isFinite(spearman) ? spearman : null };
        o.logger?.info(
          { file: json },
          'kept the random-path check of the earlier paths.json (accuracies as measured then, Path-Scores recomputed)',
        );
      }
    }
    PathsFileSchema.parse(paths);
    await writeFile(json, `${JSON.stringify(paths, null, 2)}\n`);
    const heatmap = await writeHeatmap(cka, `${manifest.name}: CKA matrix (${tapImages.count} images)`, join(outDir, 'cka'));
    return { paths, choices, files: { json, ...heatmap } };
  } finally {
    await model.close();
  }
}
