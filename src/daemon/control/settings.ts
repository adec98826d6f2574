/**
 * The settings live control can change (deployment, threshold, routing policy), kept as
 * overrides of the config file in a small JSON file, so a change made over MQTT survives a
 * restart. A saved file that no longer validates is reported and ignored, never fatal.
 */
import { readFile } from 'node:fs/promises';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { z } from 'zod';
import { POLICIES, type Policy } from '../../cascade/index.js';
import { defaultDeployPath, DeploySchema, loadDeploy, validateDeploy, type DeployConfig, type Deployment } from '../../config/deploy.js';
import { ConfigError } from '../../errors.js';
import { readFailure } from '../../util/files.js';
import { parseWith } from '../../util/zod.js';

const ControlOverridesSchema = z
  .object({
    /** A whole deploy.json, its model directory absolute. */
    deploy: DeploySchema.optional(),
    threshold: DeploySchema.shape.threshold.optional(),
    policy: z.enum(POLICIES).optional(),
  })
  .strict();

export interface ControlOverrides {
  deploy?: DeployConfig;
  threshold?: number;
  policy?: Policy;
}

/** What the cascade runs with: the deployment (threshold override applied) and the routing policy. */
export interface Settings {
  deployment: Deployment;
  policy: Policy;
}

/** Label of a deployment that came over MQTT rather than from a file. */
const SET_OVER_MQTT = '(set over MQTT)';

/** The config file's deployment (`deploy`, default the shipped one) with the overrides on top. */
export function effectiveSettings(deployFile: string | undefined, overrides: ControlOverrides): Settings {
  const base = overrides.deploy ? validateDeploy(overrides.deploy, SET_OVER_MQTT) : loadDeploy(deployFile ?? defaultDeployPath());
  const deployment = overrides.threshold === undefined ? base : { ...base, config: { ...base.config, threshold: overrides.threshold } };
  return { deployment, policy: overrides.policy ?? 'cascade' };
}

/** The saved overrides; none if the file does not exist yet. */
export async function loadOverrides(file: string): Promise<ControlOverrides> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new ConfigError(`${file}: ${readFailure(err)}`, { cause: err });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${file}: not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  return parseWith(ControlOverridesSchema, value, file);
}

/** Replaces the saved overrides atomically (a power cut leaves the old file or the new one). */
export async function saveOverrides(file: string, overrides: ControlOverrides): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFileAtomic(file, `${JSON.stringify(overrides, null, 2)}\n`, { fsync: true });
}
