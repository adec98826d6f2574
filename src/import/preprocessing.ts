/**
 * The imported family's preprocessing block, from a Hugging Face preprocessor_config.json
 * and/or the `pivot import` flags (--size, --resize, --mean, --std; flags win). The result
 * drives src/preprocess, which reproduces the exporter's transform up to resampling.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { PreprocessSchema, type Preprocess } from '../model/manifest.js';
import { readFailure } from '../util/files.js';
import { parseWith } from '../util/zod.js';

/** The flags as the CLI hands them over (strings), or already parsed. */
export interface PreprocessFlags {
  size?: string | number;
  resize?: string;
  mean?: string | number[];
  std?: string | number[];
}

/** What the ONNX graph says about its image input; width/height undefined when dynamic. */
export interface ModelImageInput {
  channels: 1 | 3;
  width?: number;
  height?: number;
}

export interface PreprocessChoice {
  preprocess: Preprocess;
  /** Assumptions and ignored settings worth telling the user. */
  notes: string[];
}

const IMAGENET_MEAN = [0.485, 0.456, 0.406];
const IMAGENET_STD = [0.229, 0.224, 0.225];
const FITS = ['fill', 'cover', 'contain'] as const;
type Kernel = Preprocess['resize']['kernel'];
type Fit = Preprocess['resize']['fit'];
type CropFrom = Preprocess['resize']['crop_from'];

/** PIL's resample codes (what Hugging Face stores) as sharp kernels; box and hamming have no sharp twin. */
const RESAMPLE: Record<number, { kernel: Kernel; name: string; exact: boolean }> = {
  0: { kernel: 'nearest', name: 'nearest', exact: true },
  1: { kernel: 'lanczos3', name: 'lanczos', exact: true },
  2: { kernel: 'linear', name: 'bilinear', exact: true },
  3: { kernel: 'cubic', name: 'bicubic', exact: true },
  4: { kernel: 'linear', name: 'box', exact: false },
  5: { kernel: 'linear', name: 'hamming', exact: false },
};

const positiveInt = z.number().int().positive();
const hw = z.object({ height: positiveInt, width: positiveInt }).strict();
const HfConfigSchema = z.object({
  image_processor_type: z.string().optional(),
  feature_extractor_type: z.string().optional(),
  do_resize: z.boolean().default(true),
  size: z.union([positiveInt, hw, z.object({ shortest_edge: positiveInt, longest_edge: positiveInt.optional() }).strict()]).optional(),
  resample: z.number().int().min(0).max(5).optional(),
  do_center_crop: z.boolean().optional(),
  crop_size: z.union([positiveInt, hw]).optional(),
  do_rescale: z.boolean().default(true),
  rescale_factor: z
    .number()
    .positive()
    .default(1 / 255),
  do_normalize: z.boolean().default(true),
  image_mean: z.union([z.number(), z.array(z.number()).min(1)]).optional(),
  image_std: z.union([z.number().positive(), z.array(z.number().positive()).min(1)]).optional(),
});
type HfConfig = z.infer<typeof HfConfigSchema>;

/** What one source (config or flags) says; later sources override earlier ones field by field. */
interface Recipe {
  grid?: { width: number; height: number; from: string };
  fit?: Fit;
  cropFrom?: CropFrom;
  kernel?: Kernel;
  rescale?: number;
  mean?: { values: number[]; from: string };
  std?: { values: number[]; from: string };
}

/**
 * Builds the manifest's preprocess block for a model whose image input is `input`.
 * `config` is a preprocessor_config.json path (or its parsed content). Throws a ConfigError
 * naming the flag or config field at fault.
 */
export function buildPreprocess(
  input: ModelImageInput,
  options: { flags?: PreprocessFlags; config?: string | object } = {},
): PreprocessChoice {
  const notes: string[] = [];
  const fromConfig = options.config === undefined ? {} : readHfConfig(options.config, notes);
  const fromFlags = readFlags(options.flags ?? {});
  const merged: Recipe = { ...fromConfig, ...definedOnly(fromFlags) };
  // An explicit --resize replaces the config's resize recipe, crop included.
  if (fromFlags.fit) merged.cropFrom = undefined;

  const grid = merged.grid ?? (input.width && input.height ? { width: input.width, height: input.height, from: 'the model' } : undefined);
  if (!grid) throw new ConfigError('--size: the model input has no fixed height and width; pass --size N');
  if (input.width && input.height && (grid.width !== input.width || grid.height !== input.height))
    throw new ConfigError(
      `${grid.from}: gives ${grid.width}x${grid.height} images but the model's input is ${input.width}x${input.height}`,
    );

  if (!merged.mean || !merged.std) {
    if (input.channels !== 3) throw new ConfigError('--mean/--std: required for a model with 1 input channel (no default)');
    notes.push('no --mean/--std or --preprocess: assuming ImageNet mean and std');
  }
  if (!merged.kernel) notes.push('no resample filter given: using bilinear (torchvision Resize default)');
  const preprocess = {
    resize: {
      width: grid.width,
      height: grid.height,
      fit: merged.fit ?? 'fill',
      kernel: merged.kernel ?? 'linear',
      ...(merged.cropFrom ? { crop_from: merged.cropFrom } : {}),
    },
    channels: input.channels,
    ...(merged.rescale !== undefined && Math.abs(merged.rescale - 1 / 255) > 1e-12 ? { rescale: merged.rescale } : {}),
    mean: perChannel(merged.mean ?? { values: IMAGENET_MEAN, from: '--mean' }, input.channels),
    std: perChannel(merged.std ?? { values: IMAGENET_STD, from: '--std' }, input.channels),
  };
  return { preprocess: parseWith(PreprocessSchema, preprocess, 'preprocessing', ConfigError), notes };
}

function definedOnly<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** One value per channel: a single value is repeated; otherwise the count must match. */
function perChannel(list: { values: number[]; from: string }, channels: number): number[] {
  if (list.values.length === 1) return Array(channels).fill(list.values[0]);
  if (list.values.length !== channels)
    throw new ConfigError(`${list.from}: has ${list.values.length} values but the model takes ${channels} channel(s)`);
  return list.values;
}

function numberList(raw: string | number[], flag: string): number[] {
  if (Array.isArray(raw)) return raw;
  const parts = raw.split(',').map((p) => p.trim());
  const values = parts.map(Number);
  if (parts.some((p) => p === '') || values.some((v) => !Number.isFinite(v)))
    throw new ConfigError(`${flag}: expected comma-separated numbers (e.g. 0.485,0.456,0.406), got "${raw}"`);
  return values;
}

function readFlags(flags: PreprocessFlags): Recipe {
  const out: Recipe = {};
  if (flags.size !== undefined) {
    const size = Number(flags.size);
    if (!Number.isInteger(size) || size <= 0) throw new ConfigError(`--size: expected a positive integer (pixels), got "${flags.size}"`);
    out.grid = { width: size, height: size, from: '--size' };
  }
  if (flags.resize !== undefined) {
    if (!(FITS as readonly string[]).includes(flags.resize))
      throw new ConfigError(`--resize: expected one of ${FITS.join(', ')}, got "${flags.resize}"`);
    out.fit = flags.resize as Fit;
  }
  if (flags.mean !== undefined) out.mean = { values: numberList(flags.mean, '--mean'), from: '--mean' };
  if (flags.std !== undefined) {
    const values = numberList(flags.std, '--std');
    if (values.some((v) => v <= 0)) throw new ConfigError(`--std: every value must be positive, got "${flags.std}"`);
    out.std = { values, from: '--std' };
  }
  return out;
}

function readHfConfig(config: string | object, notes: string[]): Recipe {
  let raw: unknown = config;
  const source = typeof config === 'string' ? config : 'preprocessor config';
  if (typeof config === 'string') {
    try {
      raw = JSON.parse(readFileSync(config, 'utf8'));
    } catch (err) {
      throw new ConfigError(`${config}: ${err instanceof SyntaxError ? `not valid JSON (${err.message})` : readFailure(err)}`, {
        cause: err,
      });
    }
  }
  return fromHfConfig(parseWith(HfConfigSchema, raw, source, ConfigError), source, notes);
}

/** Hugging Face image processors whose integer `size` is the shorter edge rather than a square. */
const SHORTEST_EDGE_PROCESSORS = /^(CLIP|ChineseCLIP|Bit|MobileNetV1|MobileNetV2)(ImageProcessor|FeatureExtractor)/;

function fromHfConfig(c: HfConfig, source: string, notes: string[]): Recipe {
  const field = (name: string) => `${source}: ${name}`;
  const type = c.image_processor_type ?? c.feature_extractor_type ?? '';
  const out: Recipe = {};

  const resample = c.resample ?? (/DeiT/.test(type) ? 3 : 2);
  const filter = RESAMPLE[resample]!;
  out.kernel = filter.kernel;
  if (!filter.exact) notes.push(`${field('resample')}: PIL ${filter.name} has no libvips twin; using bilinear`);
  if (c.resample === undefined) notes.push(`${field('resample')}: not set; using ${filter.name}, ${type || 'ViTImageProcessor'}'s default`);

  const crop = c.do_center_crop ?? c.crop_size !== undefined;
  const cropSize = typeof c.crop_size === 'number' ? { width: c.crop_size, height: c.crop_size } : c.crop_size;
  if (crop && !cropSize) throw new ConfigError(`${field('crop_size')}: missing while do_center_crop is true`);
  let size: { width: number; height: number } | { shortest_edge: number } | undefined;
  if (typeof c.size === 'number')
    size = SHORTEST_EDGE_PROCESSORS.test(type) ? { shortest_edge: c.size } : { width: c.size, height: c.size };
  else if (c.size && 'shortest_edge' in c.size) {
    if (c.size.longest_edge !== undefined) notes.push(`${field('size.longest_edge')}: not applied (the crop fixes the size)`);
    size = { shortest_edge: c.size.shortest_edge };
  } else size = c.size;

  if (!c.do_resize) {
    notes.push(`${field('do_resize')}: false, but images must reach the model's grid: stretching them (fill)`);
  } else if (crop && cropSize) {
    out.grid = { ...cropSize, from: field('crop_size') };
    out.fit = 'cover';
    if (size) {
      const small =
        'shortest_edge' in size
          ? size.shortest_edge < Math.max(cropSize.width, cropSize.height)
          : size.width < cropSize.width || size.height < cropSize.height;
      if (small)
        throw new ConfigError(`${field('size')}: ${JSON.stringify(c.size)} is smaller than crop_size ${cropSize.width}x${cropSize.height}`);
      out.cropFrom = size;
    }
  } else if (size && 'shortest_edge' in size) {
    throw new ConfigError(
      `${field('size')}: shortest_edge without do_center_crop gives images of varying shape; pass --resize cover (or fill) and --size`,
    );
  } else if (size) {
    out.grid = { ...size, from: field('size') };
    out.fit = 'fill';
  }

  out.rescale = c.do_rescale ? c.rescale_factor : 1;
  if (c.do_normalize) {
    if (c.image_mean === undefined) throw new ConfigError(`${field('image_mean')}: missing while do_normalize is true (or pass --mean)`);
    if (c.image_std === undefined) throw new ConfigError(`${field('image_std')}: missing while do_normalize is true (or pass --std)`);
    out.mean = { values: [c.image_mean].flat(), from: field('image_mean') };
    out.std = { values: [c.image_std].flat(), from: field('image_std') };
  } else {
    out.mean = { values: [0], from: field('do_normalize') };
    out.std = { values: [1], from: field('do_normalize') };
  }
  return out;
}
