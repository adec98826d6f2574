/** Top-1 accuracy of one written effort graph on the labelled calibration images (the file itself is run, not a gated stand-in). */
import { predict } from '../cascade/entropy.js';
import { EffortSession } from '../model/session.js';
import type { ModelFamily } from '../model/manifest.js';
import type { ImageSet } from '../search/phase1/images.js';

export async function effortAccuracy(
  family: ModelFamily,
  effort: number,
  set: ImageSet,
  options: { batch: number; threads?: number },
): Promise<number> {
  const session = await EffortSession.load(family, effort, { intraOpThreads: options.threads });
  try {
    let correct = 0;
    for (let start = 0; start < set.count; start += options.batch) {
      const count = Math.min(options.batch, set.count - start);
      const logits = await session.run(set.batch(start, count), count);
      for (let b = 0; b < count; b++) if (predict(logits, session.classes, b).classIndex === set.labels[start + b]) correct++;
    }
    return correct / set.count;
  } finally {
    await session.release();
  }
}
