/**
 * The contracts between the daemon's parts. The controller (the composition root) builds
 * every component from the config; constructors do no I/O, start() and stop() do.
 */

/** Something the controller starts at launch and stops at shutdown. */
export interface Component {
  start(): Promise<void>;
  /** Stops producing or publishing; resolves once resources are released. Safe to call twice. */
  stop(): Promise<void>;
}

/** How a frame ended, told to its source once the outcome is durably queued for publishing. */
export type FrameOutcome = { ok: true } | { ok: false; reason: string };

/** One image to classify. */
export interface Frame {
  /** Unique within a daemon run (a file path, or `<source>#<sequence>`). */
  id: string;
  /** Name of the source that produced it (config `sources[].name`). */
  source: string;
  /** What the cascade decodes: a file path or encoded image bytes (JPEG, PNG, ...). */
  image: string | Buffer;
  /** How results and errors name the input (file path, or `<source>#<sequence>`). */
  name: string;
  capturedAt: Date;
  /**
   * Called exactly once, after the frame's result or error is in the outbox. A directory
   * source then moves or deletes the file, so a crash before this point reprocesses it.
   */
  settle(outcome: FrameOutcome): Promise<void>;
}

export interface SourceStats {
  /** Frames handed to the pipeline. */
  produced: number;
  /** Frames replaced by a newer one before the pipeline took them (latest-frame sources). */
  dropped: number;
  /** Capture failures (ffmpeg exits, HTTP errors, unreadable files). */
  errors: number;
  lastError?: string;
}

/** A producer of frames: a watched directory, an ffmpeg camera, an HTTP snapshot URL. */
export interface FrameSource extends Component {
  readonly name: string;
  readonly type: 'directory' | 'camera' | 'snapshot' | 'command' | 'rpicam' | 'jetson-csi';
  /**
   * Up to `max` frames ready now. Waits until at least one is ready; resolves [] once
   * `signal` aborts or the source is stopped. Never rejects: capture failures are counted,
   * logged and retried inside the source.
   */
  take(max: number, signal: AbortSignal): Promise<Frame[]>;
  stats(): SourceStats;
}
