/**
 * Every MQTT topic the daemon uses and the payload published on it: one typed map that the
 * publisher, Home Assistant discovery and the tests share. Topics live under
 * `<topic_prefix>/<device_id>`.
 */

/** Per-stage wall time (ms) of the cascade calls that handled the input. */
export interface LatencyPayload {
  preprocess: number;
  low?: number;
  high?: number;
}

/** One classified frame (QoS from config, not retained). */
export interface ResultPayload {
  device: string;
  source: string;
  frame: string;
  input: string;
  /** ISO 8601 capture time. */
  captured_at: string;
  label: string;
  class_index: number;
  probability: number;
  /** Normalized entropy (Eq. 3) of the answering effort. */
  entropy: number;
  /** Low-effort E(x) the routing compared with the threshold. */
  routing_entropy?: number;
  effort: number;
  escalated: boolean;
  latency_ms: LatencyPayload;
  model: string;
  low: number;
  high: number;
  threshold: number;
}

/** A frame that could not be classified (QoS from config, not retained). */
export interface ErrorPayload {
  device: string;
  source: string;
  frame: string;
  input: string;
  captured_at: string;
  /** Error class, e.g. InputError. */
  error: string;
  message: string;
}

/** Device and pipeline health (QoS 0, retained, every telemetry.interval_s). */
export interface TelemetryPayload {
  device: string;
  time: string;
  uptime_s: number;
  /** Host: CPU load %, CPU temperature (null when the board has no sensor), memory. */
  cpu_load_percent: number;
  cpu_temp_c: number | null;
  mem_used_bytes: number;
  mem_total_bytes: number;
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
} as const;

/** Payload type by message kind, for typed publishing and typed tests. */
export interface PayloadOf {
  availability: Availability;
  result: ResultPayload;
  error: ErrorPayload;
  telemetry: TelemetryPayload;
}
