/**
 * The high effort's queue: the inputs the low effort was unsure of wait here until a full
 * batch of them is gathered (or the caller runs what there is), then the high effort runs once
 * on all of them. A stream of batches thus pays the high effort's per-call cost once per
 * batchSize escalations rather than once per input batch: with ~10% escalating, a batch of 32
 * escalates ~3 inputs, and three separate small calls cost a few percent more per image than
 * one full one, and they alternate the two sessions' weights in the caches every batch.
 */
import { performance } from 'node:perf_hooks';
import type { EffortSession } from '../model/index.js';
import { predict, type Prediction } from './entropy.js';

/** What the queue writes back to a batch that gave it inputs. */
export interface EscalationOwner {
  predictions: Prediction[];
  /** Wall time (ms) of the high-effort call that answered each escalated row. */
  highMs: Float64Array;
  /** Rows of this batch still waiting for the high effort. */
  waiting: number;
}

export class EscalationQueue {
  private buffer: Float32Array | undefined;
  private readonly queued: { owner: EscalationOwner; row: number }[] = [];

  /**
   * @param take/release borrow a batch-sized input buffer from the cascade's pool, and give
   *   it back after each high-effort call.
   */
  constructor(
    private readonly session: EffortSession,
    private readonly inputSize: number,
    private readonly capacity: number,
    private readonly take: () => Float32Array,
    private readonly release: (buffer: Float32Array) => void,
  ) {}

  get length(): number {
    return this.queued.length;
  }

  get full(): boolean {
    return this.queued.length >= this.capacity;
  }

  /** Copies row `row` of `tensors` (the owner's packed inputs) into the queue. */
  add(owner: EscalationOwner, row: number, tensors: Float32Array): void {
    const size = this.inputSize;
    this.buffer ??= this.take();
    this.buffer.set(tensors.subarray(row * size, (row + 1) * size), this.queued.length * size);
    this.queued.push({ owner, row });
    owner.waiting++;
  }

  /** Runs the high effort on every queued input and answers their owners; returns the call's wall time in ms. */
  async run(): Promise<number> {
    const count = this.queued.length;
    const buffer = this.buffer;
    if (!count || !buffer) return 0;
    this.buffer = undefined;
    const queued = this.queued.splice(0, count);
    const t = performance.now();
    let logits: Float32Array;
    try {
      logits = await this.session.run(buffer.subarray(0, count * this.inputSize), count);
    } finally {
      this.release(buffer);
    }
    const ms = performance.now() - t;
    const classes = this.session.classes;
    for (let j = 0; j < count; j++) {
      const { owner, row } = queued[j]!;
      owner.predictions[row] = predict(logits, classes, j);
      owner.highMs[row] = ms;
      owner.waiting--;
    }
    return ms;
  }
}
