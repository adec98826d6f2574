/**
 * deploy.json: which model family, which low/high effort pair and which entropy
 * threshold the cascade runs with. `pivot search` (Phase 2) writes it and keeps what it
 * measured under `metadata`; it can also be written by hand.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { loadModelFamily, type ModelFamily } from '../model/manifest.js';
import { readFailure } from '../util/files.js';
import { parseWith } from '../util/zod.js';

const effortNumber = z.number().int().nonnegative();

export const DeploySchema = z
  .object({
    $schema: z.string().optional(),
    /** Model family directory, relative to the deploy file. */
    model: z.string().min(1),
    low: effortNumber,
    high: effortNumber,
    /** Normalized-entropy threshold Th in [0, 1]: E(x) > Th escalates to the high effort. */
    threshold: z.number().min(0).max(1),
    /** Free-form provenance (who chose the pair, measured accuracy, search settings). */
    metadata: z.record(z.string(), z.unknown()).optional(),
  })
  .strict()
  .refine((d) => d.low < d.high, { path: ['high'], message: 'must be greater than low (the cascade escalates to a larger effort)' });

export type DeployConfig = z.infer<typeof DeploySchema>;

export interface Deployment {
  /** Absolute path of the deploy file. */
  path: string;
  config: DeployConfig;
  family: ModelFamily;
}

/** The repository / installed package root: the nearest ancestor of this module with a package.json. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new ConfigError('cannot locate the pivot-edge package root (no package.json above the code)');
    dir = parent;
  }
  return dir;
}

/** The shipped deploy config: deploy/deploy.json in the package root. */
export function defaultDeployPath(): string {
  return join(packageRoot(), 'deploy', 'deploy.json');
}

/** Checks a parsed deploy object and everything it names (model directory, manifest, both efforts and their files). */
export function validateDeploy(value: unknown, path: string): Deployment {
  const config = parseWith(DeploySchema, value, path);
  const modelDir = resolve(dirname(path), config.model);
  let family: ModelFamily;
  try {
    family = loadModelFamily(modelDir);
  } catch (err) {
    throw new ConfigError(`${path}: model: ${(err as Error).message}`, { cause: err });
  }
  const available = family.manifest.efforts.map((e) => e.effort);
  for (const field of ['low', 'high'] as const)
    if (!available.includes(config[field]))
      throw new ConfigError(`${path}: ${field}: effort ${config[field]} is not in ${family.manifestPath} (has ${available.join(', ')})`);
  return { path, config, family };
}

/** Reads and validates a deploy file. */
export function loadDeploy(file: string): Deployment {
  const path = resolve(file);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    const reason = err instanceof SyntaxError ? `not valid JSON: ${err.message}` : readFailure(err);
    throw new ConfigError(`${path}: ${reason}`, { cause: err });
  }
  return validateDeploy(raw, path);
}

/** What `pivot search --max-drop` records under `metadata.guarantee` (the fields a reader needs; others pass through). */
const GuaranteeMetadataSchema = z.looseObject({
  statement: z.string(),
  max_drop: z.number(),
  delta: z.number(),
  loss: z.string(),
  calibration: z.looseObject({ source: z.string(), split: z.string().optional(), images: z.number() }),
  pair: z.object({ low: effortNumber, high: effortNumber }).nullable(),
  certified_threshold: z.number().nullable(),
});

export type GuaranteeMetadata = z.infer<typeof GuaranteeMetadataSchema>;

/** The deployment's certified guarantee, if its metadata carries one. */
export function deployGuarantee(config: DeployConfig): GuaranteeMetadata | undefined {
  const parsed = GuaranteeMetadataSchema.safeParse(config.metadata?.guarantee);
  return parsed.success ? parsed.data : undefined;
}

/**
 * One line saying what the deployment guarantees, for `pivot eval` and `pivot run`; undefined
 * when there is no guarantee. The certificate covers the certified pair at its threshold or
 * any smaller one (every threshold below it passed too), nothing else.
 */
export function guaranteeLine(config: DeployConfig): string | undefined {
  const g = deployGuarantee(config);
  if (!g) return undefined;
  const where = `${g.calibration.images} calibration images from ${g.calibration.source}${g.calibration.split ? ` (${g.calibration.split} split)` : ''}`;
  const head = `guarantee (${g.loss} loss, ${where}): ${g.statement}`;
  const covered =
    g.pair &&
    g.certified_threshold !== null &&
    g.pair.low === config.low &&
    g.pair.high === config.high &&
    config.threshold <= g.certified_threshold;
  if (covered) return head;
  const certified = g.pair ? `(${g.pair.low},${g.pair.high}) at Th <= ${g.certified_threshold}` : 'nothing';
  return `${head}; NOT in force: it certifies ${certified}, this runs (${config.low},${config.high}) at Th ${config.threshold}`;
}
