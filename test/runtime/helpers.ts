/** Shared paths and loaders for the runtime, model and CLI tests (real model files, real sharp). */
import { join } from 'node:path';
import { loadDeploy, type DeployConfig } from '../../src/config/deploy.js';
import { loadImageFolder, type LabelledInput } from '../../src/data/index.js';
import { loadModelFamily, type ModelFamily } from '../../src/model/index.js';
import { Preprocessor } from '../../src/preprocess/index.js';

export const ROOT = join(import.meta.dirname, '..', '..');
export const MODEL_DIR = join(ROOT, 'models', 'fmnist-vit');
export const DEPLOY = join(ROOT, 'deploy', 'deploy.json');
export const REFERENCE_PNG = join(ROOT, 'test', 'fixtures', 'reference-28x28.png');

export const family = (): ModelFamily => loadModelFamily(MODEL_DIR);

/** The shipped deploy/deploy.json (its pair and threshold: what the default run and a reset use). */
export const shippedDeploy = (): DeployConfig => loadDeploy(DEPLOY).config;

/** The bundled labelled sample (models/fmnist-vit/samples), as files. */
export function sampleFiles(f: ModelFamily = family()): LabelledInput[] {
  return [...loadImageFolder(join(f.dir, f.manifest.samples ?? 'samples'), f.manifest.labels).items()];
}

/** The bundled sample decoded once into raw pixels, so repeated runs skip sharp. */
export async function sampleDecoded(f: ModelFamily = family()): Promise<LabelledInput[]> {
  const pre = new Preprocessor(f.manifest.preprocess);
  const { width, height } = f.manifest.preprocess.resize;
  const channels = f.manifest.preprocess.channels;
  return Promise.all(
    sampleFiles(f).map(async (item) => ({
      ...item,
      source: { data: await pre.pixels(item.source, item.name), width, height, channels },
    })),
  );
}

/** Accuracy of the manifest's effort on the sample, as the training code measured it. */
export function manifestSampleAccuracy(f: ModelFamily, effort: number): number {
  const accuracy = f.effort(effort).accuracy.sample;
  if (accuracy === undefined) throw new Error(`manifest has no accuracy.sample for effort ${effort}`);
  return accuracy;
}
