/**
 * The search batch: `images` training images drawn at random (seeded) from an IDX split or
 * a class-per-folder set, decoded once to raw pixels on the model's grid, and every effort
 * run on them once. The batch is also a LabelledDataset, so the same images can be fed to
 * the real Cascade (`evaluate`) to check the search's arithmetic.
 */
import { resolve } from 'node:path';
import { predict } from '../../cascade/entropy.js';
import { routingScore } from '../../cascade/score.js';
import { idxDataset, isIdxDir, loadIdxImages, loadImageFolder, type LabelledDataset, type LabelledInput } from '../../data/index.js';
import { InputError } from '../../errors.js';
import type { Manifest, ModelRuntime } from '../../model/index.js';
import { Preprocessor } from '../../preprocess/index.js';
import { sampleDistinct, seededRandom } from '../phase1/rng.js';
import type { EffortPredictions } from './sweep.js';

/** Rows per onnxruntime call: the Cascade's default batch size, so the low effort's logits match an `evaluate` run bit for bit. */
export const RUN_BATCH = 32;

export interface SearchBatch {
  dataset: LabelledDataset;
  /** Where the images came from: the directory and, for IDX data, the split. */
  source: string;
  split?: 'train' | 'test';
  seed: number;
  count: number;
  labels: Int32Array;
  /** count x (C x H x W) normalized floats, in dataset order. */
  tensors: Float32Array;
}

export interface BatchOptions {
  data: string;
  split: 'train' | 'test';
  images: number;
  seed: number;
  manifest: Manifest;
}

function drawItems(opts: BatchOptions): { items: LabelledInput[]; split?: 'train' | 'test' } {
  const random = seededRandom(opts.seed);
  if (isIdxDir(opts.data)) {
    const all = [...idxDataset(loadIdxImages(opts.data, opts.split), `${opts.split}`).items()];
    return { items: sampleDistinct(all, opts.images, random), split: opts.split };
  }
  return { items: sampleDistinct([...loadImageFolder(opts.data, opts.manifest.labels).items()], opts.images, random) };
}

/** Draws the batch, decodes each image once to raw on-grid pixels and normalizes it. */
export async function drawBatch(opts: BatchOptions): Promise<SearchBatch> {
  if (!Number.isInteger(opts.images) || opts.images < 1) throw new InputError('--images', `${opts.images} is not a positive integer`);
  const source = resolve(opts.data);
  const { items, split } = drawItems(opts);
  if (!items.length) throw new InputError(source, 'contains no images');
  const pre = new Preprocessor(opts.manifest.preprocess);
  const { width, height } = opts.manifest.preprocess.resize;
  const channels = opts.manifest.preprocess.channels;
  const decoded: LabelledInput[] = await Promise.all(
    items.map(async (item) => {
      if (item.label < 0 || item.label >= opts.manifest.labels.length)
        throw new InputError(item.name, `label ${item.label} is outside the manifest's ${opts.manifest.labels.length} classes`);
      return { ...item, source: { data: await pre.pixels(item.source, item.name), width, height, channels } };
    }),
  );
  const tensors = new Float32Array(decoded.length * pre.size);
  decoded.forEach((item, i) => pre.tensorIfOnGrid(item.source, tensors, i * pre.size));
  const description = `${source}${split ? ` (${split} split)` : ''}, ${decoded.length} random images, seed ${opts.seed}`;
  return {
    dataset: { description, count: decoded.length, items: () => decoded },
    source,
    split,
    seed: opts.seed,
    count: decoded.length,
    labels: Int32Array.from(decoded, (d) => d.label),
    tensors,
  };
}

/** Runs `effort` once over the batch (RUN_BATCH rows per call) and keeps class + every routing score per image. */
export async function predictEffort(runtime: ModelRuntime, effort: number, batch: SearchBatch): Promise<EffortPredictions> {
  const session = await runtime.session(effort);
  const classes = new Int32Array(batch.count);
  const entropies = new Float64Array(batch.count);
  const scores = { max_prob: new Float64Array(batch.count), margin: new Float64Array(batch.count) };
  const k = session.classes;
  for (let start = 0; start < batch.count; start += RUN_BATCH) {
    const n = Math.min(RUN_BATCH, batch.count - start);
    const logits = await session.run(batch.tensors.subarray(start * session.sampleSize, (start + n) * session.sampleSize), n);
    for (let r = 0; r < n; r++) {
      const p = predict(logits, k, r);
      classes[start + r] = p.classIndex;
      entropies[start + r] = p.entropy;
      scores.max_prob[start + r] = routingScore('max_prob', p, logits, k, r);
      scores.margin[start + r] = routingScore('margin', p, logits, k, r);
    }
  }
  return { classes, entropies, scores };
}
