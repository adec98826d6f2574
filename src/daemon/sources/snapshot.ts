import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import sharp from 'sharp';
import type { SnapshotSourceConfig } from '../config.js';
import { stripCredentials } from '../../util/url.js';
import { basicAuthRequest } from './credentials.js';
import { LatestFrameSource, type SourceHooks } from './latest.js';

/** Why a fetch failed, in words: undici hides the socket error in `cause`. */
function describeFetchError(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.message ?? cause?.code ?? (err as Error).message ?? String(err);
}

/** An IP camera's snapshot URL, fetched every `interval_s`; the pipeline gets the newest image. */
export class SnapshotSource extends LatestFrameSource {
  readonly type = 'snapshot';
  /** The URL as logs may show it. */
  readonly #shownUrl: string;
  readonly #request: { url: string; headers: Record<string, string> };
  #stopping = new AbortController();
  #loop: Promise<void> = Promise.resolve();

  constructor(
    private readonly config: SnapshotSourceConfig,
    logger: Logger,
    hooks: SourceHooks = {},
  ) {
    super(config.name, logger, hooks);
    this.#shownUrl = stripCredentials(config.url);
    this.#request = basicAuthRequest(config.url);
  }

  async start(): Promise<void> {
    this.open();
    this.logger.info({ url: this.#shownUrl }, `fetching ${this.#shownUrl} every ${this.config.interval_s} s`);
    this.#stopping = new AbortController();
    this.#loop = this.#run(this.#stopping.signal);
  }

  async stop(): Promise<void> {
    this.close();
    this.#stopping.abort();
    await this.#loop;
  }

  /** Fetches at a steady rate: the interval counts from the start of each request. */
  async #run(stopping: AbortSignal): Promise<void> {
    const intervalMs = this.config.interval_s * 1000;
    while (!stopping.aborted) {
      const started = Date.now();
      await this.#fetchOnce(stopping);
      try {
        await sleep(Math.max(0, intervalMs - (Date.now() - started)), undefined, { signal: stopping });
      } catch {
        return; // stopped
      }
    }
  }

  async #fetchOnce(stopping: AbortSignal): Promise<void> {
    const timeout = AbortSignal.timeout(this.config.timeout_s * 1000);
    let image: Buffer;
    try {
      const res = await fetch(this.#request.url, { headers: this.#request.headers, signal: AbortSignal.any([stopping, timeout]) });
      if (!res.ok) {
        await res.body?.cancel();
        throw new Error(`HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`);
      }
      image = Buffer.from(await res.arrayBuffer());
      if (!(await isImage(image))) {
        throw new Error(`not an image (content-type ${res.headers.get('content-type') ?? 'none'}, ${image.length} bytes)`);
      }
    } catch (err) {
      if (stopping.aborted) return;
      const reason = timeout.aborted ? `no response within ${this.config.timeout_s} s` : describeFetchError(err);
      this.counters.failure(`snapshot ${this.#shownUrl}: ${stripCredentials(reason)}`, { url: this.#shownUrl });
      return;
    }
    this.counters.recovered(`snapshot ${this.#shownUrl}`);
    this.offer(image);
  }
}

/** Whether sharp recognises the bytes as an image (it reads the header only). */
async function isImage(bytes: Buffer): Promise<boolean> {
  try {
    return Boolean((await sharp(bytes).metadata()).format);
  } catch {
    return false;
  }
}
