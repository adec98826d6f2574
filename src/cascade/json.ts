/**
 * The snake_case JSON form of a classification, shared by `pivot classify --json`, `pivot eval`
 * failure lines and the daemon's MQTT result payloads, so every consumer sees the same fields.
 */
import type { Classification, StageLatency } from './runner.js';

/** What one classified input says, rounded for output. */
export interface ClassificationFields {
  label: string;
  class_index: number;
  probability: number;
  /** Normalized entropy (Eq. 3) of the effort that answered. */
  entropy: number;
  /** Low-effort E(x) the routing compared with the threshold (cascade policy only). */
  routing_entropy?: number;
  effort: number;
  escalated: boolean;
  /** Per-stage wall time (ms) of the cascade calls that handled the input. */
  latency_ms: StageLatency;
}

const round = (value: number, digits: number) => Number(value.toFixed(digits));

function latency(ms: Readonly<StageLatency>): StageLatency {
  const out: StageLatency = { preprocess: round(ms.preprocess, 3) };
  if (ms.low !== undefined) out.low = round(ms.low, 3);
  if (ms.high !== undefined) out.high = round(ms.high, 3);
  return out;
}

export function classificationFields(r: Classification): ClassificationFields {
  return {
    label: r.label,
    class_index: r.classIndex,
    probability: round(r.probability, 6),
    entropy: round(r.entropy, 6),
    ...(r.routingEntropy !== undefined ? { routing_entropy: round(r.routingEntropy, 6) } : {}),
    effort: r.effort,
    escalated: r.escalated,
    latency_ms: latency(r.latencyMs),
  };
}
