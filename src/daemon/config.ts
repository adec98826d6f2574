/**
 * The daemon's config file (YAML or JSON): where frames come from, the deployment to run,
 * and where results go. The zod schema is the single source of truth for its types,
 * defaults and validation messages. Relative paths resolve against the config file.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { readFailure } from '../util/files.js';
import { parseWith } from '../util/zod.js';

/** MQTT topic level: no wildcards, separators or empty names. */
const topicLevel = z
  .string()
  .min(1)
  .regex(/^[A-Za-z0-9_-]+$/, 'use letters, digits, "_" and "-" only (it becomes an MQTT topic level and a Home Assistant id)');

const sourceBase = { name: topicLevel.describe('Names the source in topics, logs and Home Assistant.') };

export const DirectorySourceSchema = z
  .object({
    ...sourceBase,
    type: z.literal('directory'),
    path: z.string().min(1).describe('Watched folder; images dropped in are classified at least once.'),
    after: z
      .enum(['move', 'delete'])
      .default('move')
      .describe('What happens to a file once its result is queued: moved to `done_dir`, or deleted.'),
    done_dir: z.string().optional().describe('Where classified files go (after: move); default `<path>/.done`.'),
    failed_dir: z
      .string()
      .optional()
      .describe('Where files that cannot be classified go, each with a `<file>.error.txt`; default `<path>/.failed`.'),
    poll: z
      .boolean()
      .default(false)
      .describe('Poll instead of inotify: needed for NFS/SMB mounts, where writes from other machines raise no events.'),
  })
  .strict();

/** Fields of every source that runs a program writing MJPEG to stdout (camera, command, rpicam, jetson-csi). */
const processSource = {
  ...sourceBase,
  fps: z.number().positive().max(60).default(1).describe('Frames per second at most handed to the cascade; only the latest frame is kept.'),
  restart_delay_s: z
    .number()
    .nonnegative()
    .default(5)
    .describe('Seconds before the first restart after the program exits; doubles per failure in a row, up to 60 s.'),
  stall_timeout_s: z
    .number()
    .positive()
    .optional()
    .describe('Restart the program when no frame came for this long; default 30 s or five frame intervals, whichever is longer.'),
};

export const CameraSourceSchema = z
  .object({
    ...processSource,
    type: z.literal('camera'),
    input: z.string().min(1).describe('ffmpeg input: a V4L2 device (/dev/video0), an RTSP/HTTP stream URL or a video file.'),
    format: z.string().optional().describe('ffmpeg input format (-f), e.g. v4l2; omitted: ffmpeg probes.'),
    input_args: z.array(z.string()).default([]).describe('Extra ffmpeg input options placed before -i, e.g. ["-rtsp_transport", "tcp"].'),
    passthrough: z
      .union([z.boolean(), z.literal('auto')])
      .default('auto')
      .describe(
        "Pass the input's JPEG frames through without decoding and re-encoding (ffmpeg -c:v copy). auto: for a V4L2 camera that offers MJPEG; true: the input is MJPEG; false: always re-encode.",
      ),
  })
  .strict();

export const CommandSourceSchema = z
  .object({
    ...processSource,
    type: z.literal('command'),
    command: z
      .array(z.string().min(1))
      .min(1)
      .describe('A program and its arguments (no shell) that writes an MJPEG stream (JPEGs back to back) to stdout.'),
  })
  .strict();

export const RpicamSourceSchema = z
  .object({
    ...processSource,
    type: z.literal('rpicam'),
    camera: z.number().int().nonnegative().default(0).describe('Camera index (rpicam-vid --list-cameras).'),
    width: z.number().int().positive().default(640).describe('Frame width in pixels.'),
    height: z.number().int().positive().default(480).describe('Frame height in pixels.'),
    args: z.array(z.string()).default([]).describe('Extra rpicam-vid options, e.g. ["--rotation", "180", "--quality", "80"].'),
  })
  .strict();

export const JetsonCsiSourceSchema = z
  .object({
    ...processSource,
    type: z.literal('jetson-csi'),
    sensor_id: z.number().int().nonnegative().default(0).describe('nvarguscamerasrc sensor-id.'),
    width: z.number().int().positive().default(1280).describe('Frame width in pixels.'),
    height: z.number().int().positive().default(720).describe('Frame height in pixels.'),
    framerate: z
      .number()
      .int()
      .positive()
      .default(30)
      .describe("The sensor's capture rate (a rate its modes support); `fps` then caps what is classified."),
  })
  .strict();

export const SnapshotSourceSchema = z
  .object({
    ...sourceBase,
    type: z.literal('snapshot'),
    url: z.url().describe("HTTP(S) URL returning one JPEG/PNG per GET (IP cameras' snapshot endpoint)."),
    interval_s: z.number().positive().default(5).describe('Seconds between snapshots.'),
    timeout_s: z.number().positive().default(10).describe('Seconds before a snapshot request is abandoned.'),
  })
  .strict();

export const SourceSchema = z.discriminatedUnion('type', [
  DirectorySourceSchema,
  CameraSourceSchema,
  CommandSourceSchema,
  RpicamSourceSchema,
  JetsonCsiSourceSchema,
  SnapshotSourceSchema,
]);

const BROKER_SCHEMES = ['mqtt:', 'mqtts:', 'tcp:', 'ssl:', 'ws:', 'wss:'];

/** A broker URL with a scheme mqtt.js speaks; the message never echoes the URL (it may hold a password). */
const brokerUrl = z.string().refine(
  (url) => {
    try {
      const parsed = new URL(url);
      return BROKER_SCHEMES.includes(parsed.protocol) && parsed.hostname !== '';
    } catch {
      return false;
    }
  },
  { message: `not a broker URL: expected ${BROKER_SCHEMES.map((s) => `${s}//host[:port]`).join(', ')}` },
);

/** `mqtt.url: embedded`: the daemon runs its own broker (see mqtt.embedded) and publishes to it. */
export const EMBEDDED = 'embedded';

export const MqttSchema = z
  .object({
    url: z
      .union([z.literal(EMBEDDED), brokerUrl, z.array(brokerUrl).min(1)])
      .default('mqtt://127.0.0.1:1883')
      .describe(
        'Broker URL(s): mqtt://, mqtts://, ws://, wss://. Several = a broker cluster, tried in turn on reconnect. `embedded`: a broker inside the daemon (mqtt.embedded), for a device with no broker of its own.',
      ),
    /** Where the embedded broker listens (mqtt.url: embedded); a taken port moves it to the next free one. */
    embedded: z
      .object({
        host: z.string().min(1).default('127.0.0.1').describe('Address the embedded broker listens on (0.0.0.0 for other machines).'),
        port: z
          .number()
          .int()
          .min(1)
          .max(65535)
          .default(1883)
          .describe('Port of the embedded broker; a taken port moves it to the next free one.'),
      })
      .strict()
      .prefault({}),
    username: z.string().optional().describe('Broker user name.'),
    password: z.string().optional().describe('Broker password (never logged); prefer password_file.'),
    password_file: z
      .string()
      .optional()
      .describe('File holding the password (e.g. a systemd credential or Docker secret); wins over `password`.'),
    client_id: z.string().optional().describe('MQTT client id; default `pivot-edge-<device_id>`.'),
    topic_prefix: z.string().min(1).default('pivot-edge').describe('Topics live under `<topic_prefix>/<device_id>/`.'),
    qos: z
      .union([z.literal(0), z.literal(1), z.literal(2)])
      .default(1)
      .describe('QoS of result and error messages.'),
    keepalive_s: z.number().int().positive().default(30).describe('MQTT keepalive interval in seconds.'),
    reconnect_s: z.number().positive().default(5).describe('Seconds between reconnection attempts.'),
    tls: z
      .object({
        ca: z.string().optional().describe('CA certificate file (PEM) the broker certificate must chain to.'),
        cert: z.string().optional().describe('Client certificate file (PEM), for brokers that authenticate clients by certificate.'),
        key: z.string().optional().describe('Private key file (PEM) of the client certificate.'),
        reject_unauthorized: z.boolean().default(true).describe('false accepts a broker certificate that does not verify (testing only).'),
      })
      .strict()
      .optional(),
    discovery: z
      .object({
        enabled: z.boolean().default(true).describe('Announce the device and its sensors to Home Assistant (MQTT discovery).'),
        prefix: z
          .string()
          .min(1)
          .default('homeassistant')
          .describe("Home Assistant's discovery prefix; its `<prefix>/status` topic triggers a re-announce."),
      })
      .strict()
      .prefault({}),
  })
  .strict();

/** Group commit defaults: under load a commit every 500 ms or 64 KiB (about 130 results); an idle daemon commits at once. */
export const DEFAULT_COMMIT_INTERVAL_MS = 500;
export const DEFAULT_COMMIT_BYTES = 64 * 1024;

export const OutboxSchema = z
  .object({
    dir: z.string().min(1).default('outbox').describe('On-disk queue of messages not yet acknowledged by the broker.'),
    max_messages: z.number().int().positive().default(10_000).describe('Oldest messages are dropped (and counted) beyond this many.'),
    max_bytes: z
      .number()
      .int()
      .positive()
      .default(64 * 1024 * 1024)
      .describe('Oldest messages are dropped (and counted) beyond this many bytes of queued records (the queue is held in memory too).'),
    commit_interval_ms: z
      .number()
      .int()
      .nonnegative()
      .default(DEFAULT_COMMIT_INTERVAL_MS)
      .describe(
        'Group commit: at most one write and fsync of results per this many ms (0: as often as the disk keeps up); a result after a quiet spell is written at once. Longer means fewer bytes written per message on an SD card under load, and results published up to that much later.',
      ),
    commit_bytes: z
      .number()
      .int()
      .positive()
      .default(DEFAULT_COMMIT_BYTES)
      .describe('Group commit: records are written and fsynced as soon as this many bytes wait, without waiting out commit_interval_ms.'),
  })
  .strict();

export const DaemonConfigSchema = z
  .object({
    $schema: z.string().optional().describe('JSON Schema of this file, for editors.'),
    deploy: z.string().optional().describe('deploy.json to run; default: the shipped deploy/deploy.json.'),
    device_id: topicLevel.optional().describe('Names this device in topics and Home Assistant; default: the host name.'),
    sources: z
      .array(SourceSchema)
      .min(1)
      .describe('Where frames come from: directory, camera, command, rpicam, jetson-csi or snapshot sources, each with a unique name.'),
    mqtt: MqttSchema.prefault({}),
    outbox: OutboxSchema.prefault({}),
    /** Live control over MQTT (`<prefix>/<device>/set`): threshold, policy, deployment. */
    control: z
      .object({
        enabled: z
          .boolean()
          .default(true)
          .describe('false: the daemon neither subscribes to `set` nor announces the Home Assistant controls.'),
        file: z
          .string()
          .optional()
          .describe('Where accepted changes are kept across restarts; default `control.json` beside the outbox folder.'),
      })
      .strict()
      .prefault({}),
    runtime: z
      .object({
        batch_size: z.number().int().positive().max(256).default(8).describe('Most frames one cascade call takes from a source.'),
        intra_op_threads: z.number().int().positive().optional().describe("onnxruntime intra-op threads; default: onnxruntime's choice."),
      })
      .strict()
      .prefault({}),
    telemetry: z
      .object({
        interval_s: z.number().nonnegative().default(30).describe('Seconds between telemetry messages; 0 turns them off.'),
      })
      .strict()
      .prefault({}),
    http: z
      .object({
        enabled: z.boolean().default(true).describe('Serve /metrics and /healthz over HTTP.'),
        host: z
          .string()
          .default('127.0.0.1')
          .describe('Loopback by default: expose /metrics and /healthz beyond the device only on purpose.'),
        port: z.number().int().min(0).max(65535).default(9464).describe('HTTP port of /metrics and /healthz (0: any free port).'),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.sources.forEach((source, i) => {
      if (seen.has(source.name))
        ctx.addIssue({ code: 'custom', path: ['sources', i, 'name'], message: `duplicate source name '${source.name}'` });
      seen.add(source.name);
    });
  });

export type DaemonConfig = z.infer<typeof DaemonConfigSchema>;
export type SourceConfig = z.infer<typeof SourceSchema>;
export type DirectorySourceConfig = z.infer<typeof DirectorySourceSchema>;
export type CameraSourceConfig = z.infer<typeof CameraSourceSchema>;
export type CommandSourceConfig = z.infer<typeof CommandSourceSchema>;
export type RpicamSourceConfig = z.infer<typeof RpicamSourceSchema>;
export type JetsonCsiSourceConfig = z.infer<typeof JetsonCsiSourceSchema>;
export type SnapshotSourceConfig = z.infer<typeof SnapshotSourceSchema>;
export type MqttConfig = z.infer<typeof MqttSchema>;
export type OutboxConfig = z.infer<typeof OutboxSchema>;

/** A validated config with every path absolute and the device id filled in. */
export interface LoadedDaemonConfig {
  path: string;
  config: DaemonConfig & { device_id: string; control: { file: string } };
}

/** The host name as a topic level: lowercase, other characters as '-'. */
export function defaultDeviceId(): string {
  return (
    hostname()
      .toLowerCase()
      .replace(/[^a-z0-9_-]+/g, '-') || 'pivot-edge'
  );
}

/** Validates a parsed config object; `path` names it in errors and anchors relative paths. */
export function validateDaemonConfig(value: unknown, path: string): LoadedDaemonConfig {
  const config = parseWith(DaemonConfigSchema, value, path);
  const at = (p: string) => resolve(dirname(path), p);
  const sources = config.sources.map((source) => {
    if (source.type !== 'directory') return source;
    const dir = at(source.path);
    return {
      ...source,
      path: dir,
      done_dir: source.done_dir ? at(source.done_dir) : resolve(dir, '.done'),
      failed_dir: source.failed_dir ? at(source.failed_dir) : resolve(dir, '.failed'),
    };
  });
  const tls = config.mqtt.tls && {
    ...config.mqtt.tls,
    ...(config.mqtt.tls.ca ? { ca: at(config.mqtt.tls.ca) } : {}),
    ...(config.mqtt.tls.cert ? { cert: at(config.mqtt.tls.cert) } : {}),
    ...(config.mqtt.tls.key ? { key: at(config.mqtt.tls.key) } : {}),
  };
  let password = config.mqtt.password;
  if (config.mqtt.password_file) {
    const file = at(config.mqtt.password_file);
    try {
      password = readFileSync(file, 'utf8').trim();
    } catch (err) {
      throw new ConfigError(`${path}: mqtt.password_file: ${file}: ${readFailure(err)}`, { cause: err });
    }
  }
  return {
    path,
    config: {
      ...config,
      ...(config.deploy ? { deploy: at(config.deploy) } : {}),
      device_id: config.device_id ?? defaultDeviceId(),
      sources,
      mqtt: { ...config.mqtt, ...(tls ? { tls } : {}), ...(password !== undefined ? { password } : {}) },
      outbox: { ...config.outbox, dir: at(config.outbox.dir) },
      control: {
        ...config.control,
        file: config.control.file ? at(config.control.file) : resolve(at(config.outbox.dir), '..', 'control.json'),
      },
    },
  };
}

/** Reads a YAML or JSON daemon config file. */
export function loadDaemonConfig(file: string): LoadedDaemonConfig {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`${path}: ${readFailure(err)}`, { cause: err });
  }
  let value: unknown;
  try {
    // YAML is a superset of JSON, so one parser reads both.
    value = parseYaml(text);
  } catch (err) {
    throw new ConfigError(`${path}: not valid YAML/JSON: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
  return validateDaemonConfig(value, path);
}
