/**
 * The model family's manifest (models/<name>/manifest.json): the single description
 * of input, preprocessing, labels, architecture and efforts that the runtime, Phase 1,
 * PIVOT-Sim and the benchmarks all read.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { ModelLoadError } from '../errors.js';
import { readFailure } from '../util/files.js';
import { parseWith } from '../util/zod.js';

const positiveInt = z.number().int().positive();
const bit = z.union([z.literal(0), z.literal(1)]);

export const PreprocessSchema = z.object({
  /**
   * The model's input grid (width x height) and how an image reaches it. `fit` follows sharp's
   * names: fill stretches; cover scales the shorter side to the grid and center-crops (torchvision
   * Resize(n) + CenterCrop(n)); contain letterboxes with black. `kernel` is the resampling filter
   * (PIL bilinear = linear, bicubic = cubic, lanczos = lanczos3).
   */
  resize: z
    .object({
      width: positiveInt,
      height: positiveInt,
      fit: z.enum(['fill', 'cover', 'contain', 'inside', 'outside']).default('fill'),
      kernel: z.enum(['nearest', 'linear', 'cubic', 'mitchell', 'lanczos2', 'lanczos3']).default('lanczos3'),
      /**
       * With fit = cover: first resize to this (the shorter side, aspect kept, as torchvision's
       * Resize(256) and Hugging Face's size.shortest_edge; or an exact size, as Hugging Face's
       * size {height, width}), then center-crop width x height.
       */
      crop_from: z
        .union([z.object({ shortest_edge: positiveInt }).strict(), z.object({ width: positiveInt, height: positiveInt }).strict()])
        .optional(),
    })
    .superRefine((resize, ctx) => {
      const { crop_from: from, fit, width, height } = resize;
      if (!from) return;
      if (fit !== 'cover') ctx.addIssue({ code: 'custom', path: ['fit'], message: `must be cover when crop_from is given (got ${fit})` });
      const tooSmall = 'shortest_edge' in from ? from.shortest_edge < Math.max(width, height) : from.width < width || from.height < height;
      if (tooSmall)
        ctx.addIssue({
          code: 'custom',
          path: ['crop_from'],
          message: `${JSON.stringify(from)} is smaller than the ${width}x${height} crop`,
        });
    }),
  /** 1 = grayscale (luminance), 3 = RGB. */
  channels: z.union([z.literal(1), z.literal(3)]),
  /** Pixel value v (0..255) becomes x = v * rescale (default 1/255), then (x - mean[c]) / std[c]. */
  rescale: z.number().positive().optional(),
  mean: z.array(z.number()).min(1),
  std: z.array(z.number().positive()).min(1),
});

export const ArchitectureSchema = z.object({
  image: positiveInt,
  patch: positiveInt,
  channels: positiveInt,
  dim: positiveInt,
  depth: positiveInt,
  heads: positiveInt,
  mlp_ratio: z.number().positive(),
  tokens: positiveInt,
  classes: positiveInt,
  pooling: z.enum(['mean', 'cls']).default('mean'),
  stem: z.string().default('patch-conv'),
});

const AccuracySchema = z.object({
  test: z.number().min(0).max(1).optional(),
  sample: z.number().min(0).max(1).optional(),
  calib: z.number().min(0).max(1).optional(),
});

/** Where a family made by `pivot import` came from: the user's ONNX classifier and the calibration images. */
const ImportedSchema = z.object({
  /** File name of the imported ONNX model and its SHA-256. */
  from: z.string().min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  opset: z.number().int().positive(),
  producer: z.string().optional(),
  /** 'dynamic', or the fixed batch size the graph was exported with. */
  batch: z.union([z.literal('dynamic'), positiveInt]),
  /** False: the efforts are the imported weights with attention modules removed, not fine-tuned. */
  fine_tuned: z.boolean(),
  calib: z.object({ source: z.string().min(1), images: positiveInt, labelled: z.boolean() }),
});

export const EffortSchema = z.object({
  /** Number of active attention modules. */
  effort: z.number().int().nonnegative(),
  /** active[i] = 1 when encoder i's attention runs (length = depth). */
  active: z.array(bit),
  file: z.string().min(1),
  macs: z.number().int().nonnegative(),
  /** Accuracy (0..1) on the full test set and on the bundled sample (training code), or on the labelled calibration images (`pivot import`). */
  accuracy: AccuracySchema,
  path_score: z.number().optional(),
});

export const ManifestSchema = z.object({
  /** JSON Schema of this file, for editors (deploy/schemas/manifest.schema.json). */
  $schema: z.string().optional(),
  format: z.literal('pivot-edge/manifest@1'),
  name: z.string().min(1),
  input: z.object({
    name: z.string().min(1),
    /** -1 marks the dynamic batch dimension. */
    shape: z.array(z.number().int()).length(4),
    layout: z.literal('NCHW'),
    dtype: z.literal('float32'),
  }),
  output: z.object({ name: z.string().min(1) }),
  preprocess: PreprocessSchema,
  labels: z.array(z.string().min(1)).min(2),
  architecture: ArchitectureSchema,
  efforts: z.array(EffortSchema).min(1),
  /** Analysis variant for Phase 1: extra gate input and residual-stream taps. */
  analysis: z
    .object({
      file: z.string().min(1),
      gate_input: z.string().min(1),
      /** MLP_0 (embedding) .. MLP_D outputs, and A_1 .. A_D outputs. */
      mlp_outputs: z.array(z.string().min(1)),
      attn_outputs: z.array(z.string().min(1)),
      /** Accuracy (0..1) of the analysis graph with every attention on (the base model, before effort fine-tuning). */
      accuracy: AccuracySchema.optional(),
    })
    .optional(),
  samples: z.string().optional(),
  imported: ImportedSchema.optional(),
});

export type Manifest = z.infer<typeof ManifestSchema>;
export type Effort = z.infer<typeof EffortSchema>;
export type Preprocess = z.infer<typeof PreprocessSchema>;
export type Architecture = z.infer<typeof ArchitectureSchema>;

/** A manifest with its directory, so relative file names can be resolved. */
export interface ModelFamily {
  dir: string;
  manifestPath: string;
  manifest: Manifest;
  /** Absolute path of a file named in the manifest. */
  file(name: string): string;
  effort(effort: number): Effort;
}

/** Parses and cross-checks a manifest object; `source` names it in errors. */
export function validateManifest(value: unknown, source: string, dir: string): Manifest {
  const m = parseWith(ManifestSchema, value, source, ModelLoadError);
  const { depth, classes, channels, image } = m.architecture;
  const fail = (field: string, reason: string): never => {
    throw new ModelLoadError(`${source}: ${field}: ${reason}`);
  };
  if (m.labels.length !== classes) fail('labels', `has ${m.labels.length} entries but architecture.classes is ${classes}`);
  if (m.input.shape[1] !== channels) fail('input.shape', `channel dimension ${m.input.shape[1]} != architecture.channels ${channels}`);
  if (m.preprocess.channels !== channels) fail('preprocess.channels', `${m.preprocess.channels} != architecture.channels ${channels}`);
  if (m.input.shape[2] !== m.preprocess.resize.height || m.input.shape[3] !== m.preprocess.resize.width)
    fail(
      'input.shape',
      `[${m.input.shape.join(',')}] disagrees with preprocess.resize ${m.preprocess.resize.width}x${m.preprocess.resize.height}`,
    );
  if (m.input.shape[2] !== image) fail('input.shape', `height ${m.input.shape[2]} != architecture.image ${image}`);
  for (const key of ['mean', 'std'] as const)
    if (m.preprocess[key].length !== channels)
      fail(`preprocess.${key}`, `has ${m.preprocess[key].length} entries for ${channels} channel(s)`);
  const seen = new Set<number>();
  m.efforts.forEach((e, i) => {
    if (e.active.length !== depth) fail(`efforts.${i}.active`, `mask length ${e.active.length} != architecture.depth ${depth}`);
    const count = e.active.reduce<number>((a, b) => a + b, 0);
    if (count !== e.effort) fail(`efforts.${i}.effort`, `is ${e.effort} but the mask has ${count} active attention(s)`);
    if (seen.has(e.effort)) fail(`efforts.${i}.effort`, `effort ${e.effort} is listed twice`);
    seen.add(e.effort);
    const path = resolve(dir, e.file);
    if (!existsSync(path) || !statSync(path).isFile()) fail(`efforts.${i}.file`, `${path} does not exist`);
  });
  if (m.analysis) {
    const path = resolve(dir, m.analysis.file);
    if (!existsSync(path)) fail('analysis.file', `${path} does not exist`);
    if (m.analysis.mlp_outputs.length !== depth + 1) fail('analysis.mlp_outputs', `needs ${depth + 1} names (MLP_0..MLP_${depth})`);
    if (m.analysis.attn_outputs.length !== depth) fail('analysis.attn_outputs', `needs ${depth} names (A_1..A_${depth})`);
  }
  return m;
}

/** Loads `<dir>/manifest.json` (or a manifest file path) and validates everything it names. */
export function loadModelFamily(dirOrManifest: string): ModelFamily {
  const manifestPath = dirOrManifest.endsWith('.json') ? resolve(dirOrManifest) : resolve(dirOrManifest, 'manifest.json');
  const dir = dirname(manifestPath);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch (err) {
    throw new ModelLoadError(`${manifestPath}: ${readFailure(err)}`, { cause: err });
  }
  const manifest = validateManifest(raw, manifestPath, dir);
  return {
    dir,
    manifestPath,
    manifest,
    file: (name) => join(dir, name),
    effort(effort) {
      const found = manifest.efforts.find((e) => e.effort === effort);
      if (!found)
        throw new ModelLoadError(
          `${manifestPath}: effort ${effort} is not in the family (has ${manifest.efforts.map((e) => e.effort).join(', ')})`,
        );
      return found;
    },
  };
}
