/** Lets take() calls sleep until something changes (a frame arrives, the source stops) or their signal aborts. */
export class Wakeup {
  readonly #waiters = new Set<() => void>();

  /** Resolves at the next wake() or when `signal` aborts (at once if it already has). */
  wait(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.#waiters.delete(done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      this.#waiters.add(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  wake(): void {
    for (const done of [...this.#waiters]) done();
  }
}
