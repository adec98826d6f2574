/**
 * Extra fit masks: effort graphs cut from the full effort by the import surgery (whose logits
 * test/import checks against PyTorch) run one attention per active bit, are drawn once per mask
 * and cached, and a family extended with them is timed like any other. (The shipped efforts
 * were fine-tuned one by one, so their weights, not their work, differ from the cut graphs'.)
 */
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { extraMasks, familyWithMasks, maskBits, maskGraphs } from '../../src/bench/masks.js';
import { readOnnx } from '../../src/import/onnx.js';
import { measureCases } from '../../src/latency/index.js';
import { loadModelFamily, ModelRuntime } from '../../src/model/index.js';

const family = loadModelFamily(join(import.meta.dirname, '..', '..', 'models', 'fmnist-vit'));

describe('extra masks for the device fit', () => {
  it('draws distinct masks with each shipped effort count, none of them shipped', () => {
    const masks = extraMasks(family, 2);
    const shipped = new Set(family.manifest.efforts.map((e) => maskBits(e.active)));
    assert.equal(new Set(masks.map(maskBits)).size, masks.length);
    for (const m of masks) assert.ok(!shipped.has(maskBits(m)), maskBits(m));
    // Counts 0 and 6 have one mask each (shipped); counts 1..5 have at least 3.
    const counts = masks.map((m) => m.reduce((a, b) => a + b, 0)).sort();
    assert.deepEqual(counts, [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
    assert.deepEqual(extraMasks(family, 2), masks, 'the same masks on every call');
  });

  it('a cut graph runs one Softmax per active attention; cached graphs are reused; the family times them', async () => {
    const mask = [0, 0, 1, 0, 1, 0];
    const [graph] = await maskGraphs(family, [mask]);
    const softmaxes = readOnnx(graph!.file).model.graph!.node!.filter((n) => n.opType === 'Softmax').length;
    assert.equal(softmaxes, 2);
    const written = statSync(graph!.file).mtimeMs;
    const [again] = await maskGraphs(family, [mask]);
    assert.equal(statSync(again!.file).mtimeMs, written, 'not rewritten');
    const runtime = new ModelRuntime(familyWithMasks(family, [graph!]), { intraOpThreads: 1 });
    try {
      const logits = await (await runtime.session(graph!.id)).run(
        new Float32Array(2 * 28 * 28).map((_, i) => Math.cos(i / 7)),
        2,
      );
      assert.equal(logits.length, 2 * 10);
      const timings = await measureCases(
        runtime,
        [
          { effort: 1, batch: 1 },
          { effort: graph!.id, batch: 1 },
        ],
        { batch: 1, rounds: 2, iterations: 2, warmup: 0 },
      );
      assert.deepEqual(
        timings.map((t) => [t.effort, t.calls, t.roundMs.length]),
        [
          [1, 4, 2],
          [graph!.id, 4, 2],
        ],
      );
    } finally {
      await runtime.close();
    }
  });
});
