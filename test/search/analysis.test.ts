import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { predict } from '../../src/cascade/entropy.js';
import { ModelLoadError } from '../../src/errors.js';
import { AnalysisModel } from '../../src/model/analysis.js';
import { loadModelFamily } from '../../src/model/manifest.js';
import { loadFolderSet, type ImageSet } from '../../src/search/phase1/images.js';
import { measureCkaMatrix } from '../../src/search/phase1/taps.js';

const family = loadModelFamily('models/fmnist-vit');
const { manifest } = family;
const { depth, tokens, dim, classes } = manifest.architecture;
const BATCH = 20;

const maxAbsDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

describe('analysis graph (real onnxruntime-node, shipped model)', () => {
  let model: AnalysisModel;
  let images: ImageSet;
  before(async () => {
    model = await AnalysisModel.open(family, { threads: 1 });
    images = await loadFolderSet(family.file(manifest.samples ?? 'samples'), BATCH, manifest);
  });
  after(() => model.close());

  it("returns logits and every tap with the manifest's shapes", async () => {
    const { mlp_outputs, attn_outputs } = manifest.analysis!;
    assert.equal(mlp_outputs.length, depth + 1);
    assert.equal(attn_outputs.length, depth);
    const out = await model.run(images.batch(0, BATCH), BATCH, new Array(depth).fill(1), [...mlp_outputs, ...attn_outputs]);
    assert.deepEqual(out.dims[manifest.output.name], [BATCH, classes]);
    for (const name of [...mlp_outputs, ...attn_outputs]) assert.deepEqual(out.dims[name], [BATCH, tokens, dim], name);
    // MLP_0 is the embedding, so it cannot equal the stream after encoder 1's attention.
    assert.ok(maxAbsDiff(out.taps.get(mlp_outputs[0]!)!, out.taps.get(attn_outputs[0]!)!) > 1e-3);
  });

  it('with every attention on, is the base model the training code measured; gating changes the logits', async () => {
    // analysis.onnx is the base model before effort fine-tuning, so no shipped effort has its
    // weights; the manifest records the base model's bundled-sample accuracy (torch) instead.
    const labelled = await loadFolderSet(family.file(manifest.samples ?? 'samples'), 600, manifest);
    const allOn = await model.run(labelled.batch(0, labelled.count), labelled.count, new Array(depth).fill(1));
    assert.equal(allOn.taps.size, 0, 'taps are fetched only on request');
    let correct = 0;
    for (let i = 0; i < labelled.count; i++) if (predict(allOn.logits, classes, i).classIndex === labelled.labels[i]) correct++;
    const expected = manifest.analysis!.accuracy!.sample!;
    assert.ok(Math.abs(correct / labelled.count - expected) <= 0.005, `accuracy ${correct / labelled.count} vs manifest ${expected}`);

    const gate = Array.from({ length: depth }, (_, i) => (i < depth / 2 ? 1 : 0));
    const gated = await model.run(labelled.batch(0, labelled.count), labelled.count, gate);
    assert.ok(maxAbsDiff(gated.logits, allOn.logits) > 1e-2, 'skipping attentions must change the logits');
  });

  it('gives the same CKA matrix whether taps are fetched together or one at a time', async () => {
    const together = await measureCkaMatrix(model, images);
    const oneByOne = await measureCkaMatrix(model, images, { budgetBytes: 1, batch: 7 });
    const spilled = await measureCkaMatrix(model, images, { budgetBytes: 1, batch: 7, spillDir: tmpdir() });
    assert.deepEqual(spilled, oneByOne, 'taps spilled to disk in one pass give the same matrix');
    assert.equal(together.length, depth + 1);
    together.forEach((row, i) => row.forEach((v, j) => assert.ok(Math.abs(v - oneByOne[i]![j]!) < 1e-6, `[${i}][${j}]`)));
  });

  it('refuses a gate of the wrong length and a pixel buffer of the wrong size', async () => {
    const pixels = images.batch(0, BATCH);
    await assert.rejects(model.run(pixels, BATCH, [1, 1]), /attn_gate/);
    await assert.rejects(model.run(pixels.subarray(1), BATCH, new Array(depth).fill(1)), /pixel_values/);
    await assert.rejects(model.run(pixels, BATCH, new Array(depth).fill(1), ['logits_typo']), /logits_typo.*not a tap/);
  });

  it('explains that Phase 1 needs an analysis graph when the manifest has none', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pivot-no-analysis-'));
    try {
      const { analysis: _unused, ...rest } = manifest;
      const efforts = manifest.efforts.map((e) => ({ ...e, file: family.file(e.file) }));
      writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ ...rest, efforts }));
      const bare = loadModelFamily(dir);
      await assert.rejects(
        AnalysisModel.open(bare),
        (err: Error) => err instanceof ModelLoadError && /analysis: missing/.test(err.message),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
