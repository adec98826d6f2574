/** Cascade results -> the MQTT payloads of topics.ts. */
import type { CascadeResult, Classification, Failure } from '../cascade/index.js';
import type { Deployment } from '../config/deploy.js';
import type { ErrorPayload, LatencyPayload, ResultPayload } from './publish/topics.js';
import type { Frame } from './types.js';

const round = (value: number, digits: number) => Number(value.toFixed(digits));

function latency(ms: Classification['latencyMs']): LatencyPayload {
  const out: LatencyPayload = { preprocess: round(ms.preprocess, 3) };
  if (ms.low !== undefined) out.low = round(ms.low, 3);
  if (ms.high !== undefined) out.high = round(ms.high, 3);
  return out;
}

function frameFields(device: string, frame: Frame) {
  return { device, source: frame.source, frame: frame.id, input: frame.name, captured_at: frame.capturedAt.toISOString() };
}

export function resultPayload(device: string, frame: Frame, result: Classification, deployment: Deployment): ResultPayload {
  const { low, high, threshold } = deployment.config;
  return {
    ...frameFields(device, frame),
    label: result.label,
    class_index: result.classIndex,
    probability: round(result.probability, 6),
    entropy: round(result.entropy, 6),
    ...(result.routingEntropy !== undefined ? { routing_entropy: round(result.routingEntropy, 6) } : {}),
    effort: result.effort,
    escalated: result.escalated,
    latency_ms: latency(result.latencyMs),
    model: deployment.family.manifest.name,
    low,
    high,
    threshold,
  };
}

export function errorPayload(device: string, frame: Frame, failure: Pick<Failure, 'error'>): ErrorPayload {
  return { ...frameFields(device, frame), error: failure.error.name, message: failure.error.message };
}

/** The payload kind and body for one frame's outcome. */
export function outcomePayload(
  device: string,
  frame: Frame,
  result: CascadeResult,
  deployment: Deployment,
): { kind: 'result'; payload: ResultPayload } | { kind: 'error'; payload: ErrorPayload } {
  return result.ok
    ? { kind: 'result', payload: resultPayload(device, frame, result, deployment) }
    : { kind: 'error', payload: errorPayload(device, frame, result) };
}
