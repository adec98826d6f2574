/** Cascade results -> the MQTT payloads of topics.ts. */
import { classificationFields, type CascadeResult, type Classification, type Failure } from '../cascade/index.js';
import type { Settings } from './control/index.js';
import type { ErrorPayload, FrameFields, ResultPayload } from './publish/topics.js';
import type { Frame } from './types.js';

function frameFields(device: string, frame: Frame): FrameFields {
  return { device, source: frame.source, frame: frame.id, input: frame.name, captured_at: frame.capturedAt.toISOString() };
}

export function resultPayload(device: string, frame: Frame, result: Classification, { deployment, policy }: Settings): ResultPayload {
  const { low, high, threshold } = deployment.config;
  return {
    ...frameFields(device, frame),
    ...classificationFields(result),
    model: deployment.family.manifest.name,
    low,
    high,
    threshold,
    policy,
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
  settings: Settings,
): { kind: 'result'; payload: ResultPayload } | { kind: 'error'; payload: ErrorPayload } {
  return result.ok
    ? { kind: 'result', payload: resultPayload(device, frame, result, settings) }
    : { kind: 'error', payload: errorPayload(device, frame, result) };
}
