/**
 * The architecture of a detected ViT, measured rather than guessed: one onnxruntime run of
 * the graph on a zero image, with the residual stream, a Softmax and an MLP hidden layer
 * fetched as extra outputs, gives tokens, width, heads, MLP width and classes.
 */
import { ConfigError, ModelLoadError } from '../errors.js';
import type { Architecture } from '../model/manifest.js';
import { outputDims } from '../model/probe.js';
import type { Detected } from './detect.js';

export interface MeasuredArchitecture {
  architecture: Architecture;
  /** The input shape for the manifest: -1 for a dynamic batch. */
  inputShape: [number, number, number, number];
  batch: 'dynamic' | number;
}

/** Input dims to probe with: the fixed batch (or 1), channels, and the fixed size or `size`. */
function probeInput(
  detected: Detected,
  file: string,
  size?: number,
): { dims: [number, number, number, number]; batch: 'dynamic' | number } {
  const [n, c, h, w] = detected.input.dims;
  const fail = (reason: string): never => {
    throw new ModelLoadError(`${file}: input '${detected.input.name}' [${detected.input.dims.join(',')}]: ${reason}`);
  };
  if (typeof c !== 'number' || (c !== 1 && c !== 3)) fail('the channel dimension must be 1 or 3');
  const side = (d: number | string | undefined, axis: string): number => {
    if (typeof d === 'number') return d;
    if (size === undefined) throw new ConfigError(`--size: required, the model's input ${axis} is dynamic ('${d}')`);
    return size;
  };
  const height = side(h, 'height');
  const width = side(w, 'width');
  if (height !== width) fail(`non-square inputs (${height}x${width}) are not supported`);
  const batch = typeof n === 'number' ? n : 'dynamic';
  if (batch !== 'dynamic' && batch !== 1) fail(`a fixed batch of ${batch} is not supported (export with batch 1 or a dynamic batch)`);
  return { dims: [1, c as number, height, width], batch };
}

/** Runs `probeFile` (the imported graph with the probe tensors as outputs) and reads the architecture off the shapes. */
export async function measureArchitecture(
  probeFile: string,
  detected: Detected,
  file: string,
  size?: number,
): Promise<MeasuredArchitecture> {
  const { dims, batch } = probeInput(detected, file, size);
  const first = detected.blocks[0]!;
  const dimsOf = await outputDims(probeFile, { name: detected.input.name, dims }, [
    first.residual,
    first.softmax,
    first.mlpHidden,
    detected.output,
  ]);
  const fail = (what: string, got: readonly number[]): never => {
    throw new ModelLoadError(
      `${file}: ${what} has shape [${got.join(',')}]; expected ${what === 'the residual stream' ? '[batch, tokens, dim]' : 'otherwise'}`,
    );
  };
  const stream = dimsOf[first.residual]!;
  if (stream.length !== 3 || stream[0] !== 1) fail('the residual stream', stream);
  const [, tokens, dim] = stream as [number, number, number];
  const softmax = dimsOf[first.softmax]!;
  const heads = softmax.slice(0, -2).reduce((a, b) => a * b, 1);
  if (softmax.at(-1) !== tokens || softmax.at(-2) !== tokens) fail(`the attention Softmax (${tokens} tokens)`, softmax);
  const hidden = dimsOf[first.mlpHidden]!.at(-1)!;
  const logits = dimsOf[detected.output]!;
  if (logits.length !== 2) fail(`the classifier output '${detected.output}'`, logits);
  const image = dims[2];
  const patch = detected.stemConv?.stride ?? Math.round(image / Math.sqrt(tokens - (detected.pooling === 'cls' ? 1 : 0)));
  return {
    architecture: {
      image,
      patch,
      channels: dims[1],
      dim,
      depth: detected.blocks.length,
      heads,
      mlp_ratio: hidden / dim,
      tokens,
      classes: logits[1]!,
      pooling: detected.pooling,
      stem: detected.stemConv ? `conv${detected.stemConv.kernel}x${detected.stemConv.kernel}/${detected.stemConv.stride}` : 'patch-conv',
    },
    inputShape: [batch === 'dynamic' ? -1 : batch, dims[1], image, image],
    batch,
  };
}

/** Multiply-accumulates of one image through an effort (the same count as scripts/export_onnx.py, with every token). */
export function effortMacs(a: Architecture, active: readonly number[]): number {
  const t = a.tokens;
  const d = a.dim;
  const hidden = Math.round(d * a.mlp_ratio);
  const patches = (a.image / a.patch) ** 2;
  let total = patches * a.patch * a.patch * a.channels * d + d * a.classes;
  for (const on of active) {
    if (on) total += t * d * 3 * d + 2 * t * t * d + t * d * d;
    total += 2 * t * d * hidden;
  }
  return total;
}
