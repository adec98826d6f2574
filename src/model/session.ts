/**
 * onnxruntime-node sessions, one per effort, created once and kept resident: creating
 * and releasing sessions repeatedly leaks memory in onnxruntime-node.
 */
import { InferenceError, ModelLoadError } from '../errors.js';
import type { ModelFamily } from './manifest.js';
import { createSession, dimsAccept, float32Tensor, showDims, type OrtOutputs, type OrtSession, type SessionOptions } from './ort.js';

export type { SessionOptions } from './ort.js';

/** One effort of a model family, ready to run batches. */
export class EffortSession {
  /** [channels, height, width] of one input. */
  readonly sampleDims: readonly number[];
  readonly sampleSize: number;
  readonly classes: number;
  /** The batch a graph exported without a dynamic batch takes (manifest input.shape[0] > 0); runs are split into calls of it. */
  private readonly fixedBatch: number | undefined;

  private constructor(
    readonly effort: number,
    readonly path: string,
    private readonly session: OrtSession,
    private readonly inputName: string,
    private readonly outputName: string,
    family: ModelFamily,
  ) {
    this.sampleDims = family.manifest.input.shape.slice(1);
    const batchDim = family.manifest.input.shape[0]!;
    this.fixedBatch = batchDim > 0 ? batchDim : undefined;
    this.sampleSize = this.sampleDims.reduce((a, b) => a * b, 1);
    this.classes = family.manifest.labels.length;
  }

  /** Creates the session for `effort` and checks its input/output names, types and shapes against the manifest. */
  static async load(family: ModelFamily, effort: number, options: SessionOptions = {}): Promise<EffortSession> {
    const entry = family.effort(effort);
    const path = family.file(entry.file);
    const { input, output, labels } = family.manifest;
    const session = await createSession(path, options);
    const fail = (field: string, reason: string): never => {
      void session.release();
      throw new ModelLoadError(`${path}: ${reason} (manifest field ${field} in ${family.manifestPath})`);
    };
    const inMeta = session.inputMetadata.find((m) => m.name === input.name);
    if (!inMeta) fail('input.name', `has no input '${input.name}' (inputs: ${session.inputNames.join(', ')})`);
    const extra = session.inputNames.filter((n) => n !== input.name);
    if (extra.length) fail('input.name', `needs inputs the manifest does not describe: ${extra.join(', ')}`);
    if (inMeta?.isTensor) {
      if (inMeta.type !== input.dtype) fail('input.dtype', `input '${input.name}' is ${inMeta.type}, manifest says ${input.dtype}`);
      if (!dimsAccept(input.shape, inMeta.shape))
        fail('input.shape', `input '${input.name}' has shape ${showDims(inMeta.shape)}, manifest says ${showDims(input.shape)}`);
    }
    const outMeta = session.outputMetadata.find((m) => m.name === output.name);
    if (!outMeta) fail('output.name', `has no output '${output.name}' (outputs: ${session.outputNames.join(', ')})`);
    if (outMeta?.isTensor && !dimsAccept([input.shape[0]! > 0 ? input.shape[0]! : -1, labels.length], outMeta.shape))
      fail(
        'labels',
        `output '${output.name}' has shape ${showDims(outMeta.shape)}, expected [batch,${labels.length}] for ${labels.length} labels`,
      );
    const loaded = new EffortSession(effort, path, session, input.name, output.name, family);
    // The first run pays for memory planning and kernel selection: do it now, not on a user's first image.
    await loaded.run(new Float32Array(loaded.sampleSize), 1);
    return loaded;
  }

  /** Runs `count` inputs packed CHW-contiguously in `batch`; returns row-major [count, classes] logits. */
  async run(batch: Float32Array, count: number): Promise<Float32Array> {
    const fixed = this.fixedBatch;
    if (fixed !== undefined && count !== fixed && count % fixed === 0 && batch.length === count * this.sampleSize) {
      const logits = new Float32Array(count * this.classes);
      for (let start = 0; start < count; start += fixed)
        logits.set(await this.run(batch.subarray(start * this.sampleSize, (start + fixed) * this.sampleSize), fixed), start * this.classes);
      return logits;
    }
    if (batch.length !== count * this.sampleSize)
      throw new InferenceError(
        `${this.path}: got ${batch.length} floats for ${count} input(s), expected ${count * this.sampleSize} (${count} x ${showDims(this.sampleDims)})`,
      );
    const shape = [count, ...this.sampleDims];
    let result: OrtOutputs;
    try {
      result = await this.session.run({ [this.inputName]: float32Tensor(batch, shape) });
    } catch (err) {
      throw new InferenceError(
        `${this.path}: onnxruntime failed on '${this.inputName}' float32 ${showDims(shape)}: ${(err as Error).message}`,
        { cause: err },
      );
    }
    const logits = result[this.outputName];
    const expected = count * this.classes;
    if (!logits || logits.type !== 'float32' || logits.data.length !== expected)
      throw new InferenceError(
        `${this.path}: output '${this.outputName}' is ${logits ? `${logits.type} ${showDims(logits.dims)}` : 'missing'}, expected float32 [${count},${this.classes}]`,
      );
    return logits.data as Float32Array;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/**
 * The resident sessions of one model family: each effort's session is created on first
 * use and reused for the life of the process.
 */
export class ModelRuntime {
  private readonly sessions = new Map<number, Promise<EffortSession>>();

  constructor(
    readonly family: ModelFamily,
    readonly options: SessionOptions = {},
  ) {}

  session(effort: number): Promise<EffortSession> {
    let session = this.sessions.get(effort);
    if (!session) {
      session = EffortSession.load(this.family, effort, this.options);
      // A failed load is not cached, so a later call reports the error again instead of a stale promise.
      session.catch(() => this.sessions.delete(effort));
      this.sessions.set(effort, session);
    }
    return session;
  }

  /** Releases every session (at process shutdown only). */
  async close(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.allSettled(all.map(async (s) => (await s).release()));
  }
}
