/**
 * uint8 pixels -> normalized float32 CHW, exactly as the training transform computes it:
 * (x / 255 - mean[c]) / std[c] (or x * rescale), each step rounded to float32 like torch's float32 ops.
 * A 256-entry lookup table per channel makes this one read per pixel.
 */
import type { Preprocess } from '../model/manifest.js';

export type NormalizeTable = Float32Array[];

/** One lookup table per channel: table[c][v] is the normalized value of pixel value v. */
export function normalizeTable(spec: Pick<Preprocess, 'channels' | 'mean' | 'std' | 'rescale'>): NormalizeTable {
  const f = Math.fround;
  // v / 255 (not v * (1/255)) is what ToTensor computes; other factors multiply, as Hugging Face's rescale does.
  const scale = spec.rescale === undefined ? (v: number) => v / 255 : (v: number) => v * spec.rescale!;
  return Array.from({ length: spec.channels }, (_, c) => {
    const mean = f(spec.mean[c]!);
    const std = f(spec.std[c]!);
    return Float32Array.from({ length: 256 }, (_, v) => f(f(f(scale(v)) - mean) / std));
  });
}

/**
 * Writes interleaved HWC uint8 `pixels` (channels = table.length) as planar CHW
 * floats into `out` starting at `offset`.
 */
export function normalizeInto(pixels: Uint8Array, table: NormalizeTable, out: Float32Array, offset = 0): void {
  const channels = table.length;
  if (channels === 1) {
    // Grayscale, the common case: no interleaving to undo.
    const lut = table[0]!;
    for (let i = 0; i < pixels.length; i++) out[offset + i] = lut[pixels[i]!]!;
    return;
  }
  const plane = pixels.length / channels;
  for (let c = 0; c < channels; c++) {
    const lut = table[c]!;
    const base = offset + c * plane;
    for (let i = 0, p = c; i < plane; i++, p += channels) out[base + i] = lut[pixels[p]!]!;
  }
}
