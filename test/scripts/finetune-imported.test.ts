/**
 * scripts/finetune_imported.py on a tiny torchvision ViT (test/fixtures/finetune, made by
 * scripts/make_deit.py --models tiny): `pivot import` it, fine-tune every effort below the full
 * one for one step, and check what comes back: valid ONNX efforts the runtime loads, with the
 * skipped attention still absent, new outputs, a lower loss on the probe batch, and the manifest
 * updated. Needs /usr/bin/python3 with torch and torchvision (Debian's python3-torch).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { runImport } from '../../src/import/index.js';
import { readOnnx } from '../../src/import/onnx.js';
import { EffortSession, loadModelFamily, type ModelFamily } from '../../src/model/index.js';

const ROOT = join(import.meta.dirname, '..', '..');
const FIXTURE = join(ROOT, 'test', 'fixtures', 'finetune');
const CLASSES = ['red', 'green', 'blue'];
const PER_CLASS = 4;

/** 40x40 images dominated by one colour channel, with seeded noise. */
async function writeImages(dir: string): Promise<void> {
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 80;
  for (const [c, name] of CLASSES.entries()) {
    mkdirSync(join(dir, name), { recursive: true });
    for (let i = 0; i < PER_CLASS; i++) {
      const pixels = Buffer.alloc(40 * 40 * 3);
      for (let p = 0; p < pixels.length; p++) pixels[p] = random() + (p % 3 === c ? 150 : 0);
      await sharp(pixels, { raw: { width: 40, height: 40, channels: 3 } })
        .png()
        .toFile(join(dir, name, `${i}.png`));
    }
  }
}

async function logitsOf(family: ModelFamily, input: Float32Array): Promise<Map<number, Float32Array>> {
  const out = new Map<number, Float32Array>();
  for (const { effort } of family.manifest.efforts) {
    const session = await EffortSession.load(family, effort, { intraOpThreads: 1 });
    out.set(effort, Float32Array.from(await session.run(input, 1)));
    await session.release();
  }
  return out;
}

const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

describe('scripts/finetune_imported.py', () => {
  let dir: string;
  let familyDir: string;
  let before_: Map<number, Float32Array>;
  let lines: { effort: number; loss_before: number; loss_after: number; steps: number }[];
  const input = Float32Array.from({ length: 3 * 32 * 32 }, (_, i) => Math.sin(i / 7));

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pivot-finetune-'));
    const images = join(dir, 'images');
    await writeImages(images);
    writeFileSync(join(dir, 'labels.txt'), `${CLASSES.join('\n')}\n`);
    familyDir = join(dir, 'family');
    await runImport({ model: join(FIXTURE, 'tiny.onnx'), out: familyDir, calib: images, labels: join(dir, 'labels.txt'), threads: 1 });
    before_ = await logitsOf(loadModelFamily(familyDir), input);
    const run = spawnSync(
      '/usr/bin/python3',
      [
        join(ROOT, 'scripts', 'finetune_imported.py'),
        '--family',
        familyDir,
        '--checkpoint',
        join(FIXTURE, 'tiny.pt'),
        '--images',
        images,
        '--steps',
        '1',
        '--batch',
        String(CLASSES.length * PER_CLASS),
        '--lr',
        '1e-3',
        '--no-flip',
      ],
      { encoding: 'utf8', timeout: 120_000 },
    );
    assert.equal(run.status, 0, `finetune_imported.py failed:\n${run.stderr}`);
    lines = run.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('fine-tunes every effort below the full one, one step each, lowering the loss on the probe batch', () => {
    const family = loadModelFamily(familyDir);
    const depth = family.manifest.architecture.depth;
    assert.deepEqual(
      lines.map((l) => l.effort),
      family.manifest.efforts.map((e) => e.effort).filter((e) => e < depth),
    );
    for (const l of lines) {
      assert.equal(l.steps, 1);
      assert.ok(l.loss_after < l.loss_before, `effort ${l.effort}: loss ${l.loss_before} -> ${l.loss_after}`);
    }
  });

  it('writes efforts the runtime loads, with new outputs, and leaves the full effort as imported', async () => {
    const family = loadModelFamily(familyDir);
    const after_ = await logitsOf(family, input);
    const depth = family.manifest.architecture.depth;
    for (const [effort, logits] of after_) {
      const diff = maxDiff(logits, before_.get(effort)!);
      if (effort === depth) assert.equal(diff, 0, 'the full effort changed');
      else assert.ok(diff > 1e-4, `effort ${effort}: outputs did not change (max diff ${diff})`);
    }
  });

  it('keeps the skipped attention modules out of the written graphs', () => {
    const family = loadModelFamily(familyDir);
    for (const e of family.manifest.efforts) {
      const { model } = readOnnx(family.file(e.file));
      const softmaxes = model.graph!.node!.filter((n) => n.opType === 'Softmax').length;
      assert.equal(softmaxes, e.effort, `${e.file}: ${softmaxes} Softmax node(s) for ${e.effort} active attention(s)`);
    }
  });

  it('updates the manifest: calibration accuracy per effort and fine_tuned', () => {
    const manifest = JSON.parse(readFileSync(join(familyDir, 'manifest.json'), 'utf8'));
    assert.equal(manifest.imported.fine_tuned, true);
    for (const e of manifest.efforts) assert.equal(typeof e.accuracy.calib, 'number', `effort ${e.effort} has no calib accuracy`);
  });
});
