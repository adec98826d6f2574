/**
 * `pivot import` end to end on the fixtures: the architecture report equals the exported
 * config, every written effort graph gives PyTorch's logits for its mask to 1e-4, the
 * family loads and its Phase 1 outputs are those of `pivot paths`, and the imported family
 * passes `pivot search`, `pivot classify` and `pivot eval` unchanged.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, InputError } from '../../src/errors.js';
import { runImport } from '../../src/import/index.js';
import { encodeOnnx, externalDataFiles, readOnnx } from '../../src/import/onnx.js';
import { loadModelFamily } from '../../src/model/manifest.js';
import { PathsFileSchema } from '../../src/search/phase1/index.js';
import { runPivot } from '../helpers/cli.js';
import { externalise, fixture, maxLogitError, reference } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'pivot-import-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const CALIB = fixture('calib');
const LABELS = ['apple', 'bicycle', 'cloud', 'door', 'eagle'];

/** Each written effort file against PyTorch's logits for the mask the importer chose. */
async function checkEfforts(dir: string, ref: ReturnType<typeof reference>, input: string): Promise<void> {
  const family = loadModelFamily(dir);
  for (const e of family.manifest.efforts) {
    const error = await maxLogitError(family.file(e.file), ref, e.active, input);
    assert.ok(error < 1e-4, `effort ${e.effort} (${e.active.join('')}): max |logit error| ${error}`);
  }
}

describe('pivot import (library)', () => {
  it('torchvision ViT, class token: architecture as exported, efforts 1..D match PyTorch, Phase 1 files, model card', async () => {
    const out = join(tmp, 'tv');
    const result = await runImport({ model: fixture('tv-vit-opset17.onnx'), out, calib: CALIB, labels: fixture('labels.txt'), threads: 1 });
    const ref = reference('tv-vit');
    assert.deepEqual(result.manifest.architecture, ref.architecture);
    assert.deepEqual(result.manifest.labels, LABELS);
    assert.deepEqual(result.manifest.input, { name: 'x', shape: [-1, 3, 32, 32], layout: 'NCHW', dtype: 'float32' });
    assert.deepEqual(
      result.manifest.efforts.map((e) => e.effort),
      [1, 2, 3, 4],
      'no effort 0 for a class-token model',
    );
    assert.ok(result.notes.some((n) => /effort 0 left out/.test(n)));
    await checkEfforts(out, ref, 'x');

    const paths = PathsFileSchema.parse(JSON.parse(readFileSync(join(out, 'paths.json'), 'utf8')));
    assert.equal(paths.images, 20);
    assert.equal(paths.cka.values.length, 5);
    for (const e of result.manifest.efforts) {
      const chosen = paths.efforts.find((p) => p.effort === e.effort)!;
      assert.deepEqual(e.active, chosen.active);
      assert.equal(e.path_score, chosen.score);
      assert.ok(e.accuracy.calib !== undefined && e.accuracy.calib >= 0 && e.accuracy.calib <= 1, 'labelled calib: accuracy measured');
      assert.ok(e.macs > 0);
    }
    assert.ok(result.manifest.efforts.every((e, i, all) => i === 0 || e.macs > all[i - 1]!.macs));
    assert.equal(result.manifest.imported?.fine_tuned, false);
    assert.deepEqual(result.manifest.imported?.calib, { source: CALIB, images: 20, labelled: true });
    for (const f of ['analysis.onnx', 'cka.svg', 'cka.png', 'README.md']) assert.ok(existsSync(join(out, f)), f);
    assert.ok(!existsSync(join(out, '.import-probe.onnx')), 'the probe graph is removed');
    const card = readFileSync(join(out, 'README.md'), 'utf8');
    assert.match(card, /not fine-tuned/);
    assert.match(card, /\| 4 \| 32 \| 2 \| 17 \| 2 \| 32 \| 8 \| conv8x8\/8 \| cls \| 5 \| dynamic \|/);
  });

  it('opset 14 (decomposed LayerNorm) and a fixed batch of 1 import to the same architecture', async () => {
    const ref = reference('tv-vit');
    for (const [file, shape] of [
      ['tv-vit-opset14.onnx', -1],
      ['tv-vit-fixed.onnx', 1],
    ] as const) {
      const out = join(tmp, file);
      const result = await runImport({ model: fixture(file), out, calib: CALIB, labels: fixture('labels.txt'), efforts: [2], threads: 1 });
      assert.deepEqual(result.manifest.architecture, ref.architecture, file);
      assert.equal(result.manifest.input.shape[0], shape);
      assert.deepEqual(
        result.manifest.efforts.map((e) => e.effort),
        [2, 4],
        '--efforts 2 plus the full effort',
      );
      await checkEfforts(out, ref, 'x');
    }
  });

  it('Hugging Face ViT layout: labels from config.json id2label', async () => {
    const out = join(tmp, 'hf');
    const result = await runImport({ model: fixture('hf-vit.onnx'), out, calib: CALIB, labels: fixture('hf-config.json'), threads: 1 });
    const ref = reference('hf-vit');
    assert.deepEqual(result.manifest.architecture, ref.architecture);
    assert.deepEqual(result.manifest.labels, LABELS);
    assert.equal(result.manifest.input.name, 'pixel_values');
    await checkEfforts(out, ref, 'pixel_values');
  });

  it('mean pooling: effort 0 is offered; unlabelled calib (flat folder) skips accuracy; labels default to class_<i>', async () => {
    const flat = join(tmp, 'flat');
    mkdirSync(flat);
    for (const label of LABELS)
      for (const i of [0, 1]) symlinkSync(join(CALIB, label, `${label}-${i}.png`), join(flat, `${label}-${i}.png`));
    const out = join(tmp, 'mean');
    const result = await runImport({ model: fixture('mean-vit.onnx'), out, calib: flat, threads: 1 });
    const ref = reference('mean-vit');
    assert.deepEqual(result.manifest.architecture, ref.architecture);
    assert.deepEqual(
      result.manifest.efforts.map((e) => e.effort),
      [0, 1, 2, 3],
    );
    assert.ok(result.manifest.efforts.every((e) => e.accuracy.calib === undefined));
    assert.deepEqual(result.manifest.labels, ['class_0', 'class_1', 'class_2', 'class_3', 'class_4']);
    assert.equal(result.manifest.imported?.calib.labelled, false);
    await checkEfforts(out, ref, 'pixel_values');
  });

  it("this repository's own export (models/fmnist-vit effort-6.onnx): the shipped architecture", async () => {
    const shipped = loadModelFamily(join(import.meta.dirname, '..', '..', 'models', 'fmnist-vit'));
    const labels = join(tmp, 'fmnist-labels.txt');
    writeFileSync(labels, `${shipped.manifest.labels.join('\n')}\n`);
    const out = join(tmp, 'fmnist');
    const { mean, std } = shipped.manifest.preprocess;
    const result = await runImport({
      model: shipped.file('effort-6.onnx'),
      out,
      calib: shipped.file('samples'),
      labels,
      images: 40,
      preprocess: { mean, std, resize: 'fill' },
      threads: 1,
    });
    assert.deepEqual(result.manifest.architecture, shipped.manifest.architecture);
    assert.deepEqual(
      result.manifest.efforts.map((e) => e.effort),
      [0, 1, 2, 3, 4, 5, 6],
    );
    // The shipped full effort is the imported file: its calibration accuracy is a real model's, far above chance.
    assert.ok(
      result.manifest.efforts.at(-1)!.accuracy.calib! > 0.6,
      `full effort accuracy ${result.manifest.efforts.at(-1)!.accuracy.calib}`,
    );
  });

  it('a model with its weights in an external-data file: the side file is carried into the family', async () => {
    const src = join(tmp, 'external-src');
    mkdirSync(src);
    const model = join(src, 'model.onnx');
    writeFileSync(model, encodeOnnx(externalise(readOnnx(fixture('tv-vit-opset17.onnx')).model, src, 'model.onnx.data')));
    const out = join(tmp, 'external');
    const result = await runImport({ model, out, calib: CALIB, labels: fixture('labels.txt'), efforts: [3], threads: 1 });
    assert.ok(existsSync(join(out, 'model.onnx.data')));
    for (const e of result.manifest.efforts) assert.deepEqual(externalDataFiles(readOnnx(join(out, e.file)).model), ['model.onnx.data']);
    await checkEfforts(out, reference('tv-vit'), 'x');
  });

  it('a calibration folder naming some labels and not others is refused, naming the odd folder', async () => {
    const mixed = join(tmp, 'mixed');
    for (const folder of ['apple', 'zebra']) {
      mkdirSync(join(mixed, folder), { recursive: true });
      symlinkSync(join(CALIB, 'apple', 'apple-0.png'), join(mixed, folder, 'a.png'));
    }
    await assert.rejects(
      runImport({ model: fixture('tv-vit-opset17.onnx'), out: join(tmp, 'mixed-out'), calib: mixed, labels: fixture('labels.txt') }),
      /zebra/,
    );
  });

  it('a calibration folder that names none of 1000 labels gets a short error: a few labels and the count', async () => {
    // The fixture with a 1000-class head (its 5 rows repeated), as an ImageNet classifier has.
    const { model } = readOnnx(fixture('tv-vit-opset17.onnx'));
    const graph = model.graph!;
    const rows = (name: string, width: number) => {
      const tensor = graph.initializer!.find((t) => t.name === name)!;
      const bytes = Buffer.from(tensor.rawData!);
      tensor.rawData = Buffer.concat(
        Array.from({ length: 1000 }, (_, i) => bytes.subarray((i % 5) * width * 4, ((i % 5) + 1) * width * 4)),
      );
      tensor.dims = width === 1 ? [1000] : [1000, width];
    };
    rows('heads.head.weight', 32);
    rows('heads.head.bias', 1);
    graph.output![0]!.type!.tensorType!.shape!.dim![1] = { dimValue: 1000 };
    const file = join(tmp, 'vit-1000.onnx');
    writeFileSync(file, encodeOnnx(model));
    const labels = join(tmp, 'labels-1000.txt');
    writeFileSync(labels, `${[...LABELS, ...Array.from({ length: 995 }, (_, i) => `class-${i + 5}`)].join('\n')}\n`);
    const mixed = join(tmp, 'mixed-1000');
    for (const folder of ['apple', 'zebra']) {
      mkdirSync(join(mixed, folder), { recursive: true });
      symlinkSync(join(CALIB, 'apple', 'apple-0.png'), join(mixed, folder, 'a.png'));
    }
    await assert.rejects(runImport({ model: file, out: join(tmp, 'out-1000'), calib: mixed, labels, threads: 1 }), (e) => {
      assert.ok(e instanceof InputError && e.input === join(mixed, 'zebra'), String(e));
      assert.match(e.reason, /index 0\.\.999 \(1000 labels: apple, bicycle, cloud, door, eagle, class-5, \.\.\.\)$/);
      assert.ok(e.message.length < 300, `${e.message.length} characters`);
      return true;
    });
  });

  it('re-importing into the same --out removes the earlier effort files the new import does not write, and nothing else', async () => {
    const out = join(tmp, 'reimport');
    const options = { model: fixture('tv-vit-opset17.onnx'), out, calib: CALIB, labels: fixture('labels.txt'), threads: 1 };
    await runImport(options);
    const efforts = () =>
      readdirSync(out)
        .filter((f) => f.startsWith('effort-'))
        .sort();
    assert.deepEqual(efforts(), ['effort-1.onnx', 'effort-2.onnx', 'effort-3.onnx', 'effort-4.onnx']);
    writeFileSync(join(out, 'deploy.json'), '{}\n'); // a user's file (pivot search --out) stays
    mkdirSync(join(out, '.taps-interrupted')); // an interrupted import's spilled taps go
    const again = await runImport({ ...options, efforts: [2] });
    assert.deepEqual(efforts(), ['effort-2.onnx', 'effort-4.onnx']);
    assert.ok(
      again.notes.some((n) => n.includes('removed effort-1.onnx, effort-3.onnx')),
      again.notes.join('\n'),
    );
    assert.ok(existsSync(join(out, 'deploy.json')));
    assert.ok(!existsSync(join(out, '.taps-interrupted')));
    assert.deepEqual(
      loadModelFamily(out).manifest.efforts.map((e) => e.file),
      ['effort-2.onnx', 'effort-4.onnx'],
    );
  });

  it('a non-empty --out that no import wrote is refused before anything is written', async () => {
    const foreign = join(tmp, 'photos');
    mkdirSync(foreign);
    writeFileSync(join(foreign, 'holiday.jpg'), 'not ours');
    await assert.rejects(
      runImport({ model: fixture('tv-vit-opset17.onnx'), out: foreign, calib: CALIB, labels: fixture('labels.txt'), threads: 1 }),
      (e) =>
        e instanceof ConfigError &&
        /--out: .*photos is not empty and is not a family written by pivot import \(it holds holiday\.jpg\)/.test(e.message),
    );
    assert.deepEqual(readdirSync(foreign), ['holiday.jpg']);
    // A family this repository ships (its manifest has no `imported`) is not overwritten either.
    await assert.rejects(
      runImport({
        model: fixture('tv-vit-opset17.onnx'),
        out: join(import.meta.dirname, '..', '..', 'models', 'fmnist-vit'),
        calib: CALIB,
      }),
      ConfigError,
    );
  });

  it('option errors name the option', async () => {
    await assert.rejects(
      runImport({ model: fixture('tv-vit-opset17.onnx'), out: join(tmp, 'x'), calib: CALIB, efforts: [0] }),
      (e) => e instanceof ConfigError && /--efforts: 0 .*class-token/.test(e.message),
    );
    await assert.rejects(
      runImport({
        model: fixture('tv-vit-opset17.onnx'),
        out: join(tmp, 'x'),
        calib: CALIB,
        labels: fixture('hf-config.json').replace('hf-config', 'nope'),
      }),
      /--labels: .*no such file/,
    );
    await assert.rejects(
      runImport({ model: fixture('tv-vit-opset17.onnx'), out: join(tmp, 'x'), calib: CALIB, preprocess: { size: 64 } }),
      ConfigError,
    );
  });
});

describe('pivot import (CLI), then search, classify and eval on the imported family', () => {
  it('imports, searches a pair, classifies and evaluates', async () => {
    const out = join(tmp, 'cli');
    const imported = await runPivot([
      'import',
      fixture('tv-vit-opset17.onnx'),
      '--out',
      out,
      '--calib',
      CALIB,
      '--labels',
      fixture('labels.txt'),
      '--threads',
      '1',
      '--name',
      'tiny-vit',
    ]);
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(
      imported.stdout,
      /depth 4, dim 32, heads 2, tokens 17, MLP ratio 2, image 32, patch 8, stem conv8x8\/8, pooling cls, classes 5/,
    );
    assert.match(imported.stdout, /effort 0 left out/);

    const deploy = join(out, 'deploy.json');
    const search = await runPivot([
      'search',
      '--model',
      out,
      '--data',
      CALIB,
      '--images',
      '20',
      '--lec',
      '0.3',
      '--delay-ratio',
      '0.95',
      '--cost',
      'sim',
      '--out',
      deploy,
    ]);
    assert.equal(search.code, 0, search.stderr);
    const chosen = JSON.parse(readFileSync(deploy, 'utf8')) as { low: number; high: number };
    assert.equal(chosen.high, 4);

    const classify = await runPivot(['classify', '--deploy', deploy, '--json', '--threads', '1', join(CALIB, 'apple')]);
    assert.equal(classify.code, 0, classify.stderr);
    const lines = classify.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { label: string });
    assert.equal(lines.length, 4);
    for (const l of lines) assert.ok(LABELS.includes(l.label));

    const evaluation = await runPivot(['eval', '--deploy', deploy, '--data', CALIB, '--json', '--threads', '1']);
    assert.equal(evaluation.code, 0, evaluation.stderr);
    const summary = JSON.parse(evaluation.stdout) as { count: number; failed: number; low: number; high: number };
    assert.deepEqual([summary.count, summary.failed, summary.high], [20, 0, 4]);

    const sim = await runPivot(['sim', '--vit', join(out, 'manifest.json'), '--json']);
    assert.equal(sim.code, 0, sim.stderr);
    const paths = await runPivot(['paths', '--model', out, '--data', CALIB, '--images', '20', '--out', join(tmp, 'cli-paths'), '--json']);
    assert.equal(paths.code, 0, paths.stderr);
    const again = (JSON.parse(paths.stdout) as { cka: { values: number[][] } }).cka.values;
    const fromImport = (JSON.parse(readFileSync(join(out, 'paths.json'), 'utf8')) as { cka: { values: number[][] } }).cka.values;
    again.forEach((row, i) =>
      row.forEach((v, j) => assert.ok(Math.abs(v - fromImport[i]![j]!) < 1e-6, `pivot paths repeats the import's CKA [${i}][${j}]`)),
    );

    const refused = await runPivot(['import', fixture('cnn.onnx'), '--out', join(tmp, 'cnn'), '--calib', CALIB]);
    assert.equal(refused.code, 3);
    assert.match(refused.stderr, /cnn\.onnx: not a ViT classifier pivot import can use: no Softmax branch on a residual Add/);
  });
});
