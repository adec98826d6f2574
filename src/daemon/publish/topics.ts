/**
 * Every MQTT topic the daemon uses and the payload published on it: one typed map that the
 * publisher, Home Assistant discovery and the tests share. Topics live under
 * `<topic_prefix>/<device_id>`.
 */
import type { ClassificationFields, Policy } from '../../cascade/index.js';

/** Which frame a message is about. */
export interface FrameFields {
  device: string;
  source: string;
  frame: string;
  input: string;
  /** ISO 8601 capture time. */
  captured_at: string;
}

/** One classified frame (QoS from config, not retained): the frame, the answer, and the deployment that gave it. */
export interface ResultPayload extends FrameFields, ClassificationFields {
  model: string;
  low: number;
  high: number;
  threshold: number;
  /** The routing policy in force: `cascade`, or `low` / `high` (one effort for every frame). */
  policy: Policy;
}

/** A frame that could not be classified (QoS from config, not retained). */
export interface ErrorPayload extends FrameFields {
  /** Error class, e.g. InputError. */
  error: string;
  message: string;
}

/** Device and pipeline health (QoS 0, retained, every telemetry.interval_s). */
export interface TelemetryPayload {
  device: string;
  time: string;
  uptime_s: number;
  /** Host: CPU load %, CPU temperature (null when the board has no sensor), memory; null when a reading failed. */
  cpu_load_percent: number | null;
  cpu_temp_c: number | null;
  mem_used_bytes: number | null;
  mem_total_bytes: number | null;
  process_rss_bytes: number;
  /** Pipeline counters since start. */
  frames: number;
  failed: number;
  escalated: number;
  /** Fraction answered by the low effort (F_L) since start; null before the first frame. */
  fraction_low: number | null;
  outbox_depth: number;
  outbox_dropped: number;
  sources: Record<string, { produced: number; dropped: number; errors: number; last_error?: string }>;
}

/** `online` / `offline` (retained; `offline` is also the will). */
export type Availability = 'online' | 'offline';

export function baseTopic(prefix: string, device: string): string {
  return `${prefix}/${device}`;
}

/** The topic of each kind of message under a device's base topic. */
export const topics = {
  availability: (base: string) => `${base}/status`,
  result: (base: string, source: string) => `${base}/${source}/result`,
  error: (base: string, source: string) => `${base}/${source}/error`,
  telemetry: (base: string) => `${base}/telemetry`,
  /** Live control: commands in, one reply per command out, the current settings retained. */
  set: (base: string) => `${base}/set`,
  setResult: (base: string) => `${base}/set/result`,
  config: (base: string) => `${base}/config`,
} as const;

/**
 * Per-source message number on results and errors: 1, 2, 3, ... for each source, counting its
 * results and errors together, carried on across restarts. A repeat is a redelivery (drop it);
 * a gap means messages were dropped from a full outbox or could not be written to disk.
 */
export interface Sequenced {
  seq: number;
}

/** Payload type by message kind as published, for typed publishing and typed tests. */
export interface PayloadOf {
  availability: Availability;
  result: ResultPayload & Sequenced;
  error: ErrorPayload & Sequenced;
  telemetry: TelemetryPayload;
}
