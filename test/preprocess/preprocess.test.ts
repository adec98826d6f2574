import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { InputError } from '../../src/errors.js';
import type { Preprocess } from '../../src/model/manifest.js';
import { Preprocessor } from '../../src/preprocess/index.js';
import { makeBadInputs, type BadInputs } from '../fixtures/bad-inputs/make.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures');
const REFERENCE_PNG = join(FIXTURES, 'reference-28x28.png');
const reference = JSON.parse(readFileSync(join(FIXTURES, 'preprocess-reference.json'), 'utf8')) as { shape: number[]; values: number[] };

// The training transform's parameters (scripts/pivot_vit.py: FMNIST_MEAN, FMNIST_STD), as the manifest states them.
const GRAY: Preprocess = { resize: { width: 28, height: 28, fit: 'fill', kernel: 'lanczos3' }, channels: 1, mean: [0.286], std: [0.353] };

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

const meanAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
};

async function rejects(p: Promise<unknown>, input: string, reason: RegExp) {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof InputError, `expected an InputError, got ${String(err)}`);
    assert.equal(err.input, input);
    assert.match(err.reason, reason);
    assert.ok(err.message.startsWith(input));
    return true;
  });
}

describe('preprocessing', () => {
  const pre = new Preprocessor(GRAY);
  let dir: string;
  let bad: BadInputs;
  let expected: Float32Array;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pivot-preprocess-'));
    bad = await makeBadInputs(dir, REFERENCE_PNG);
    expected = Float32Array.from(reference.values);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reproduces the training transform for the reference image to 1e-6', async () => {
    const tensor = await pre.tensor(REFERENCE_PNG);
    assert.equal(
      tensor.length,
      reference.shape.reduce((a, b) => a * b, 1),
    );
    assert.ok(maxAbsDiff(tensor, expected) < 1e-6, `max diff ${maxAbsDiff(tensor, expected)}`);
  });

  it('gives the same tensor for raw pixels on the grid (the IDX fast path) as for the PNG', async () => {
    const { data } = await sharp(REFERENCE_PNG).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
    const raw = await pre.tensor({ data: new Uint8Array(data), width: 28, height: 28, channels: 1 });
    assert.deepEqual(raw, await pre.tensor(REFERENCE_PNG));
  });

  it('decodes lossless PNG, WebP, TIFF, GIF and AVIF variants of the reference to the same tensor, JPEG closely', async () => {
    const base = sharp(REFERENCE_PNG).toColourspace('b-w');
    const lossless = {
      'ref.png': base.clone().png(),
      'ref.webp': base.clone().webp({ lossless: true }),
      'ref.tiff': base.clone().tiff({ compression: 'lzw' }), // sharp's default TIFF compression is lossy JPEG
      'ref.gif': base.clone().gif(),
      'ref.avif': base.clone().avif({ lossless: true }),
    };
    for (const [name, pipeline] of Object.entries(lossless)) {
      const path = join(dir, name);
      await pipeline.toFile(path);
      const diff = maxAbsDiff(await pre.tensor(path), expected);
      // AVIF stores YUV, so 'lossless' may still move a grey level by one: 1/255/std ~ 0.011.
      assert.ok(diff < (name.endsWith('.avif') ? 0.012 : 1e-6), `${name}: max diff ${diff}`);
    }
    const jpeg = join(dir, 'ref.jpg');
    await base.clone().jpeg({ quality: 95 }).toFile(jpeg);
    assert.ok(meanAbsDiff(await pre.tensor(jpeg), expected) < 0.05);
  });

  it('takes the first frame of an animated GIF', async () => {
    const white = await sharp({ create: { width: 28, height: 28, channels: 3, background: '#ffffff' } })
      .png()
      .toBuffer();
    const black = await sharp({ create: { width: 28, height: 28, channels: 3, background: '#000000' } })
      .png()
      .toBuffer();
    const path = join(dir, 'two-frames.gif');
    await sharp([white, black], { join: { animated: true } })
      .gif()
      .toFile(path);
    const tensor = await pre.tensor(path);
    const whiteValue = (1 - 0.286) / 0.353;
    assert.ok(tensor.every((v) => Math.abs(v - whiteValue) < 1e-5));
  });

  it('applies the EXIF orientation', async () => {
    // Left half white, right half black; orientation 6 means "rotate 90 degrees clockwise to display".
    const pixels = new Uint8Array(28 * 28).map((_, i) => (i % 28 < 14 ? 255 : 0));
    const path = join(dir, 'oriented.webp');
    await sharp(pixels, { raw: { width: 28, height: 28, channels: 1 } })
      .webp({ lossless: true })
      .withMetadata({ orientation: 6 })
      .toFile(path);
    const tensor = await pre.tensor(path);
    const white = (1 - 0.286) / 0.353;
    // After the rotation the white half is on top.
    assert.ok(Math.abs(tensor[2 * 28 + 5]! - white) < 1e-5, 'top row should be white');
    assert.ok(tensor[25 * 28 + 5]! < 0, 'bottom row should be black');
  });

  it('flattens transparency onto black (the background of the training images)', async () => {
    const path = join(dir, 'transparent-white.png');
    await sharp({ create: { width: 40, height: 40, channels: 4, background: { r: 255, g: 255, b: 255, alpha: 0 } } })
      .png()
      .toFile(path);
    const tensor = await pre.tensor(path);
    const black = (0 - 0.286) / 0.353;
    assert.ok(tensor.every((v) => Math.abs(v - black) < 1e-5));
  });

  it('resizes with the manifest fit and produces RGB planes (CHW) for a 3-channel model', async () => {
    const rgb = new Preprocessor({
      ...GRAY,
      resize: { ...GRAY.resize, width: 8, height: 4 },
      channels: 3,
      mean: [0, 0.5, 0],
      std: [1, 1, 0.5],
    });
    const path = join(dir, 'red.png');
    await sharp({ create: { width: 64, height: 32, channels: 3, background: { r: 255, g: 0, b: 0 } } })
      .png()
      .toFile(path);
    const tensor = await rgb.tensor(path);
    assert.equal(tensor.length, 3 * 8 * 4);
    const plane = (c: number) => Array.from(tensor.subarray(c * 32, (c + 1) * 32));
    assert.ok(plane(0).every((v) => Math.abs(v - 1) < 1e-6));
    assert.ok(plane(1).every((v) => Math.abs(v + 0.5) < 1e-6));
    assert.ok(plane(2).every((v) => Math.abs(v) < 1e-6));
  });

  it('accepts CMYK JPEG, 16-bit PNG, grayscale and RGBA images', async () => {
    for (const path of Object.values(bad.accepted)) {
      const tensor = await pre.tensor(path);
      assert.equal(tensor.length, 28 * 28);
      assert.ok(tensor.every(Number.isFinite), path);
    }
    // The 16-bit PNG holds the reference's grey levels scaled to 16 bits (upsampled to 56 px first).
    const from16 = await pre.tensor(bad.accepted.png16);
    assert.ok(meanAbsDiff(from16, expected) < 0.1, `16-bit PNG mean diff ${meanAbsDiff(from16, expected)}`);
  });

  it('refuses an empty file, a text file named .jpg, a truncated JPEG and a 30000x30000 PNG header, naming file and reason', async () => {
    const { empty, text, truncated, bomb } = bad.refused;
    await rejects(pre.tensor(empty), empty, /empty file/);
    await rejects(pre.tensor(text), text, /not a supported image/);
    await rejects(pre.tensor(truncated), truncated, /truncated or corrupt/);
    await rejects(pre.tensor(bomb), bomb, /claims 30000x30000 pixels, above the \d+-pixel limit/);
  });

  it('refuses missing files, directories, empty buffers and images over a configured pixel limit', async () => {
    const missing = join(dir, 'nope.png');
    await rejects(pre.tensor(missing), missing, /no such file/);
    await rejects(pre.tensor(dir), dir, /is a directory/);
    await rejects(pre.tensor(Buffer.alloc(0), 'upload-1'), 'upload-1', /empty buffer/);
    const small = new Preprocessor(GRAY, { limitInputPixels: 28 * 28 - 1 });
    await rejects(small.tensor(REFERENCE_PNG), REFERENCE_PNG, /28x28 pixels, above the 783-pixel limit/);
  });

  it('decodes an in-memory buffer', async () => {
    const tensor = await pre.tensor(readFileSync(REFERENCE_PNG), 'memory');
    assert.ok(maxAbsDiff(tensor, expected) < 1e-6);
  });
});
