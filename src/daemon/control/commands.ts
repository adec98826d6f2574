/**
 * The `<prefix>/<device>/set` command: JSON asking for a new threshold, routing policy or
 * deployment. Each field is checked with the deploy.json schema's own rules, and an error
 * names the field (`threshold: Too big: expected number to be <=1`).
 */
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { POLICIES } from '../../cascade/index.js';
import { DeploySchema, loadDeploy, validateDeploy, type DeployConfig } from '../../config/deploy.js';
import { ConfigError } from '../../errors.js';
import { formatIssues } from '../../util/zod.js';
import type { ControlOverrides } from './settings.js';

const CHANGES = ['threshold', 'policy', 'deploy', 'reset'] as const;

const SetCommandSchema = z
  .object({
    /** Echoed in the reply, so a client can match replies to its commands. */
    id: z.union([z.string(), z.number()]).optional(),
    threshold: DeploySchema.shape.threshold.optional(),
    policy: z.enum(POLICIES).optional(),
    /** A deploy.json object, or the path of one the daemon can read (relative: to the daemon config's folder). */
    deploy: z.union([z.string().min(1), z.record(z.string(), z.unknown())]).optional(),
    /** Forget every change made over MQTT: back to the config file's deployment. */
    reset: z.literal(true).optional(),
  })
  .strict()
  .refine((c) => CHANGES.some((k) => c[k] !== undefined), { message: `expected at least one of ${CHANGES.join(', ')}` });

type SetCommand = z.infer<typeof SetCommandSchema>;

/** The `id` of a command, read even from one that does not validate, so its rejection can be matched too. */
export function commandId(payload: string): string | number | undefined {
  try {
    const id = (JSON.parse(payload) as { id?: unknown } | null)?.id;
    return typeof id === 'string' || typeof id === 'number' ? id : undefined;
  } catch {
    return undefined;
  }
}

/** Parses a `set` payload; a ConfigError's message is `<field>: <reason>`. */
export function parseSetCommand(payload: string): SetCommand {
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch (err) {
    throw new ConfigError(`(root): not JSON: ${(err as Error).message}`);
  }
  const result = SetCommandSchema.safeParse(value);
  if (!result.success) throw new ConfigError(formatIssues(result.error));
  return result.data;
}

/**
 * The overrides after `command`. A new deployment replaces an earlier threshold change (it brings
 * its own threshold); a threshold in the same command applies on top of it. `anchor` is the folder
 * relative deploy paths and model directories resolve against.
 */
export function applySetCommand(command: SetCommand, current: ControlOverrides, anchor: string): ControlOverrides {
  const next: ControlOverrides = command.reset ? {} : { ...current };
  if (command.deploy !== undefined) {
    next.deploy = deployFrom(command.deploy, anchor);
    delete next.threshold;
  }
  if (command.threshold !== undefined) next.threshold = command.threshold;
  if (command.policy !== undefined) next.policy = command.policy;
  return next;
}

/** A deploy object or file, validated like deploy.json, with its model directory made absolute so it can be saved. */
function deployFrom(deploy: string | Record<string, unknown>, anchor: string): DeployConfig {
  try {
    if (typeof deploy === 'string') {
      const loaded = loadDeploy(resolve(anchor, deploy));
      return { ...loaded.config, model: loaded.family.dir };
    }
    const model = typeof deploy.model === 'string' && !isAbsolute(deploy.model) ? resolve(anchor, deploy.model) : deploy.model;
    const loaded = validateDeploy({ ...deploy, model }, 'deploy');
    return { ...loaded.config, model: loaded.family.dir };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    // validateDeploy names the source first ("deploy: low: ..."); a file's errors name the file.
    throw new ConfigError(err.message.startsWith('deploy: ') ? err.message : `deploy: ${err.message}`, { cause: err });
  }
}
