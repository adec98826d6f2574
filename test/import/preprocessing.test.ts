import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { ConfigError } from '../../src/errors.js';
import { buildPreprocess, type ModelImageInput, type PreprocessFlags } from '../../src/import/preprocessing.js';
import { PreprocessSchema } from '../../src/model/manifest.js';
import { Preprocessor } from '../../src/preprocess/index.js';

const RGB_224: ModelImageInput = { channels: 3, width: 224, height: 224 };
const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'preprocess-rgb');
const recipes = (
  JSON.parse(readFileSync(join(FIXTURE, 'reference.json'), 'utf8')) as { recipes: Record<string, { file: string; preprocess: unknown }> }
).recipes;
const recipe = (name: string) => PreprocessSchema.parse(recipes[name]!.preprocess);

// As Hugging Face writes them (facebook/deit-*, google/vit-* style), trimmed to the fields read.
const HF_VIT = {
  do_normalize: true,
  do_rescale: true,
  do_resize: true,
  image_mean: [0.5, 0.5, 0.5],
  image_processor_type: 'ViTImageProcessor',
  image_std: [0.5, 0.5, 0.5],
  resample: 2,
  rescale_factor: 0.00392156862745098,
  size: { height: 224, width: 224 },
};
const HF_DEIT_LEGACY = {
  crop_size: 224,
  do_center_crop: true,
  do_normalize: true,
  do_resize: true,
  feature_extractor_type: 'DeiTFeatureExtractor',
  image_mean: [0.485, 0.456, 0.406],
  image_std: [0.229, 0.224, 0.225],
  resample: 3,
  size: 256,
};
const HF_SHORTEST_EDGE = { ...HF_DEIT_LEGACY, size: { shortest_edge: 256 }, crop_size: { height: 224, width: 224 } };

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function configFile(content: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'pivot-preprocessor-'));
  dirs.push(dir);
  const path = join(dir, 'preprocessor_config.json');
  writeFileSync(path, content);
  return path;
}

function configError(fn: () => unknown, pattern: RegExp) {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    assert.match(err.message, pattern);
    return true;
  });
}

describe('buildPreprocess: Hugging Face preprocessor_config.json', () => {
  it('ViT (size {height, width}, bilinear, mean = std = 0.5) is a bilinear fill to 224x224', () => {
    const { preprocess } = buildPreprocess(RGB_224, { config: configFile(JSON.stringify(HF_VIT)) });
    assert.deepEqual(preprocess, recipe('vit-bilinear-fill-224'));
  });

  it('shortest_edge 256 + crop 224 + bicubic reproduces torchvision Resize(256) + CenterCrop(224) on a photo', async () => {
    const { preprocess } = buildPreprocess(RGB_224, { config: HF_SHORTEST_EDGE });
    assert.deepEqual(preprocess, recipe('deit-bicubic-256-crop-224'));
    const tensor = await new Preprocessor(preprocess).tensor(join(FIXTURE, 'photo-400x300.png'));
    const bytes = gunzipSync(readFileSync(join(FIXTURE, recipes['deit-bicubic-256-crop-224']!.file)));
    const expected = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
    let max = 0;
    for (let i = 0; i < tensor.length; i++) max = Math.max(max, Math.abs(tensor[i]! - expected[i]!));
    assert.ok(max < 3 / 255 / 0.224, `max diff ${max}`); // 3 grey levels (see test/preprocess/rgb-reference.test.ts)
  });

  it('legacy DeiT (size 256 as an int) resizes to 256x256 then crops, as DeiTImageProcessor reads it', () => {
    const { preprocess } = buildPreprocess(RGB_224, { config: HF_DEIT_LEGACY });
    assert.deepEqual(preprocess.resize, { width: 224, height: 224, fit: 'cover', kernel: 'cubic', crop_from: { width: 256, height: 256 } });
    assert.equal(preprocess.rescale, undefined); // the default 1/255 is left implicit
  });

  it('an int size means the shorter edge for CLIP-style processors', () => {
    const { preprocess } = buildPreprocess(RGB_224, { config: { ...HF_DEIT_LEGACY, feature_extractor_type: 'CLIPFeatureExtractor' } });
    assert.deepEqual(preprocess.resize.crop_from, { shortest_edge: 256 });
  });

  it('do_rescale false and do_normalize false keep raw 0..255 values', () => {
    const { preprocess } = buildPreprocess(RGB_224, { config: { ...HF_VIT, do_rescale: false, do_normalize: false } });
    assert.equal(preprocess.rescale, 1);
    assert.deepEqual(
      [preprocess.mean, preprocess.std],
      [
        [0, 0, 0],
        [1, 1, 1],
      ],
    );
  });

  it('box and hamming filters fall back to bilinear with a note; a missing resample takes the processor default', () => {
    const box = buildPreprocess(RGB_224, { config: { ...HF_VIT, resample: 4 } });
    assert.equal(box.preprocess.resize.kernel, 'linear');
    assert.ok(
      box.notes.some((n) => /resample.*box/.test(n)),
      box.notes.join('\n'),
    );
    const { resample: _, ...noResample } = HF_DEIT_LEGACY;
    assert.equal(buildPreprocess(RGB_224, { config: noResample }).preprocess.resize.kernel, 'cubic');
  });

  it('bad configs name the field', () => {
    const path = configFile('{}');
    configError(() => buildPreprocess(RGB_224, { config: configFile('{"size": ') }), /preprocessor_config\.json: not valid JSON/);
    configError(() => buildPreprocess(RGB_224, { config: join(path, '..', 'missing.json') }), /missing\.json: no such file/);
    configError(
      () => buildPreprocess(RGB_224, { config: { ...HF_VIT, image_mean: [0.5, 0.5] } }),
      /image_mean: has 2 values but the model takes 3/,
    );
    configError(() => buildPreprocess(RGB_224, { config: { ...HF_VIT, image_std: [0.5, 0, 0.5] } }), /image_std/);
    configError(() => buildPreprocess(RGB_224, { config: { ...HF_VIT, resample: 9 } }), /resample/);
    configError(
      () => buildPreprocess(RGB_224, { config: { ...HF_VIT, size: { shortest_edge: 224 } } }),
      /size: shortest_edge without do_center_crop/,
    );
    configError(
      () => buildPreprocess(RGB_224, { config: { ...HF_DEIT_LEGACY, size: 200 } }),
      /size: 200 is smaller than crop_size 224x224/,
    );
    configError(
      () => buildPreprocess(RGB_224, { config: { ...HF_VIT, size: { height: 256, width: 256 } } }),
      /size: gives 256x256 images but the model's input is 224x224/,
    );
    configError(() => buildPreprocess(RGB_224, { config: { ...HF_VIT, image_mean: undefined } }), /image_mean: missing/);
  });
});

describe('buildPreprocess: flags', () => {
  const flags = (f: PreprocessFlags, input = RGB_224) => buildPreprocess(input, { flags: f });

  it('--size, --resize, --mean and --std (one value repeats per channel)', () => {
    const { preprocess } = flags({ size: '224', resize: 'cover', mean: '0.5', std: '0.25,0.5,0.75' });
    assert.deepEqual(preprocess, {
      resize: { width: 224, height: 224, fit: 'cover', kernel: 'linear' },
      channels: 3,
      mean: [0.5, 0.5, 0.5],
      std: [0.25, 0.5, 0.75],
    });
  });

  it('nothing given: the model grid, fill, bilinear, ImageNet statistics, with notes saying so', () => {
    const { preprocess, notes } = flags({});
    assert.deepEqual(preprocess.resize, { width: 224, height: 224, fit: 'fill', kernel: 'linear' });
    assert.deepEqual(preprocess.mean, [0.485, 0.456, 0.406]);
    assert.ok(notes.some((n) => /ImageNet/.test(n)) && notes.some((n) => /bilinear/.test(n)), notes.join('\n'));
  });

  it('flags override the config field by field; --resize replaces its crop recipe', () => {
    const { preprocess } = buildPreprocess(RGB_224, { config: HF_SHORTEST_EDGE, flags: { resize: 'contain', mean: '0,0,0' } });
    assert.deepEqual(preprocess.resize, { width: 224, height: 224, fit: 'contain', kernel: 'cubic' });
    assert.deepEqual(
      [preprocess.mean, preprocess.std],
      [
        [0, 0, 0],
        [0.229, 0.224, 0.225],
      ],
    );
  });

  it('a model without a fixed input size needs --size', () => {
    configError(() => flags({}, { channels: 3 }), /--size: the model input has no fixed height and width/);
    assert.equal(flags({ size: 96 }, { channels: 3 }).preprocess.resize.width, 96);
  });

  it('bad flags name the flag', () => {
    configError(() => flags({ size: '22.5' }), /--size: expected a positive integer/);
    configError(() => flags({ size: '256' }), /--size: gives 256x256 images but the model's input is 224x224/);
    configError(() => flags({ resize: 'stretch' }), /--resize: expected one of fill, cover, contain, got "stretch"/);
    configError(() => flags({ mean: '0.5,,0.5' }), /--mean: expected comma-separated numbers/);
    configError(() => flags({ mean: '0.5,0.5' }), /--mean: has 2 values but the model takes 3 channel/);
    configError(() => flags({ std: '0.5,0,0.5' }), /--std: every value must be positive/);
    configError(() => flags({}, { channels: 1, width: 28, height: 28 }), /--mean\/--std: required for a model with 1 input channel/);
  });
});
