/**
 * Resolves `--vit` (a preset name or a models/<name>/manifest.json) and the active mask
 * (`--active`, `--effort`). Only the architecture and the effort masks of a manifest are
 * read, so the simulator works before (or without) the ONNX files.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError, ModelLoadError } from '../errors.js';
import { ArchitectureSchema } from '../model/manifest.js';
import { parseWith } from '../util/zod.js';
import { patchConvStem, VIT_PRESETS } from './presets.js';
import { checkVit, convGemm, deepestSkippedMask, parseMask, type ConvLayer, type VitSpec } from './workload.js';

const ManifestView = z.object({
  name: z.string().min(1),
  architecture: ArchitectureSchema,
  efforts: z.array(z.object({ effort: z.number().int().nonnegative(), active: z.array(z.number().int().min(0).max(1)) })).default([]),
});

export interface VitSource {
  vit: VitSpec;
  /** Effort masks named by the manifest; empty for presets (deepest-skipped-first instead). */
  efforts: Map<number, number[]>;
  origin: 'preset' | 'manifest';
}

/** "patch-conv" (kernel = stride = patch) or "conv<k>x<k>/<stride>". */
function stemOf(stem: string, image: number, patch: number, channels: number, dim: number, file: string): ConvLayer[] {
  if (stem === 'patch-conv') return patchConvStem(image, patch, channels, dim);
  const conv = /^conv(\d+)x(\d+)\/(\d+)$/.exec(stem);
  if (!conv || conv[1] !== conv[2])
    throw new ModelLoadError(`${file}: architecture.stem: expected "patch-conv" or "conv<k>x<k>/<stride>", got ${JSON.stringify(stem)}`);
  return [{ name: 'patch_embed', inH: image, inW: image, inC: channels, kernel: Number(conv[1]), stride: Number(conv[3]), pad: 0, outC: dim }];
}

function fromManifest(path: string): VitSource {
  const file = statSync(path, { throwIfNoEntry: false })?.isDirectory() ? join(path, 'manifest.json') : path;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or preset' : (err as Error).message;
    throw new ModelLoadError(`${file}: ${reason} (presets: ${Object.keys(VIT_PRESETS).join(', ')})`, { cause: err });
  }
  const m = parseWith(ManifestView, raw, file, ModelLoadError);
  const a = m.architecture;
  const patches = (a.image / a.patch) ** 2;
  const stem = stemOf(a.stem, a.image, a.patch, a.channels, a.dim, file);
  const vit: VitSpec = {
    name: m.name,
    image: a.image,
    patch: a.patch,
    channels: a.channels,
    tokens: a.tokens,
    dim: a.dim,
    depth: a.depth,
    heads: a.heads,
    mlpRatio: a.mlp_ratio,
    classes: a.classes,
    pooling: a.pooling,
    stem,
    tokenLabelingHead: false,
  };
  const stemTokens = convGemm(stem[stem.length - 1]!).m;
  if (stemTokens !== patches) throw new ModelLoadError(`${file}: architecture.stem: ${a.stem} gives ${stemTokens} patches, image/patch gives ${patches}`);
  if (a.tokens < patches) throw new ModelLoadError(`${file}: architecture.tokens: ${a.tokens} < ${patches} patches`);
  checkVit(vit, file);
  const efforts = new Map<number, number[]>();
  m.efforts.forEach((e, i) => {
    if (e.active.length !== a.depth) throw new ModelLoadError(`${file}: efforts.${i}.active: ${e.active.length} bits for depth ${a.depth}`);
    efforts.set(e.effort, e.active);
  });
  return { vit, efforts, origin: 'manifest' };
}

export function resolveVit(spec: string): VitSource {
  const preset = VIT_PRESETS[spec.toLowerCase()];
  if (preset) return { vit: preset, efforts: new Map(), origin: 'preset' };
  return fromManifest(spec);
}

/** `--active` wins; else `--effort` (manifest mask, or deepest-skipped-first for presets); else all active. */
export function resolveMask(source: VitSource, opts: { active?: string; effort?: number }): number[] {
  const depth = source.vit.depth;
  if (opts.active !== undefined) return parseMask(opts.active, depth);
  if (opts.effort === undefined) return Array<number>(depth).fill(1);
  if (source.origin === 'preset') return deepestSkippedMask(depth, opts.effort);
  const mask = source.efforts.get(opts.effort) ?? (opts.effort === depth ? Array<number>(depth).fill(1) : undefined);
  if (!mask)
    throw new ConfigError(`--effort: ${source.vit.name} has no effort ${opts.effort} (has ${[...source.efforts.keys()].sort((a, b) => a - b).join(', ')})`);
  return mask;
}
