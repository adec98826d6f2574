/**
 * The cascade runner (paper Section 3.1): preprocess a batch, run the low effort on all
 * of it, re-run only the inputs with E(x) > Th on the high effort, and answer in input
 * order. A bad input fails alone: its result carries the error and the batch goes on.
 *
 * Each batch in flight holds its own input buffers (taken from a small pool and returned
 * after inference, to spare the garbage collector), so overlapping callers (the daemon)
 * cannot clobber each other, and classifyBatches can decode the next batch (sharp, on
 * libuv threads) while onnxruntime works on the current one.
 */
import { performance } from 'node:perf_hooks';
import { PivotError, InputError } from '../errors.js';
import type { EffortSession, ModelRuntime } from '../model/index.js';
import { Preprocessor, sourceName, type DecodeOptions, type ImageSource } from '../preprocess/index.js';
import { predict, type Prediction } from './entropy.js';
import { EscalationQueue, type EscalationOwner } from './escalations.js';
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
  latencyMs: Readonly<StageLatency>;
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
  /** Per stage, the wall time of the calls made while this batch was handled; `high` sums them. */
  latencyMs: StageLatency;
  /**
   * Each high-effort call made while this batch was handled, under any policy (under the cascade a
   * pooled call can answer earlier batches' inputs too).
   */
  highCallsMs?: number[];
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

/** A batch after preprocessing: decoded inputs packed at the front of `tensors`, in order. */
interface Prepared {
  base: number;
  names: string[];
  errors: (PivotError | undefined)[];
  /** Batch positions of the decoded inputs (row r of `tensors` is input rows[r]). */
  rows: number[];
  /** The pooled buffer; `tensors` is its first rows.length rows. */
  buffer: Float32Array;
  tensors: Float32Array;
  preprocessMs: number;
}

/** A batch after its first effort: answers per packed row, some still waiting for the high effort. */
interface Routing extends EscalationOwner {
  base: number;
  names: string[];
  errors: (PivotError | undefined)[];
  rows: number[];
  /** Low-effort E(x) per row (cascade policy only). */
  routingEntropies?: Float64Array;
  /** 1 where the row was re-run on the high effort. */
  escalatedRows: Uint8Array;
  /** The batch's stage calls; `high` is the high-effort calls that ran while this batch was handled. */
  latency: StageLatency;
  /** Those high-effort calls, one entry each. */
  highCallsMs: number[];
}

export class Cascade {
  readonly policy: Policy;
  readonly preprocessor: Preprocessor;
  readonly batchSize: number;
  private readonly labels: readonly string[];
  /** Free batch-sized input buffers. */
  private readonly pool: Float32Array[] = [];

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

  /**
   * Yields results batch by batch, in input order, decoding batch k+1 while batch k is inferred.
   * Escalated inputs of consecutive batches share high-effort calls (escalations.ts): a batch is
   * yielded once its last escalated input is answered, so results come in bursts, still in order.
   */
  async *classifyBatches(inputs: Iterable<NamedInput>, options: RunOptions = {}): AsyncGenerator<CascadeResult[]> {
    const size = Math.min(options.batchSize ?? this.batchSize, this.batchSize);
    const iterator = inputs[Symbol.iterator]();
    let base = 0;
    const nextBatch = (): Promise<Prepared> | undefined => {
      const batch: NamedInput[] = [];
      for (let step = iterator.next(); !step.done; step = iterator.next()) if (batch.push(step.value) === size) break;
      if (!batch.length) return undefined;
      const prepared = this.prepare(batch, base);
      base += batch.length;
      return prepared;
    };
    const queue = this.escalationQueue(size);
    /** Routed batches not yet yielded, in input order. */
    const held: Routing[] = [];
    let pending = nextBatch();
    while (pending || held.length) {
      if (pending) {
        const current = await pending;
        pending = nextBatch();
        // A decode failure of the next batch is recorded per input, so this promise never rejects unseen.
        held.push(await this.routeFirst(current, queue));
      } else await this.runQueue(queue, held.at(-1)!);
      // The queue answers in arrival order, so batches complete in order.
      while (held.length && held[0]!.waiting === 0) {
        const { results, report } = this.finish(held.shift()!);
        options.onBatch?.(report, results);
        yield results;
      }
    }
  }

  /** Classifies up to batchSize inputs; `base` is the index of the first one. */
  async classifyBatch(inputs: readonly NamedInput[], base = 0): Promise<CascadeResult[]> {
    return (await this.classifyBatchWithReport(inputs, base)).results;
  }

  /** classifyBatch, plus the batch's statistics (for telemetry). */
  async classifyBatchWithReport(inputs: readonly NamedInput[], base = 0): Promise<{ results: CascadeResult[]; report: BatchReport }> {
    if (inputs.length > this.batchSize)
      throw new PivotError(`batch of ${inputs.length} inputs exceeds the cascade's batch size ${this.batchSize}`);
    const queue = this.escalationQueue(this.batchSize);
    const routing = await this.routeFirst(await this.prepare(inputs, base), queue);
    await this.runQueue(queue, routing);
    return this.finish(routing);
  }

  /** Decodes each input into its slot of a fresh buffer, then packs the decoded ones to the front in order. */
  private async prepare(inputs: readonly NamedInput[], base: number): Promise<Prepared> {
    const t0 = performance.now();
    const size = this.preprocessor.size;
    const tensors = this.take();
    const count = inputs.length;
    const names = new Array<string>(count);
    const errors = new Array<PivotError | undefined>(count);
    const decoding: Promise<void>[] = [];
    // Plain loops: this runs for every image, and the benchmark holds the runtime to 5% over bare onnxruntime.
    for (let i = 0; i < count; i++) {
      const { source, name } = inputs[i]!;
      const label = (names[i] = sourceName(source, name));
      if (this.preprocessor.tensorIfOnGrid(source, tensors, i * size)) continue;
      decoding.push(
        this.preprocessor.tensor(source, label, tensors, i * size).then(
          () => undefined,
          (err: unknown) => {
            errors[i] = err instanceof PivotError ? err : new InputError(label, (err as Error).message, { cause: err });
          },
        ),
      );
    }
    if (decoding.length) await Promise.all(decoding);
    const rows: number[] = [];
    for (let i = 0; i < count; i++) {
      if (errors[i]) continue;
      if (rows.length !== i) tensors.copyWithin(rows.length * size, i * size, (i + 1) * size);
      rows.push(i);
    }
    return {
      base,
      names,
      errors,
      rows,
      buffer: tensors,
      tensors: tensors.subarray(0, rows.length * size),
      preprocessMs: performance.now() - t0,
    };
  }

  /** A batch-sized buffer from the pool; every row used is fully written before it is read. */
  private take(): Float32Array {
    return this.pool.pop() ?? new Float32Array(this.batchSize * this.preprocessor.size);
  }

  private release(buffer: Float32Array): void {
    // A few buffers cover every overlap that actually happens; more would only hold memory.
    if (this.pool.length < 4) this.pool.push(buffer);
  }

  /**
   * One queue per run: overlapping callers (the daemon) never wait on each other's escalations.
   * Its calls hold at most `capacity` inputs, the run's batch size, like every other session call.
   */
  private escalationQueue(capacity: number): EscalationQueue | undefined {
    if (!this.high) return undefined;
    return new EscalationQueue(
      this.high,
      this.preprocessor.size,
      capacity,
      () => this.take(),
      (buffer) => this.release(buffer),
    );
  }

  /** Runs the queued escalations, counting the call in the stage latency of `during`, the batch being handled. */
  private async runQueue(queue: EscalationQueue | undefined, during: Routing): Promise<void> {
    if (!queue?.length) return;
    const ms = await queue.run();
    during.latency.high = (during.latency.high ?? 0) + ms;
    during.highCallsMs.push(ms);
  }

  /**
   * Runs the first effort on a prepared batch and, under the cascade policy, queues the
   * uncertain rows for the high effort (running the queue whenever it fills).
   */
  private async routeFirst(batch: Prepared, queue: EscalationQueue | undefined): Promise<Routing> {
    const { rows } = batch;
    const count = rows.length;
    const routing: Routing = {
      base: batch.base,
      names: batch.names,
      errors: batch.errors,
      rows,
      predictions: new Array<Prediction>(count),
      escalatedRows: new Uint8Array(count),
      highMs: new Float64Array(count),
      waiting: 0,
      latency: { preprocess: batch.preprocessMs },
      highCallsMs: [],
    };
    try {
      if (!count) return routing;
      const t = performance.now();
      const logits = await this.first.run(batch.tensors, count);
      const ms = performance.now() - t;
      if (this.policy === 'high') {
        routing.latency.high = ms;
        routing.highCallsMs.push(ms);
      } else routing.latency.low = ms;
      const classes = this.labels.length;
      for (let r = 0; r < count; r++) routing.predictions[r] = predict(logits, classes, r);
      if (!queue) return routing;
      routing.routingEntropies = Float64Array.from(routing.predictions, (p) => p.entropy);
      for (const r of escalations(this.policy, routing.routingEntropies, this.config.threshold)) {
        queue.add(routing, r, batch.tensors);
        routing.escalatedRows[r] = 1;
        if (queue.full) await this.runQueue(queue, routing);
      }
      return routing;
    } finally {
      this.release(batch.buffer);
    }
  }

  /** The results of a batch whose every row is answered, in input order. */
  private finish(routing: Routing): { results: CascadeResult[]; report: BatchReport } {
    const { base, names, errors, rows, predictions, routingEntropies, escalatedRows, highMs, latency, highCallsMs } = routing;
    const results: CascadeResult[] = new Array(names.length);
    for (let i = 0; i < names.length; i++) {
      const error = errors[i];
      if (error) results[i] = { ok: false, index: base + i, input: names[i]!, error };
    }
    // Inputs answered by the first effort share its (frozen) latency record; escalated ones add the high-effort call that answered them.
    const { high, ...firstOnly } = latency;
    const firstLatency = Object.freeze(this.policy === 'high' ? { ...latency } : firstOnly);
    let escalated = 0;
    for (let r = 0; r < rows.length; r++) {
      const i = rows[r]!;
      const up = escalatedRows[r] === 1;
      const prediction = predictions[r]!;
      if (up) escalated++;
      results[i] = {
        ok: true,
        index: base + i,
        input: names[i]!,
        label: this.labels[prediction.classIndex] ?? String(prediction.classIndex),
        classIndex: prediction.classIndex,
        probability: prediction.probability,
        entropy: prediction.entropy,
        routingEntropy: routingEntropies?.[r],
        effort: up ? this.high!.effort : this.first.effort,
        escalated: up,
        latencyMs: up ? Object.freeze({ ...firstOnly, high: highMs[r]! }) : firstLatency,
      };
    }
    return { results, report: { count: names.length, failed: names.length - rows.length, escalated, latencyMs: latency, highCallsMs } };
  }
}
