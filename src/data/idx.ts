/**
 * IDX files (the MNIST / Fashion-MNIST container): magic 0x0000 <type> <ndim>, ndim
 * big-endian uint32 sizes, then the data. Gzipped files are read transparently.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { InputError } from '../errors.js';

export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

/** Where Debian's dataset-fashion-mnist package installs the IDX files. */
export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/** True when `dir` holds Fashion-MNIST style IDX files (t10k-images-idx3-ubyte[.gz]). */
export function isIdxDir(dir: string): boolean {
  return ['t10k-images-idx3-ubyte', 't10k-images-idx3-ubyte.gz'].some((f) => existsSync(join(dir, f)));
}

export function readIdx(path: string): IdxArray {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
    if (buf[0] === 0x1f && buf[1] === 0x8b) buf = gunzipSync(buf);
  } catch (err) {
    throw new InputError(path, (err as Error).message, { cause: err });
  }
  if (buf.length < 4 || buf[0] !== 0 || buf[1] !== 0) throw new InputError(path, 'not an IDX file (bad magic number)');
  if (buf[2] !== 0x08) throw new InputError(path, `IDX element type 0x${buf[2]!.toString(16)} is not unsigned byte`);
  const ndim = buf[3]!;
  const dims = Array.from({ length: ndim }, (_, i) => buf.readUInt32BE(4 + 4 * i));
  const offset = 4 + 4 * ndim;
  const expected = dims.reduce((a, b) => a * b, 1);
  if (buf.length - offset !== expected)
    throw new InputError(path, `IDX header promises ${expected} bytes of data, file has ${buf.length - offset}`);
  return { dims, data: new Uint8Array(buf.buffer, buf.byteOffset + offset, expected) };
}

export interface IdxImageSet {
  /** Number of images. */
  count: number;
  height: number;
  width: number;
  /** Row-major uint8 pixels, image after image. */
  pixels: Uint8Array;
  labels: Uint8Array;
}

/** Finds `<name>` or `<name>.gz` in `dir`. */
function idxFile(dir: string, name: string): string {
  for (const candidate of [join(dir, name), join(dir, `${name}.gz`)]) if (existsSync(candidate)) return candidate;
  throw new InputError(join(dir, name), 'no such IDX file (also looked for .gz)');
}

/** Loads a Fashion-MNIST split ('train' or 'test') from an IDX directory. */
export function loadIdxImages(dir: string, split: 'train' | 'test'): IdxImageSet {
  const prefix = split === 'train' ? 'train' : 't10k';
  const images = readIdx(idxFile(dir, `${prefix}-images-idx3-ubyte`));
  const labels = readIdx(idxFile(dir, `${prefix}-labels-idx1-ubyte`));
  const [count, height, width] = images.dims;
  if (images.dims.length !== 3 || count === undefined || height === undefined || width === undefined)
    throw new InputError(dir, `images file has ${images.dims.length} dimensions, expected 3`);
  if (labels.dims[0] !== count) throw new InputError(dir, `${count} images but ${labels.dims[0]} labels`);
  return { count, height, width, pixels: images.data, labels: labels.data };
}
