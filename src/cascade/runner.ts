/**
 * The cascade runner (paper Section 3.1): preprocess a batch, run the low effort on all
 * of it, re-run only the inputs with E(x) > Th on the high effort, and answer in input
 * order. A bad input fails alone: its result carries the error and the batch goes on.
 */
import { performance } from 'node:perf_hooks';
import { PivotError, InputError } from '../errors.js';
import type { EffortSession, ModelRuntime } from '../model/index.js';
import { Preprocessor, sourceName, type DecodeOptions, type ImageSource } from '../preprocess/index.js';
import { predict, type Prediction } from './entropy.js';
import { escalations, firstEffort, type Policy } from './policy.js';

export interface CascadeConfig {
  low: number;
  high: number;
  /** Th: inputs whose low-effort E(x) exceeds it are re-run on the high effort. */
  threshold: number;
  policy?: Policy;
}

/** Wall time in ms of each stage call that handled an input (a whole batch, when batched). */
export interface StageLatency {
  preprocess: number;
  low?: number;
  high?: number;
}

export interface Classification {
  ok: true;
  /** Position of the input in the caller's sequence. */
  index: number;
  input: string;
  label: string;
  classIndex: number;
  /** Softmax probability of the predicted class. */
  probability: number;
  /** E(x) of the effort that answered. */
  entropy: number;
  /** E(x) of the low effort, which the routing decision used (cascade policy only). */
  routingEntropy?: number;
  /** The effort whose logits gave the answer. */
  effort: number;
  escalated: boolean;
  latencyMs: StageLatency;
}

export interface Failure {
  ok: false;
  index: number;
  input: string;
  error: PivotError;
}

export type CascadeResult = Classification | Failure;

/** One input: an image and the name it goes by in results and errors. */
export interface NamedInput {
  source: ImageSource;
  name?: string;
}

/** What happened to one batch, for statistics (eval, telemetry). */
export interface BatchReport {
  count: number;
  failed: number;
  escalated: number;
  latencyMs: StageLatency;
}

export interface RunOptions {
  batchSize?: number;
  onBatch?: (report: BatchReport, results: CascadeResult[]) => void;
}

export interface CascadeOptions {
  decode?: DecodeOptions;
  /** Largest batch given to a session; also the preprocessing concurrency. Default 32. */
  batchSize?: number;
}

export class Cascade {
  readonly policy: Policy;
  readonly preprocessor: Preprocessor;
  readonly batchSize: number;
  private readonly labels: readonly string[];
  private readonly firstBuffer: Float32Array;
  private readonly highBuffer: Float32Array;

  private constructor(
    readonly config: Required<CascadeConfig>,
    private readonly first: EffortSession,
    private readonly high: EffortSession | undefined,
    runtime: ModelRuntime,
    options: CascadeOptions,
  ) {
    this.policy = config.policy;
    this.labels = runtime.family.manifest.labels;
    this.preprocessor = new Preprocessor(runtime.family.manifest.preprocess, options.decode);
    this.batchSize = options.batchSize ?? 32;
    this.firstBuffer = new Float32Array(this.batchSize * this.preprocessor.size);
    this.highBuffer = high ? new Float32Array(this.batchSize * this.preprocessor.size) : new Float32Array(0);
  }

  /** Opens (or reuses) the sessions the policy needs. */
  static async create(runtime: ModelRuntime, config: CascadeConfig, options: CascadeOptions = {}): Promise<Cascade> {
    const full = { policy: 'cascade' as Policy, ...config };
    if (options.batchSize !== undefined && !(Number.isInteger(options.batchSize) && options.batchSize > 0))
      throw new PivotError(`batch size must be a positive integer, got ${options.batchSize}`);
    const first = await runtime.session(firstEffort(full.policy, full));
    const high = full.policy === 'cascade' ? await runtime.session(full.high) : undefined;
    return new Cascade(full, first, high, runtime, options);
  }

  /** Classifies every input, in order; failures are results too. */
  async classifyAll(inputs: Iterable<NamedInput>, options: RunOptions = {}): Promise<CascadeResult[]> {
    const all: CascadeResult[] = [];
    for await (const batch of this.classifyBatches(inputs, options)) all.push(...batch);
    return all;
  }

  /** Yields results batch by batch, in input order. */
  async *classifyBatches(inputs: Iterable<NamedInput>, options: RunOptions = {}): AsyncGenerator<CascadeResult[]> {
    const size = Math.min(options.batchSize ?? this.batchSize, this.batchSize);
    let pending: NamedInput[] = [];
    let index = 0;
    const flush = async () => {
      const { results, report } = await this.runBatch(pending, index);
      options.onBatch?.(report, results);
      index += pending.length;
      pending = [];
      return results;
    };
    for (const input of inputs) {
      pending.push(input);
      if (pending.length === size) yield await flush();
    }
    if (pending.length) yield await flush();
  }

  /** Classifies up to batchSize inputs; `base` is the index of the first one. */
  async classifyBatch(inputs: readonly NamedInput[], base = 0): Promise<CascadeResult[]> {
    return (await this.runBatch(inputs, base)).results;
  }

  /** Batches run one at a time: they share the cascade's input buffers (callers such as the daemon may overlap). */
  private runBatch(inputs: readonly NamedInput[], base: number): Promise<{ results: CascadeResult[]; report: BatchReport }> {
    const run = this.queue.then(() => this.runBatchNow(inputs, base));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private queue: Promise<unknown> = Promise.resolve();

  private async runBatchNow(inputs: readonly NamedInput[], base: number): Promise<{ results: CascadeResult[]; report: BatchReport }> {
    if (inputs.length > this.batchSize)
      throw new PivotError(`batch of ${inputs.length} inputs exceeds the cascade's batch size ${this.batchSize}`);
    const t0 = performance.now();
    const size = this.preprocessor.size;
    const names = inputs.map((input) => sourceName(input.source, input.name));
    const errors = await this.preprocessInto(inputs, names);
    // Compact the decoded inputs to the front of the buffer, keeping their order.
    const rows: number[] = [];
    inputs.forEach((_, i) => {
      if (errors[i]) return;
      if (rows.length !== i) this.firstBuffer.copyWithin(rows.length * size, i * size, (i + 1) * size);
      rows.push(i);
    });
    const latency: StageLatency = { preprocess: performance.now() - t0 };
    const results: CascadeResult[] = new Array(inputs.length);
    errors.forEach((error, i) => {
      if (error) results[i] = { ok: false, index: base + i, input: names[i]!, error };
    });
    let escalatedCount = 0;
    if (rows.length) {
      const answers = await this.route(rows.length, latency);
      escalatedCount = answers.filter((a) => a.escalated).length;
      rows.forEach((i, r) => {
        const a = answers[r]!;
        results[i] = {
          ok: true,
          index: base + i,
          input: names[i]!,
          label: this.labels[a.prediction.classIndex] ?? String(a.prediction.classIndex),
          classIndex: a.prediction.classIndex,
          probability: a.prediction.probability,
          entropy: a.prediction.entropy,
          ...(a.routingEntropy !== undefined ? { routingEntropy: a.routingEntropy } : {}),
          effort: a.effort,
          escalated: a.escalated,
          latencyMs: { ...latency },
        };
      });
    }
    const report = { count: inputs.length, failed: inputs.length - rows.length, escalated: escalatedCount, latencyMs: latency };
    return { results, report };
  }

  /** Decodes each input into its slot of the first-stage buffer; returns the error per input (if any). */
  private async preprocessInto(inputs: readonly NamedInput[], names: string[]): Promise<(PivotError | undefined)[]> {
    const size = this.preprocessor.size;
    const errors: (PivotError | undefined)[] = new Array(inputs.length);
    const decoding: Promise<void>[] = [];
    inputs.forEach((input, i) => {
      if (this.preprocessor.tensorIfOnGrid(input.source, this.firstBuffer, i * size)) return;
      decoding.push(
        this.preprocessor.tensor(input.source, names[i], this.firstBuffer, i * size).then(
          () => undefined,
          (err: unknown) => {
            errors[i] = err instanceof PivotError ? err : new InputError(names[i]!, (err as Error).message, { cause: err });
          },
        ),
      );
    });
    await Promise.all(decoding);
    return errors;
  }

  /** Runs the first effort on `count` packed inputs and, under the cascade policy, the high effort on the uncertain ones. */
  private async route(count: number, latency: StageLatency) {
    const size = this.preprocessor.size;
    const classes = this.labels.length;
    let t = performance.now();
    const logits = await this.first.run(this.firstBuffer.subarray(0, count * size), count);
    const firstStage = this.policy === 'high' ? 'high' : 'low';
    latency[firstStage] = performance.now() - t;
    const answers = Array.from({ length: count }, (_, r) => ({
      prediction: predict(logits, classes, r) as Prediction,
      routingEntropy: undefined as number | undefined,
      effort: this.first.effort,
      escalated: false,
    }));
    if (!this.high) return answers;
    const up = escalations(this.policy, answers.map((a) => a.prediction.entropy), this.config.threshold);
    for (const a of answers) a.routingEntropy = a.prediction.entropy;
    if (!up.length) return answers;
    up.forEach((r, j) => this.highBuffer.set(this.firstBuffer.subarray(r * size, (r + 1) * size), j * size));
    t = performance.now();
    const highLogits = await this.high.run(this.highBuffer.subarray(0, up.length * size), up.length);
    latency.high = performance.now() - t;
    up.forEach((r, j) => {
      const a = answers[r]!;
      a.prediction = predict(highLogits, classes, j);
      a.effort = this.high!.effort;
      a.escalated = true;
    });
    return answers;
  }
}
