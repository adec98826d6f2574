/**
 * Logits of the shipped model's efforts on the whole Fashion-MNIST test split, computed once
 * with the real model (onnxruntime, about 5 s per effort on one thread) and kept under the
 * git-ignored build/ directory, keyed by the ONNX file's content, so a retrained model is
 * never read from a stale cache.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { predict } from '../../../src/cascade/entropy.js';
import { FASHION_MNIST_DIR, idxDataset, loadIdxImages } from '../../../src/data/index.js';
import { loadModelFamily, ModelRuntime } from '../../../src/model/index.js';
import { Preprocessor } from '../../../src/preprocess/index.js';
import type { EffortPredictions } from '../../../src/search/phase2/index.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
export const MODEL = join(ROOT, 'models', 'fmnist-vit');
const CACHE = join(ROOT, 'build', 'test-cache');

export interface TestSplit {
  labels: Int32Array;
  classes: number;
  /** Row-major [images, classes] logits per effort. */
  logits: Map<number, Float32Array>;
}

/** The test split's labels and every requested effort's logits, from the cache when it matches the ONNX file. */
export async function testSplitLogits(efforts: readonly number[]): Promise<TestSplit> {
  const family = loadModelFamily(MODEL);
  const set = loadIdxImages(FASHION_MNIST_DIR, 'test');
  const labels = Int32Array.from(set.labels);
  const classes = family.manifest.labels.length;
  const logits = new Map<number, Float32Array>();
  const missing: { effort: number; file: string }[] = [];
  mkdirSync(CACHE, { recursive: true });
  for (const effort of efforts) {
    const onnx = family.file(family.effort(effort).file);
    const hash = createHash('sha256').update(readFileSync(onnx)).digest('hex').slice(0, 16);
    const file = join(CACHE, `fmnist-test-logits-${effort}-${hash}.f32`);
    if (existsSync(file)) {
      const bytes = readFileSync(file);
      logits.set(effort, new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4));
    } else missing.push({ effort, file });
  }
  if (missing.length) {
    const pre = new Preprocessor(family.manifest.preprocess);
    const tensors = new Float32Array(set.count * pre.size);
    let i = 0;
    for (const item of idxDataset(set, 'test').items()) pre.tensorIfOnGrid(item.source, tensors, i++ * pre.size);
    const runtime = new ModelRuntime(family, { intraOpThreads: 1 });
    try {
      for (const { effort, file } of missing) {
        const session = await runtime.session(effort);
        const out = new Float32Array(set.count * classes);
        for (let start = 0; start < set.count; start += 256) {
          const n = Math.min(256, set.count - start);
          out.set(await session.run(tensors.subarray(start * pre.size, (start + n) * pre.size), n), start * classes);
        }
        writeFileSync(file, out);
        logits.set(effort, out);
      }
    } finally {
      await runtime.close();
    }
  }
  return { labels, classes, logits };
}

/** Class and Eq. 3 entropy per image of one effort's logits, as the search stores them. */
export function predictionsOf(logits: Float32Array, classes: number): EffortPredictions {
  const count = logits.length / classes;
  const out = { classes: new Int32Array(count), entropies: new Float64Array(count) };
  for (let i = 0; i < count; i++) {
    const p = predict(logits, classes, i);
    out.classes[i] = p.classIndex;
    out.entropies[i] = p.entropy;
  }
  return out;
}
