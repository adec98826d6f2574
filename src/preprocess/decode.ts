/**
 * Decoding with sharp into the model's pixel grid: first frame/page, EXIF orientation,
 * alpha flattened, grayscale or sRGB, resized with the manifest's fit and kernel (cover on
 * torchvision's grid, see geometry.ts),
 * 8 bits per channel. Every failure becomes an InputError naming the input and the reason.
 */
import { statSync, type Stats } from 'node:fs';
import sharp, { type Metadata, type OutputInfo, type SharpOptions } from 'sharp';
import { InputError } from '../errors.js';
import type { Preprocess } from '../model/manifest.js';
import { readFailure } from '../util/files.js';
import { coverPlan } from './geometry.js';

/** Already-decoded pixels (e.g. from an IDX file): interleaved HWC, 8 bits per channel. */
export interface RawImage {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
}

/** A file path, an encoded image in memory, or raw pixels. */
export type ImageSource = string | Buffer | RawImage;

export interface DecodeOptions {
  /** Refuse images whose header claims more pixels than this (decompression bombs). Default 16384 x 16384. */
  limitInputPixels?: number;
  /** sharp's failOn: 'warning' (default) refuses truncated and corrupt files instead of decoding grey garbage. */
  failOn?: 'none' | 'truncated' | 'error' | 'warning';
}

export const DEFAULT_PIXEL_LIMIT = 16384 * 16384;

// Every image is decoded once, so libvips' operation cache never hits: it only costs (about a
// tenth of a small image's decode CPU, measured) and holds memory and open files of inputs the
// daemon has already moved away.
sharp.cache(false);

/** The name an input goes by in errors. */
export function sourceName(source: ImageSource, name?: string): string {
  if (name) return name;
  if (typeof source === 'string') return source;
  return Buffer.isBuffer(source) ? '<buffer>' : `<raw ${source.width}x${source.height}x${source.channels}>`;
}

/** Turns sharp/libvips messages into a short reason a user can act on. */
function reasonFrom(err: unknown): string {
  const message = (err as Error).message ?? String(err);
  if (/unsupported image format/i.test(message)) return 'not a supported image (JPEG, PNG, WebP, TIFF, GIF, AVIF)';
  if (/premature end|truncated|unexpected end|not enough data|read error/i.test(message))
    return `truncated or corrupt image data (${message.trim().split('\n')[0]})`;
  // Under concurrent decoding libvips may report only that a warning tripped failOn.
  if (/warning treated as error/i.test(message)) return 'truncated or corrupt image data (the decoder reported damage)';
  return `cannot decode image: ${message.trim().split('\n')[0]}`;
}

/**
 * Cheap checks before sharp opens a path (sharp reads only what it needs, so a huge non-image
 * costs nothing; a FIFO would block a decoder thread). statSync: a stat takes microseconds, and
 * fs.promises.stat spent several times more CPU per image on its round trip through the thread pool.
 */
function checkFile(path: string, label: string): void {
  let info: Stats;
  try {
    info = statSync(path);
  } catch (err) {
    throw new InputError(label, readFailure(err), { cause: err });
  }
  if (info.isDirectory()) throw new InputError(label, 'is a directory, not an image file');
  if (!info.isFile()) throw new InputError(label, 'not a regular file');
  if (info.size === 0) throw new InputError(label, 'empty file (0 bytes)');
}

/**
 * Decodes `source` to `spec`'s width x height x channels uint8 HWC pixels.
 * `name` labels the input in errors (defaults to the path).
 */
export async function decodeToGrid(source: ImageSource, spec: Preprocess, options: DecodeOptions = {}, name?: string): Promise<Uint8Array> {
  const label = sourceName(source, name);
  const limit = options.limitInputPixels ?? DEFAULT_PIXEL_LIMIT;
  let input: string | Buffer;
  let raw: SharpOptions['raw'];
  if (typeof source === 'string') {
    checkFile(source, label);
    input = source;
  } else if (Buffer.isBuffer(source)) {
    if (source.length === 0) throw new InputError(label, 'empty buffer (0 bytes)');
    input = source;
  } else {
    if (source.data.length !== source.width * source.height * source.channels)
      throw new InputError(label, `raw pixel buffer has ${source.data.length} bytes, expected width*height*channels`);
    input = Buffer.from(source.data.buffer, source.data.byteOffset, source.data.length);
    raw = { width: source.width, height: source.height, channels: source.channels };
  }
  const open = (limitInputPixels: number | false = limit) =>
    sharp(input, { raw, limitInputPixels, failOn: options.failOn ?? 'warning', pages: 1, page: 0 });
  /** The header (without the limit, so a refusal can state the claimed size): upright size, or an InputError. */
  const header = async (): Promise<{ width: number; height: number }> => {
    let meta: Metadata;
    try {
      meta = await open(false).metadata();
    } catch (err) {
      throw new InputError(label, reasonFrom(err), { cause: err });
    }
    const pageHeight = meta.pageHeight ?? meta.height ?? 0;
    if ((meta.width ?? 0) * pageHeight > limit)
      throw new InputError(
        label,
        `image claims ${meta.width}x${meta.height} pixels, above the ${limit}-pixel limit (possible decompression bomb)`,
      );
    const turned = (meta.orientation ?? 1) >= 5;
    return { width: turned ? pageHeight : (meta.width ?? 0), height: turned ? (meta.width ?? 0) : pageHeight };
  };

  const { width, height, fit, kernel } = spec.resize;
  let pipeline = open()
    .rotate()
    .flatten({ background: { r: 0, g: 0, b: 0 } });
  pipeline = spec.channels === 1 ? pipeline.grayscale() : pipeline.toColourspace('srgb');
  // JPEG shrink-on-load would subsample before the kernel runs: off, to stay close to PIL's resize.
  const resize = { kernel, fastShrinkOnLoad: false, background: { r: 0, g: 0, b: 0 } };
  if (fit === 'cover') {
    // Only cover needs the size before decoding (torchvision's crop grid). Reading the header is a
    // second open, about a tenth of a small image's decode, so the other fits skip it.
    const oriented = raw ?? (await header());
    const plan = coverPlan(spec.resize, oriented.width, oriented.height);
    pipeline = pipeline
      .resize(plan.resizeWidth, plan.resizeHeight, { ...resize, fit: 'fill' })
      .extract({ left: plan.left, top: plan.top, width, height });
  } else {
    pipeline = pipeline.resize(width, height, { ...resize, fit });
  }
  let out: { data: Buffer; info: OutputInfo };
  try {
    out = await pipeline.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  } catch (err) {
    // sharp refuses an image over limitInputPixels from its header, before decoding; say what it claims.
    if (!raw && /pixel limit/i.test((err as Error).message)) await header();
    throw new InputError(label, reasonFrom(err), { cause: err });
  }
  const { info, data } = out;
  if (info.width !== width || info.height !== height || info.channels !== spec.channels)
    throw new InputError(label, `decoded to ${info.width}x${info.height}x${info.channels}, expected ${width}x${height}x${spec.channels}`);
  return new Uint8Array(data.buffer, data.byteOffset, data.length);
}
