/**
 * The calibration ladder of `pivot bench --fit`: a fixed set of small synthetic ViTs (probes)
 * timed beside the model, so every device profile is fitted on the regimes it is used for,
 * from a 28x28 / 64-wide model whose calls are mostly per-call and per-operation overheads to
 * a DeiT-S block whose time is large-GEMM MACs. A profile fitted on one model plus the ladder
 * then predicts another architecture by interpolation between probes rather than by
 * extrapolation from one shape. Each probe is a ViTSpec (its PIVOT-Sim operation list) and a
 * graph per active-attention count (probe-graph.ts), written once to the temp directory
 * (keyed by the probe's description) as a model family that ModelRuntime can time.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { writeOnnx } from '../import/onnx.js';
import { loadModelFamily, type Manifest, type ModelFamily } from '../model/index.js';
import { patchConvStem } from '../sim/presets.js';
import { buildWorkload, checkVit, deepestSkippedMask, type VitSpec } from '../sim/workload.js';
import { readFailure } from '../util/files.js';
import { parseWith } from '../util/zod.js';
import { PROBE_INPUT, PROBE_OUTPUT, probeModel } from './probe-graph.js';

const positiveInt = z.number().int().positive();

export const ProbeSchema = z
  .strictObject({
    /** Lower-case letters, digits and dashes; the probe's family is named `ladder-<name>`. */
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes'),
    image: positiveInt.max(512),
    patch: positiveInt,
    channels: z.union([z.literal(1), z.literal(3)]),
    dim: positiveInt.max(2048),
    heads: positiveInt,
    mlp_ratio: z.number().positive().max(8),
    /** Encoders; every active-attention count 0..depth is timed. Kept small: probes must be quick. */
    depth: positiveInt.max(4),
    classes: positiveInt.max(10000),
  })
  .superRefine((p, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    if (p.image % p.patch !== 0) issue('patch', `${p.patch} does not divide image ${p.image}`);
    if (p.dim % p.heads !== 0) issue('heads', `${p.heads} heads do not divide dim ${p.dim}`);
    if (!Number.isInteger(p.dim * p.mlp_ratio)) issue('mlp_ratio', `dim x mlp_ratio must be an integer, got ${p.dim * p.mlp_ratio}`);
  });

export type Probe = z.infer<typeof ProbeSchema>;

export const LadderSchema = z.strictObject({ probes: z.array(ProbeSchema).min(1).max(32) }).superRefine((l, ctx) => {
  const seen = new Set<string>();
  l.probes.forEach((p, i) => {
    if (seen.has(p.name)) ctx.addIssue({ code: 'custom', path: ['probes', i, 'name'], message: `${p.name} is listed twice` });
    seen.add(p.name);
  });
});

/**
 * The default ladder: widths 32 to 384 at 49 tokens, tokens 49 to 196 at width 64, and the
 * DeiT-T and DeiT-S blocks (196 tokens, width 192 and 384) with their stems and 1000-class
 * heads; a 64-token, 384-wide probe separates tokens from width at the large end. Small
 * probes have two encoders (the per-call costs need the most points there), the large ones one.
 */
export const DEFAULT_LADDER: readonly Probe[] = [
  { name: 't49-d32', image: 28, patch: 4, channels: 1, dim: 32, heads: 2, mlp_ratio: 2, depth: 2, classes: 10 },
  { name: 't49-d64', image: 28, patch: 4, channels: 1, dim: 64, heads: 4, mlp_ratio: 2, depth: 2, classes: 10 },
  { name: 't64-d128', image: 32, patch: 4, channels: 3, dim: 128, heads: 4, mlp_ratio: 4, depth: 2, classes: 100 },
  { name: 't196-d64', image: 56, patch: 4, channels: 1, dim: 64, heads: 4, mlp_ratio: 2, depth: 2, classes: 10 },
  { name: 't64-d384', image: 64, patch: 8, channels: 3, dim: 384, heads: 6, mlp_ratio: 4, depth: 1, classes: 100 },
  { name: 't196-d192', image: 224, patch: 16, channels: 3, dim: 192, heads: 3, mlp_ratio: 4, depth: 1, classes: 1000 },
  { name: 't196-d384', image: 224, patch: 16, channels: 3, dim: 384, heads: 6, mlp_ratio: 4, depth: 1, classes: 1000 },
];

/** Reads a ladder file (YAML or JSON: `probes: [{name, image, patch, channels, dim, heads, mlp_ratio, depth, classes}]`). */
export function loadLadder(file: string): Probe[] {
  let raw: unknown;
  try {
    const text = readFileSync(file, 'utf8');
    raw = /\.json$/i.test(file) ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ConfigError(`--calibration: ${file}: ${readFailure(err)}`, { cause: err });
  }
  return parseWith(LadderSchema, raw, `--calibration: ${file}`).probes;
}

export const probeFamilyName = (p: Probe): string => `ladder-${p.name}`;

/** The probe as PIVOT-Sim sees it: mean pooling, so the tokens are the patches. */
export function probeVit(p: Probe): VitSpec {
  const vit: VitSpec = {
    name: probeFamilyName(p),
    image: p.image,
    patch: p.patch,
    channels: p.channels,
    tokens: (p.image / p.patch) ** 2,
    dim: p.dim,
    depth: p.depth,
    heads: p.heads,
    mlpRatio: p.mlp_ratio,
    classes: p.classes,
    pooling: 'mean',
    stem: patchConvStem(p.image, p.patch, p.channels, p.dim),
    tokenLabelingHead: false,
  };
  checkVit(vit, `probe ${p.name}`);
  return vit;
}

/** Bumped whenever probe-graph.ts changes what it writes, so cached graphs are rebuilt. */
const GRAPH_VERSION = 1;

const gemmMacs = (vit: VitSpec, active: readonly number[]): number =>
  buildWorkload(vit, active).reduce((s, op) => s + (op.unit === 'pl' ? op.gemm.m * op.gemm.k * op.gemm.n * op.repeat : 0), 0);

function probeManifest(p: Probe, vit: VitSpec): Manifest {
  const efforts = Array.from({ length: p.depth + 1 }, (_, effort) => {
    const active = deepestSkippedMask(p.depth, effort) as (0 | 1)[];
    return { effort, active, file: `effort-${effort}.onnx`, macs: gemmMacs(vit, active), accuracy: {} };
  });
  return {
    format: 'pivot-edge/manifest@1',
    name: vit.name,
    input: { name: PROBE_INPUT, shape: [-1, p.channels, p.image, p.image], layout: 'NCHW', dtype: 'float32' },
    output: { name: PROBE_OUTPUT },
    preprocess: {
      resize: { width: p.image, height: p.image, fit: 'fill', kernel: 'lanczos3' },
      channels: p.channels,
      mean: Array<number>(p.channels).fill(0.5),
      std: Array<number>(p.channels).fill(0.5),
    },
    labels: Array.from({ length: p.classes }, (_, i) => `class-${i}`),
    architecture: {
      image: p.image,
      patch: p.patch,
      channels: p.channels,
      dim: p.dim,
      depth: p.depth,
      heads: p.heads,
      mlp_ratio: p.mlp_ratio,
      tokens: vit.tokens,
      classes: p.classes,
      pooling: 'mean',
      stem: 'patch-conv',
    },
    efforts,
  };
}

/** The probe as a model family (an effort per active-attention count, deepest skipped first), written to the cache if missing. */
export async function probeFamily(p: Probe, root = join(tmpdir(), 'pivot-edge-ladder')): Promise<ModelFamily> {
  const vit = probeVit(p);
  const key = createHash('sha256')
    .update(JSON.stringify({ ...p, GRAPH_VERSION }))
    .digest();
  const dir = join(root, `${vit.name}-${key.toString('hex').slice(0, 16)}`);
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(manifestPath)) {
    mkdirSync(dir, { recursive: true });
    const manifest = probeManifest(p, vit);
    // Every graph, then the manifest (which marks the probe complete), each renamed into place when whole.
    for (const e of manifest.efforts) await writeOnnx(join(dir, e.file), probeModel(vit, e.active, key.readUInt32BE(0)));
    writeFileAtomic.sync(manifestPath, JSON.stringify(manifest, null, 2), { fsync: false });
  }
  return loadModelFamily(dir);
}
