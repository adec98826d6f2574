import type { Logger } from 'pino';
import type { Frame, FrameSource, SourceStats } from '../types.js';
import { SourceCounters, type SourceHooks } from './counters.js';

export type { SourceHooks } from './counters.js';
import { Wakeup } from './wakeup.js';

/**
 * Base of the live sources (camera, snapshot): only the newest frame matters, so a frame the
 * pipeline has not taken before the next one arrives is replaced and counted as dropped.
 * Nothing is lost on a crash that matters, so settle() does nothing.
 */
export abstract class LatestFrameSource implements FrameSource {
  abstract readonly type: FrameSource['type'];
  protected readonly counters: SourceCounters;
  /** Set by stop(): take() then has nothing to wait for. */
  protected closed = false;
  #latest: Frame | undefined;
  #sequence = 0;
  readonly #wakeup = new Wakeup();

  constructor(
    readonly name: string,
    protected readonly logger: Logger,
    hooks: SourceHooks = {},
  ) {
    this.counters = new SourceCounters(logger, hooks);
  }

  abstract start(): Promise<void>;
  abstract stop(): Promise<void>;

  /** Makes take() wait for frames (called by start()). */
  protected open(): void {
    this.closed = false;
  }

  /** Ends every pending and future take() with [] (called by stop()). */
  protected close(): void {
    this.closed = true;
    this.#latest = undefined;
    this.#wakeup.wake();
  }

  /** Keeps `image` as the newest frame, replacing (and counting as dropped) one not yet taken. */
  protected offer(image: Buffer): void {
    if (this.closed) return;
    if (this.#latest) this.counters.dropped++;
    const id = `${this.name}#${++this.#sequence}`;
    this.#latest = { id, name: id, source: this.name, image, capturedAt: new Date(), settle: async () => {} };
    this.#wakeup.wake();
  }

  /** At most one frame, the newest; waits for one unless stopped or aborted. */
  async take(max: number, signal: AbortSignal): Promise<Frame[]> {
    while (max >= 1 && !this.closed && !signal.aborted) {
      const frame = this.#latest;
      if (frame) {
        this.#latest = undefined;
        this.counters.produced++;
        return [frame];
      }
      await this.#wakeup.wait(signal);
    }
    return [];
  }

  stats(): SourceStats {
    return this.counters.stats();
  }
}
