/**
 * The manifest-driven preprocessing stage: any ImageSource -> Float32 CHW tensor that
 * matches the training transform. Raw pixels already on the model's grid (IDX data)
 * skip sharp entirely and are only normalized.
 */
import type { Preprocess } from '../model/manifest.js';
import { decodeToGrid, type DecodeOptions, type ImageSource } from './decode.js';
import { normalizeInto, normalizeTable, type NormalizeTable } from './normalize.js';

export class Preprocessor {
  /** Floats per image: channels * height * width. */
  readonly size: number;
  private readonly table: NormalizeTable;

  constructor(
    readonly spec: Preprocess,
    private readonly options: DecodeOptions = {},
  ) {
    this.size = spec.channels * spec.resize.width * spec.resize.height;
    this.table = normalizeTable(spec);
  }

  /** Decoded uint8 HWC pixels on the model's grid. */
  async pixels(source: ImageSource, name?: string): Promise<Uint8Array> {
    if (this.onGrid(source)) return source.data;
    return decodeToGrid(source, this.spec, this.options, name);
  }

  /** Normalized CHW tensor for one image, written into `out` at `offset` (allocated when omitted). */
  async tensor(source: ImageSource, name?: string, out?: Float32Array, offset = 0): Promise<Float32Array> {
    const target = out ?? new Float32Array(this.size);
    normalizeInto(await this.pixels(source, name), this.table, target, offset);
    return target;
  }

  /** Synchronous path for raw pixels already on the grid (no sharp): returns false when it does not apply. */
  tensorIfOnGrid(source: ImageSource, out: Float32Array, offset: number): boolean {
    if (!this.onGrid(source)) return false;
    normalizeInto(source.data, this.table, out, offset);
    return true;
  }

  private onGrid(source: ImageSource): source is Exclude<ImageSource, string | Buffer> {
    if (typeof source === 'string' || Buffer.isBuffer(source)) return false;
    const { width, height } = this.spec.resize;
    return source.width === width && source.height === height && source.channels === this.spec.channels;
  }
}
