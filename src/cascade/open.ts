/** Building a cascade from a deploy file (or explicit overrides): the entry point the CLI, daemon and benchmarks share. */
import { resolve } from 'node:path';
import { defaultDeployPath, loadDeploy, validateDeploy, type Deployment } from '../config/deploy.js';
import { ConfigError } from '../errors.js';
import { ModelRuntime, type SessionOptions } from '../model/index.js';
import type { Policy } from './policy.js';
import { Cascade, type CascadeOptions } from './runner.js';

export interface CascadeChoice {
  /** deploy.json path; default: the shipped deploy/deploy.json. Mutually exclusive with `model`. */
  deploy?: string;
  /** Model family directory (needs low and high, and threshold for the cascade policy). */
  model?: string;
  low?: number;
  high?: number;
  threshold?: number;
  policy?: Policy;
}

/** Resolves a deploy file plus command-line overrides into one validated Deployment. */
export function chooseDeployment(choice: CascadeChoice): Deployment {
  if (choice.model !== undefined) {
    if (choice.deploy !== undefined) throw new ConfigError('--model and --deploy: give one or the other');
    const missing = (['low', 'high', 'threshold'] as const).filter((k) => choice[k] === undefined);
    if (missing.length) throw new ConfigError(`--model needs ${missing.map((k) => `--${k}`).join(', ')}`);
    const { model, low, high, threshold } = choice;
    return validateDeploy({ model: resolve(model), low, high, threshold }, '(command line)');
  }
  const base = loadDeploy(choice.deploy ?? defaultDeployPath());
  const overrides = Object.fromEntries(
    (['low', 'high', 'threshold'] as const).filter((k) => choice[k] !== undefined).map((k) => [k, choice[k]]),
  );
  if (!Object.keys(overrides).length) return base;
  return validateDeploy({ ...base.config, model: base.family.dir, ...overrides }, `${base.path} with command-line overrides`);
}

export interface OpenedCascade {
  deployment: Deployment;
  runtime: ModelRuntime;
  cascade: Cascade;
}

/** Loads the deployment, opens its resident sessions and builds the cascade. */
export async function openCascade(
  choice: CascadeChoice,
  session: SessionOptions = {},
  options: CascadeOptions = {},
): Promise<OpenedCascade> {
  const deployment = chooseDeployment(choice);
  const runtime = new ModelRuntime(deployment.family, session);
  const { low, high, threshold } = deployment.config;
  const cascade = await Cascade.create(runtime, { low, high, threshold, policy: choice.policy ?? 'cascade' }, options);
  return { deployment, runtime, cascade };
}
