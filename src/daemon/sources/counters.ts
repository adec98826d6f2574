import type { Logger } from 'pino';
import type { SourceStats } from '../types.js';

/** What a source tells the daemon beyond its stats. */
export interface SourceHooks {
  /** A capture failure worth telling consumers (published on the source's error topic); repeats are not passed on. */
  onFailure?: (message: string) => void;
}

/** A source's counters, and the logging of capture failures without flooding the log. */
export class SourceCounters {
  produced = 0;
  dropped = 0;
  errors = 0;
  lastError: string | undefined;
  /** Failures since the last success. */
  #streak = 0;

  constructor(
    private readonly logger: Logger,
    private readonly hooks: SourceHooks = {},
  ) {}

  /** Counts a failure without logging it (the caller logs). */
  count(message: string): void {
    this.errors++;
    this.lastError = message;
  }

  /**
   * Counts and logs a capture failure. A camera unplugged for a day fails every few seconds,
   * so a repeat of the previous message is logged at debug, not warn.
   */
  failure(message: string, fields: Record<string, unknown> = {}): void {
    const repeat = this.#streak > 0 && message === this.lastError;
    this.count(message);
    this.#streak++;
    this.logger[repeat ? 'debug' : 'warn']({ ...fields, failures: this.#streak }, message);
    if (!repeat) this.hooks.onFailure?.(message);
  }

  /** Ends a run of failures (logged once, at info). */
  recovered(what: string): void {
    if (this.#streak === 0) return;
    this.logger.info({ failures: this.#streak }, `${what} recovered after ${this.#streak} failure(s)`);
    this.#streak = 0;
  }

  stats(): SourceStats {
    return {
      produced: this.produced,
      dropped: this.dropped,
      errors: this.errors,
      ...(this.lastError !== undefined ? { lastError: this.lastError } : {}),
    };
  }
}
