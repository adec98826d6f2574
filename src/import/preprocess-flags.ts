/**
 * The manifest's preprocessing block from `pivot import`'s flags (--size, --resize, --mean,
 * --std; --preprocess reads a Hugging Face preprocessor_config.json's size, resample and
 * mean/std). Without either, ImageNet's mean/std, the usual choice of torchvision and timm.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import type { Preprocess } from '../model/manifest.js';
import { readFailure } from '../util/files.js';

export interface PreprocessFlags {
  preprocess?: string;
  size?: number;
  resize?: 'fill' | 'cover' | 'contain';
  mean?: number[];
  std?: number[];
}

export const IMAGENET_MEAN = [0.485, 0.456, 0.406];
export const IMAGENET_STD = [0.229, 0.224, 0.225];

/** PIL resample codes (Hugging Face's `resample`) as sharp kernels. */
const KERNELS: Record<number, Preprocess['resize']['kernel']> = { 0: 'nearest', 1: 'lanczos3', 2: 'linear', 3: 'cubic' };

interface HfConfig {
  image_mean?: number[];
  image_std?: number[];
  resample?: number;
}

function readHfConfig(path: string): HfConfig {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as HfConfig;
  } catch (err) {
    throw new ConfigError(`--preprocess: ${path}: ${readFailure(err)}`, { cause: err });
  }
}

/** The preprocessing block for a model with a square `image` input of `channels` channels; `defaulted` lists what no flag gave. */
export function preprocessFromFlags(flags: PreprocessFlags, image: number, channels: 1 | 3): { preprocess: Preprocess; defaulted: string[] } {
  const hf = flags.preprocess ? readHfConfig(flags.preprocess) : {};
  const defaulted: string[] = [];
  const pick = (name: 'mean' | 'std', flag: number[] | undefined, fromHf: number[] | undefined, fallback: number[]): number[] => {
    const value = flag ?? fromHf ?? (defaulted.push(name), fallback);
    const fitted = value.length === 1 ? new Array<number>(channels).fill(value[0]!) : value.slice(0, channels === 1 ? 1 : 3);
    if (fitted.length !== channels) throw new ConfigError(`--${name}: ${value.length} values for ${channels} channels`);
    return fitted;
  };
  return {
    preprocess: {
      resize: { width: image, height: image, fit: flags.resize ?? 'fill', kernel: KERNELS[hf.resample ?? -1] ?? 'cubic' },
      channels,
      mean: pick('mean', flags.mean, hf.image_mean, IMAGENET_MEAN),
      std: pick('std', flags.std, hf.image_std, IMAGENET_STD),
    },
    defaulted,
  };
}
