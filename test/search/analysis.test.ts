import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
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
    const out = await model.run(images.pixels, BATCH, new Array(depth).fill(1), [...mlp_outputs, ...attn_outputs]);
    assert.deepEqual(out.dims[manifest.output.name], [BATCH, classes]);
    for (const name of [...mlp_outputs, ...attn_outputs]) assert.deepEqual(out.dims[name], [BATCH, tokens, dim], name);
    // MLP_0 is the embedding, so it cannot equal the stream after encoder 1's attention.
    assert.ok(maxAbsDiff(out.taps.get(mlp_outputs[0]!)!, out.taps.get(attn_outputs[0]!)!) > 1e-3);
  });

  it("with every attention on, reproduces the full effort's logits; gating changes them", async () => {
    const full = manifest.efforts.find((e) => e.effort === depth)!;
    const session = await ort.InferenceSession.create(family.file(full.file), { intraOpNumThreads: 1 });
    const [, c, h, w] = manifest.input.shape;
    const ref = await session.run({ [manifest.input.name]: new ort.Tensor('float32', images.pixels, [BATCH, c!, h!, w!]) });
    await session.release();
    const expected = ref[manifest.output.name]!.data as Float32Array;

    const allOn = await model.run(images.pixels, BATCH, new Array(depth).fill(1));
    assert.ok(maxAbsDiff(allOn.logits, expected) < 1e-4, `max |diff| ${maxAbsDiff(allOn.logits, expected)}`);
    assert.equal(allOn.taps.size, 0, 'taps are fetched only on request');

    const gate = Array.from({ length: depth }, (_, i) => (i < depth / 2 ? 1 : 0));
    const gated = await model.run(images.pixels, BATCH, gate);
    assert.ok(maxAbsDiff(gated.logits, expected) > 1e-2, 'skipping attentions must change the logits');
  });

  it('gives the same CKA matrix whether taps are fetched together or one at a time', async () => {
    const together = await measureCkaMatrix(model, images);
    const oneByOne = await measureCkaMatrix(model, images, { budgetBytes: 1, batch: 7 });
    assert.equal(together.length, depth + 1);
    together.forEach((row, i) => row.forEach((v, j) => assert.ok(Math.abs(v - oneByOne[i]![j]!) < 1e-6, `[${i}][${j}]`)));
  });

  it('refuses a gate of the wrong length and a pixel buffer of the wrong size', async () => {
    await assert.rejects(model.run(images.pixels, BATCH, [1, 1]), /attn_gate/);
    await assert.rejects(model.run(images.pixels.subarray(1), BATCH, new Array(depth).fill(1)), /pixel_values/);
    await assert.rejects(model.run(images.pixels, BATCH, new Array(depth).fill(1), ['logits_typo']), /logits_typo.*not a tap/);
  });

  it('explains that Phase 1 needs an analysis graph when the manifest has none', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pivot-no-analysis-'));
    try {
      const { analysis: _unused, ...rest } = manifest;
      const efforts = manifest.efforts.map((e) => ({ ...e, file: family.file(e.file) }));
      writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ ...rest, efforts }));
      const bare = loadModelFamily(dir);
      await assert.rejects(AnalysisModel.open(bare), (err: Error) => err instanceof ModelLoadError && /analysis: missing/.test(err.message));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
