/**
 * The Phase 1 analysis model (manifest.analysis): the full ViT with an `attn_gate` input
 * (one 0/1 per encoder, multiplying that encoder's attention branch) and the residual-stream
 * taps MLP_0..MLP_D and A_1..A_D as extra outputs. One session stays resident and serves
 * both the activation taps (gate all ones) and gated accuracy runs of random paths.
 */
import { InputError, ModelLoadError } from '../errors.js';
import type { ModelFamily } from './manifest.js';
import { createSession, dimsAccept, float32Tensor, showDims, type OrtSession } from './ort.js';

export interface AnalysisOutputs {
  /** [batch, classes] logits. */
  logits: Float32Array;
  /** The requested taps by output name, each [batch, tokens, dim]. */
  taps: Map<string, Float32Array>;
  /** The dims onnxruntime reported for every fetched output, by output name. */
  dims: Record<string, readonly number[]>;
}

export interface AnalysisOptions {
  /** onnxruntime intra-op threads (default: onnxruntime's choice). */
  threads?: number;
}

export class AnalysisModel {
  readonly depth: number;
  /** Floats per input image (channels x height x width). */
  readonly imageSize: number;
  /** Floats per tap per image (tokens x dim). */
  readonly tapSize: number;
  readonly classes: number;
  private readonly inputName: string;
  private readonly outputName: string;
  private readonly gateName: string;
  /** Output names of MLP_0..MLP_D. */
  readonly mlpNames: readonly string[];
  /** Output names of A_1..A_D. */
  readonly attnNames: readonly string[];

  private constructor(
    private readonly session: OrtSession,
    readonly family: ModelFamily,
    readonly file: string,
  ) {
    const { manifest } = family;
    const analysis = manifest.analysis!;
    const arch = manifest.architecture;
    this.depth = arch.depth;
    this.classes = arch.classes;
    this.imageSize = manifest.input.shape.slice(1).reduce((a, b) => a * b, 1);
    this.tapSize = arch.tokens * arch.dim;
    this.inputName = manifest.input.name;
    this.outputName = manifest.output.name;
    this.gateName = analysis.gate_input;
    this.mlpNames = analysis.mlp_outputs;
    this.attnNames = analysis.attn_outputs;
  }

  /** Loads manifest.analysis.file and checks that its inputs and outputs are the ones the manifest names. */
  static async open(family: ModelFamily, options: AnalysisOptions = {}): Promise<AnalysisModel> {
    const analysis = family.manifest.analysis;
    if (!analysis)
      throw new ModelLoadError(
        `${family.manifestPath}: analysis: missing; Phase 1 needs an analysis graph with an attention gate and taps (see docs/paths.md)`,
      );
    const file = family.file(analysis.file);
    const session = await createSession(file, { intraOpThreads: options.threads || undefined });
    const model = new AnalysisModel(session, family, file);
    model.checkGraph();
    return model;
  }

  private checkGraph(): void {
    const { manifest } = this.family;
    const where = `${this.file} (manifest.analysis)`;
    const inputs = new Set(this.session.inputNames);
    const outputs = new Set(this.session.outputNames);
    for (const name of [this.inputName, this.gateName])
      if (!inputs.has(name)) throw new ModelLoadError(`${where}: has no input '${name}' (inputs: ${[...inputs].join(', ')})`);
    for (const name of [this.outputName, ...this.mlpNames, ...this.attnNames])
      if (!outputs.has(name)) throw new ModelLoadError(`${where}: has no output '${name}' (outputs: ${[...outputs].join(', ')})`);
    const pixel = this.session.inputMetadata.find((m) => m.name === this.inputName);
    if (pixel?.isTensor && !dimsAccept(manifest.input.shape, pixel.shape))
      throw new ModelLoadError(
        `${where}: input '${this.inputName}' has shape ${showDims(pixel.shape)}, manifest input.shape is ${showDims(manifest.input.shape)}`,
      );
  }

  /**
   * Runs `batch` images (`pixels`: batch x imageSize normalized floats) with attention gate
   * `gate` (0/1 per encoder), fetching the logits and the tap outputs named in `taps`.
   * Fetching only some taps bounds memory on large models.
   */
  async run(pixels: Float32Array, batch: number, gate: readonly number[], taps: readonly string[] = []): Promise<AnalysisOutputs> {
    if (pixels.length !== batch * this.imageSize)
      throw new InputError('pixel_values', `${pixels.length} floats for ${batch} image(s) of ${this.imageSize}`);
    if (gate.length !== this.depth) throw new InputError('attn_gate', `${gate.length} entries for depth ${this.depth}`);
    const known = new Set([...this.mlpNames, ...this.attnNames]);
    for (const name of taps) if (!known.has(name)) throw new InputError('taps', `'${name}' is not a tap of ${this.file}`);
    const [, c, h, w] = this.family.manifest.input.shape;
    const feeds = {
      [this.inputName]: float32Tensor(pixels, [batch, c!, h!, w!]),
      [this.gateName]: float32Tensor(Float32Array.from(gate), [this.depth]),
    };
    const result = await this.session.run(feeds, [this.outputName, ...taps]);
    const dims: Record<string, readonly number[]> = {};
    const read = (name: string, size: number): Float32Array => {
      const tensor = result[name]!;
      dims[name] = tensor.dims;
      const data = tensor.data as Float32Array;
      if (tensor.type !== 'float32' || data.length !== batch * size)
        throw new ModelLoadError(
          `${this.file}: output '${name}' is ${tensor.type} [${tensor.dims.join(',')}], expected float32 with ${size} values per image`,
        );
      return data;
    };
    return {
      logits: read(this.outputName, this.classes),
      taps: new Map(taps.map((name) => [name, read(name, this.tapSize)])),
      dims,
    };
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
