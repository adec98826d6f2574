/**
 * JSON Schemas of the files users write (daemon config, deploy.json, hw.yaml, manifest.json)
 * and of the MQTT messages the daemon publishes (result, error, telemetry),
 * emitted from the zod schemas that validate them, so editors can check and complete those
 * files; and the daemon config's key table for docs/daemon.md, from the same schema.
 * `npm run generate` writes both; a test checks the committed copies are current.
 */
import { z } from 'zod';
import { DeploySchema } from '../config/deploy.js';
import { DaemonConfigSchema } from '../daemon/config.js';
import { ErrorMessageSchema, ResultMessageSchema, TelemetryMessageSchema } from '../daemon/publish/payload-schemas.js';
import { ManifestSchema } from '../model/manifest.js';
import { CpuDeviceSchema, HARDWARE_PRESETS, HardwareSchema } from '../sim/index.js';

/** Where the schemas are committed, relative to the package root. */
export const SCHEMA_DIR = 'deploy/schemas';

/** A hw.yaml: a whole accelerator, one that `extends` a preset (overrides checked after the merge), or a CPU device profile. */
const HardwareFileSchema = z.union([
  HardwareSchema,
  z.looseObject({
    extends: z
      .enum(Object.keys(HARDWARE_PRESETS) as [string, ...string[]])
      .describe('Preset to start from; the other keys override its fields.'),
  }),
  CpuDeviceSchema,
]);

const FILES: Record<string, { title: string; schema: z.ZodType; io?: 'input' | 'output' }> = {
  'daemon-config.schema.json': { title: 'pivot-edge daemon config (pivot run --config)', schema: DaemonConfigSchema },
  'deploy.schema.json': { title: 'pivot-edge deploy.json (model family, effort pair, threshold)', schema: DeploySchema },
  'hardware.schema.json': { title: 'PIVOT-Sim hardware description (hw.yaml)', schema: HardwareFileSchema },
  'manifest.schema.json': { title: 'pivot-edge model family manifest.json', schema: ManifestSchema },
  // Messages are what the daemon writes: the output side.
  'mqtt-result.schema.json': { title: 'pivot-edge MQTT <source>/result message', schema: ResultMessageSchema, io: 'output' },
  'mqtt-error.schema.json': { title: 'pivot-edge MQTT <source>/error message', schema: ErrorMessageSchema, io: 'output' },
  'mqtt-telemetry.schema.json': { title: 'pivot-edge MQTT telemetry message', schema: TelemetryMessageSchema, io: 'output' },
};

/** File name -> content of every emitted schema (for files users write, the input side of the zod schema). */
export function jsonSchemaFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const [name, { title, schema, io = 'input' }] of Object.entries(FILES)) {
    const json = z.toJSONSchema(schema, { io, unrepresentable: 'any' });
    files.set(name, `${JSON.stringify({ ...json, title }, null, 2)}\n`);
  }
  return files;
}

type JsonSchema = {
  type?: string | string[];
  description?: string;
  default?: unknown;
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  minimum?: number;
  maximum?: number;
};

const code = (v: unknown) => `\`${typeof v === 'string' ? v : JSON.stringify(v)}\``;

function typeOf(s: JsonSchema): string {
  if (s.const !== undefined) return code(s.const);
  if (s.enum) return s.enum.map(code).join(' \\| ');
  const alternatives = s.oneOf ?? s.anyOf;
  if (alternatives) return alternatives.map(typeOf).join(' \\| ');
  if (s.type === 'array') return `list of ${s.items ? typeOf(s.items) : 'values'}`;
  return Array.isArray(s.type) ? s.type.join(' \\| ') : (s.type ?? 'any');
}

/** One table row per leaf key; objects recurse, sources get a block per `type`. */
function rows(s: JsonSchema, key: string, required: boolean, out: string[]): void {
  const variants = s.items?.oneOf;
  if (variants && s.items?.oneOf?.every((v) => v.properties?.type?.const !== undefined)) {
    out.push(`| \`${key}[]\` | list | (required) | ${s.description ?? ''} |`);
    for (const v of variants) {
      const kind = v.properties!.type!.const as string;
      for (const [name, prop] of Object.entries(v.properties!)) {
        if (name === 'type') continue;
        rows(prop, `${key}[] (type: ${kind}).${name}`, (v as { required?: string[] }).required?.includes(name) ?? false, out);
      }
    }
    return;
  }
  if (s.properties && s.type === 'object') {
    for (const [name, prop] of Object.entries(s.properties)) rows(prop, key ? `${key}.${name}` : name, false, out);
    return;
  }
  const dflt = s.default !== undefined ? code(s.default) : required ? '(required)' : '';
  out.push(`| \`${key}\` | ${typeOf(s)} | ${dflt} | ${(s.description ?? '').replace(/\|/g, '\\|')} |`);
}

/** The markdown key table of the daemon config, generated from DaemonConfigSchema. */
export function daemonKeyTable(): string {
  const json = z.toJSONSchema(DaemonConfigSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const out = ['| key | type | default | meaning |', '| --- | --- | --- | --- |'];
  for (const [name, prop] of Object.entries(json.properties ?? {})) {
    if (name === '$schema') continue;
    rows(prop, name, false, out);
  }
  return `${out.join('\n')}\n`;
}

export const KEY_TABLE_START = '<!-- daemon-config-keys: generated by `npm run generate` from src/daemon/config.ts; do not edit -->';
export const KEY_TABLE_END = '<!-- /daemon-config-keys -->';

/** `markdown` with the text between the key table markers replaced by the current table. */
export function withKeyTable(markdown: string): string {
  const start = markdown.indexOf(KEY_TABLE_START);
  const end = markdown.indexOf(KEY_TABLE_END);
  if (start < 0 || end < start)
    throw new Error(`docs/daemon.md: the key table markers are missing (${KEY_TABLE_START} ... ${KEY_TABLE_END})`);
  return `${markdown.slice(0, start + KEY_TABLE_START.length)}\n${daemonKeyTable()}${markdown.slice(end)}`;
}
