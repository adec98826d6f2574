/**
 * The cascade the daemon runs and how it is replaced by a live change (a `set` command, a
 * SIGHUP reload): the new one is opened beside it, reusing the model runtime (and its open
 * sessions) when the model family is the same, then takes over between batches. A runtime it
 * replaces closes once its last batch is inferred. Changes run one at a time.
 */
import { Cascade } from '../cascade/index.js';
import { ModelRuntime } from '../model/index.js';
import type { DaemonConfig } from './config.js';
import type { Settings } from './control/settings.js';

/** A cascade, the settings it runs with, and the batches still in it. */
export interface Active {
  settings: Settings;
  runtime: ModelRuntime;
  cascade: Cascade;
  inFlight: Set<Promise<void>>;
}

export class Cascades {
  #active: Active | undefined;
  /** Runtimes replaced by a new deployment, closing once their last batch is done. */
  readonly #retiring = new Set<Promise<void>>();
  /** Live changes, one after another. */
  #changes: Promise<unknown> = Promise.resolve();

  /** `runtime`: batch size and threads (they change only with a restart). */
  constructor(private readonly runtime: DaemonConfig['runtime']) {}

  /** What the next batch runs on (after the first activate()). */
  get active(): Active | undefined {
    return this.#active;
  }

  /** A cascade for `settings`, reusing the current runtime (and its open sessions) when the model family is the same. */
  async open(settings: Settings): Promise<Active> {
    const { deployment, policy } = settings;
    const current = this.#active?.runtime;
    const same = current && current.family.dir === deployment.family.dir ? current : undefined;
    const { batch_size, intra_op_threads } = this.runtime;
    const runtime = same ?? new ModelRuntime(deployment.family, intra_op_threads !== undefined ? { intraOpThreads: intra_op_threads } : {});
    const { low, high, threshold } = deployment.config;
    try {
      const cascade = await Cascade.create(runtime, { low, high, threshold, policy }, { batchSize: batch_size });
      return { settings, runtime, cascade, inFlight: new Set() };
    } catch (err) {
      if (!same) await runtime.close();
      throw err;
    }
  }

  /** Closes what `open` made for a change that was then abandoned. */
  async dispose(unused: Active): Promise<void> {
    if (unused.runtime !== this.#active?.runtime) await unused.runtime.close();
  }

  /** From now on, batches use `next`; the previous runtime closes after its last batch if `next` has its own. */
  activate(next: Active): void {
    const previous = this.#active;
    this.#active = next;
    if (!previous || previous.runtime === next.runtime) return;
    const closing = Promise.allSettled([...previous.inFlight]).then(() => previous.runtime.close());
    this.#retiring.add(closing);
    void closing.finally(() => this.#retiring.delete(closing));
  }

  /** Runs `change` after every change queued before it, whether those failed or not. */
  serially<T>(change: () => Promise<T>): Promise<T> {
    const run = this.#changes.then(change, change);
    this.#changes = run.catch(() => undefined);
    return run;
  }

  /** Resolves once the changes queued so far are done. */
  async idle(): Promise<void> {
    await this.#changes.catch(() => undefined);
  }

  /** After the changes in progress and the batches of retired runtimes: closes the runtime in use. */
  async close(): Promise<void> {
    await this.idle();
    await Promise.allSettled(this.#retiring);
    await this.#active?.runtime.close();
  }
}
