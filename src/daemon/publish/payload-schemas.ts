/**
 * The MQTT payloads of topics.ts as zod schemas, for the JSON Schemas subscribers can validate
 * against (deploy/schemas/mqtt-*.schema.json). The type checks at the bottom fail to compile if
 * these and the published types (PayloadOf) ever disagree.
 */
import { z } from 'zod';
import { POLICIES } from '../../cascade/index.js';
import type { PayloadOf } from './topics.js';

const frameFields = {
  device: z.string().describe('device_id of the publishing daemon.'),
  source: z.string().describe('Name of the source the frame came from.'),
  frame: z.string().describe('Frame id, unique within a daemon run (a file path, or <source>#<sequence>).'),
  input: z.string().describe('How the input is named (file path, or <source>#<sequence>).'),
  captured_at: z.string().describe('ISO 8601 capture time.'),
  seq: z
    .number()
    .int()
    .positive()
    .describe('Per-source message number (results and errors together); a repeat is a redelivery, a gap a dropped message.'),
};

export const ResultMessageSchema = z.strictObject({
  ...frameFields,
  label: z.string(),
  class_index: z.number().int().nonnegative(),
  probability: z.number().min(0).max(1),
  entropy: z.number().describe('Normalized entropy (Eq. 3) of the effort that answered.'),
  routing_entropy: z.number().optional().describe('Low-effort E(x) the routing compared with the threshold (cascade policy only).'),
  effort: z.number().int().nonnegative().describe('The effort that answered.'),
  escalated: z.boolean(),
  latency_ms: z
    .strictObject({ preprocess: z.number(), low: z.number().optional(), high: z.number().optional() })
    .describe('Per-stage wall time of the cascade calls.'),
  model: z.string(),
  low: z.number().int().nonnegative(),
  high: z.number().int().nonnegative(),
  threshold: z.number().min(0).max(1),
  policy: z
    .enum(POLICIES)
    .describe(
      'Routing policy in force: cascade (low effort, the high one when E(x) > threshold), or low / high (that effort for every frame).',
    ),
});

export const ErrorMessageSchema = z.strictObject({
  ...frameFields,
  error: z.string().describe('Error class, e.g. InputError (SourceError for a capture failure).'),
  message: z.string(),
});

const nullableCount = z.number().nullable();

export const TelemetryMessageSchema = z.strictObject({
  device: z.string(),
  time: z.string().describe('ISO 8601 time of the message.'),
  uptime_s: z.number().int().nonnegative(),
  cpu_load_percent: nullableCount.describe('CPU load in %; null when the reading failed.'),
  cpu_temp_c: nullableCount.describe('CPU temperature; null without a sensor or when the reading failed.'),
  mem_used_bytes: nullableCount.describe('Memory in use by processes; null when the reading failed.'),
  mem_total_bytes: nullableCount.describe('Total memory; null when the reading failed.'),
  process_rss_bytes: z.number(),
  frames: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
  escalated: z.number().int().nonnegative(),
  fraction_low: z.number().min(0).max(1).nullable().describe('F_L since start; null before the first frame.'),
  outbox_depth: z.number().int().nonnegative(),
  outbox_dropped: z.number().int().nonnegative(),
  sources: z.record(
    z.string(),
    z.strictObject({ produced: z.number(), dropped: z.number(), errors: z.number(), last_error: z.string().optional() }),
  ),
});

/** True when A and B are the same type (each assignable to the other). */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const agree = <T extends true>(): T | undefined => undefined;
agree<Same<z.infer<typeof ResultMessageSchema>, PayloadOf['result']>>();
agree<Same<z.infer<typeof ErrorMessageSchema>, PayloadOf['error']>>();
agree<Same<z.infer<typeof TelemetryMessageSchema>, PayloadOf['telemetry']>>();
