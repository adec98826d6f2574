/**
 * The sharp pipeline against torchvision's own transforms (scripts/make_preprocess_rgb_reference.py)
 * for one RGB photo, per recipe an imported model's preprocessing comes in.
 *
 * Tolerance: the crop grid is exact (the nearest-neighbour recipe matches bit for bit), so what
 * remains is libvips' filter against PIL's: same kernels (bilinear = linear, bicubic = cubic),
 * different fixed-point rounding. Measured on this photo for all three filtered recipes: at most
 * 2 grey levels on any value, 0.24-0.26 grey levels on average (a quarter of the values one level
 * off). The bounds, 3 levels and 0.35 on average, leave one level of slack for other libvips and
 * Pillow builds, and sit well below a wrong filter (cubic where torchvision used bilinear: 16
 * levels, 0.62 on average; mitchell: 7, 0.33) or a crop one pixel off (101, 2.7).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import sharp from 'sharp';
import { PreprocessSchema, type Preprocess } from '../../src/model/manifest.js';
import { Preprocessor } from '../../src/preprocess/index.js';

const DIR = join(import.meta.dirname, '..', 'fixtures', 'preprocess-rgb');
const fixture = JSON.parse(readFileSync(join(DIR, 'reference.json'), 'utf8')) as {
  image: string;
  recipes: Record<string, { file: string; shape: number[]; preprocess: unknown }>;
};
const PHOTO = join(DIR, fixture.image);

function reference(name: string): Float32Array {
  const bytes = gunzipSync(readFileSync(join(DIR, fixture.recipes[name]!.file)));
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
}

/** Max and mean absolute difference in grey levels (0..255), undoing each channel's std. */
function greyLevelDiff(actual: Float32Array, expected: Float32Array, spec: Preprocess): { max: number; mean: number } {
  assert.equal(actual.length, expected.length);
  const plane = actual.length / spec.channels;
  let max = 0;
  let sum = 0;
  for (let i = 0; i < actual.length; i++) {
    const levels = Math.abs(actual[i]! - expected[i]!) * spec.std[Math.floor(i / plane)]! * 255;
    max = Math.max(max, levels);
    sum += levels;
  }
  return { max, mean: sum / actual.length };
}

async function diffFor(name: string, edit: (p: Preprocess) => void = () => {}) {
  const spec = PreprocessSchema.parse(fixture.recipes[name]!.preprocess);
  edit(spec);
  return greyLevelDiff(await new Preprocessor(spec).tensor(PHOTO), reference(name), spec);
}

describe('RGB preprocessing against torchvision', () => {
  it('nearest: Resize(256) + CenterCrop(224) lands on the same pixel grid exactly', async () => {
    const { max } = await diffFor('nearest-256-crop-224');
    assert.ok(max < 1e-3, `max ${max} grey levels`);
  });

  for (const name of ['deit-bicubic-256-crop-224', 'bilinear-cover-224', 'vit-bilinear-fill-224']) {
    it(`${name}: within 3 grey levels per value and 0.35 on average`, async () => {
      const { max, mean } = await diffFor(name);
      assert.ok(max <= 3, `max ${max.toFixed(2)} grey levels`);
      assert.ok(mean <= 0.35, `mean ${mean.toFixed(3)} grey levels`);
    });
  }

  it('the bound catches a mismatched filter (cubic where torchvision used bilinear)', async () => {
    const { max, mean } = await diffFor('bilinear-cover-224', (p) => {
      p.resize.kernel = 'cubic';
    });
    assert.ok(max > 3 && mean > 0.35, `max ${max.toFixed(2)}, mean ${mean.toFixed(3)}: the bound would not notice`);
  });

  it('an EXIF-rotated photo is cropped on its displayed (upright) shape', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pivot-rgb-'));
    try {
      // Stored sideways (300x400) with orientation 6 ("rotate 90 degrees clockwise to display"): displays as the photo.
      const sideways = join(dir, 'sideways.webp');
      await sharp(PHOTO).rotate(270).withMetadata({ orientation: 6 }).webp({ lossless: true }).toFile(sideways);
      const spec = PreprocessSchema.parse(fixture.recipes['deit-bicubic-256-crop-224']!.preprocess);
      const pre = new Preprocessor(spec);
      assert.deepEqual(await pre.tensor(sideways), await pre.tensor(PHOTO));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the manifest schema refuses crop_from without cover or smaller than the crop, naming the field', () => {
    const base = fixture.recipes['deit-bicubic-256-crop-224']!.preprocess as Preprocess;
    const issues = (resize: object) =>
      PreprocessSchema.safeParse({ ...base, resize: { ...base.resize, ...resize } }).error?.issues.map(
        (i) => `${i.path.join('.')}: ${i.message}`,
      );
    assert.deepEqual(issues({ fit: 'fill' }), ['resize.fit: must be cover when crop_from is given (got fill)']);
    assert.deepEqual(issues({ crop_from: { shortest_edge: 200 } }), [
      'resize.crop_from: {"shortest_edge":200} is smaller than the 224x224 crop',
    ]);
    assert.equal(issues({}), undefined);
  });

  it('the bound catches a crop that is one pixel off', async () => {
    const { mean } = await diffFor('deit-bicubic-256-crop-224', (p) => {
      p.resize.crop_from = { shortest_edge: 257 };
    });
    assert.ok(mean > 0.35, `mean ${mean.toFixed(3)}`);
  });
});
