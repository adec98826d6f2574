/**
 * Resolves `--vit` (a preset name, a models/<name>/manifest.json, or a ViT description file in
 * JSON or YAML with the same `name` + `architecture` blocks) and the active mask (`--active`,
 * `--effort`). Only the architecture and the effort masks are read, so the simulator works
 * before (or without) the ONNX files. In a description, `tokens` may be left out: it is then
 * the patch count, plus one class token when pooling is "cls".
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError, ModelLoadError } from '../errors.js';
import { ArchitectureSchema } from '../model/manifest.js';
import { readFailure } from '../util/files.js';
import { parseWith } from '../util/zod.js';
import { patchConvStem, VIT_PRESETS } from './presets.js';
import { checkVit, convGemm, deepestSkippedMask, parseMask, type ConvLayer, type VitSpec } from './workload.js';

const ManifestView = z.object({
  name: z.string().min(1),
  architecture: ArchitectureSchema.extend({ tokens: z.number().int().positive().optional() }),
  efforts: z.array(z.object({ effort: z.number().int().nonnegative(), active: z.array(z.number().int().min(0).max(1)) })).default([]),
});

export interface VitSource {
  vit: VitSpec;
  /** Effort masks named by the manifest; empty for presets and bare descriptions (deepest-skipped-first instead). */
  efforts: Map<number, number[]>;
  origin: 'preset' | 'manifest';
}

/** "patch-conv" (kernel = stride = patch) or "conv<k>x<k>/<stride>". */
function stemOf(stem: string, image: number, patch: number, channels: number, dim: number, file: string): ConvLayer[] {
  if (stem === 'patch-conv') return patchConvStem(image, patch, channels, dim);
  const conv = /^conv(\d+)x(\d+)\/(\d+)$/.exec(stem);
  if (!conv || conv[1] !== conv[2])
    throw new ModelLoadError(`${file}: architecture.stem: expected "patch-conv" or "conv<k>x<k>/<stride>", got ${JSON.stringify(stem)}`);
  return [
    { name: 'patch_embed', inH: image, inW: image, inC: channels, kernel: Number(conv[1]), stride: Number(conv[3]), pad: 0, outC: dim },
  ];
}

function fromManifest(path: string): VitSource {
  const file = statSync(path, { throwIfNoEntry: false })?.isDirectory() ? join(path, 'manifest.json') : path;
  let raw: unknown;
  try {
    const text = readFileSync(file, 'utf8');
    raw = /\.ya?ml$/i.test(file) ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw new ModelLoadError(`${file}: ${readFailure(err, 'no such file or preset')} (presets: ${Object.keys(VIT_PRESETS).join(', ')})`, {
      cause: err,
    });
  }
  const m = parseWith(ManifestView, raw, file, ModelLoadError);
  const a = m.architecture;
  const patches = (a.image / a.patch) ** 2;
  const tokens = a.tokens ?? patches + (a.pooling === 'cls' ? 1 : 0);
  const stem = stemOf(a.stem, a.image, a.patch, a.channels, a.dim, file);
  const vit: VitSpec = {
    name: m.name,
    image: a.image,
    patch: a.patch,
    channels: a.channels,
    tokens,
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
  if (stemTokens !== patches)
    throw new ModelLoadError(`${file}: architecture.stem: ${a.stem} gives ${stemTokens} patches, image/patch gives ${patches}`);
  if (tokens < patches) throw new ModelLoadError(`${file}: architecture.tokens: ${tokens} < ${patches} patches`);
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
  // Presets and descriptions without trained efforts: the deepest attentions are skipped first.
  if (source.efforts.size === 0) return deepestSkippedMask(depth, opts.effort);
  const mask = source.efforts.get(opts.effort) ?? (opts.effort === depth ? Array<number>(depth).fill(1) : undefined);
  if (!mask)
    throw new ConfigError(
      `--effort: ${source.vit.name} has no effort ${opts.effort} (has ${[...source.efforts.keys()].sort((a, b) => a - b).join(', ')})`,
    );
  return mask;
}
