/**
 * Extra fit points for `pivot bench --fit`: effort graphs for active masks the family does not
 * ship, made from its full-effort ONNX by `pivot import`'s surgery (effortModel: a skipped
 * attention's branch is removed, not multiplied by 0 as in the analysis graph, so it does not
 * run). They are cached in the temp directory, keyed by the source file's SHA-256, and timed
 * beside the shipped efforts.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { ModelLoadError } from '../errors.js';
import { detectVit } from '../import/detect.js';
import { externalDataFiles, readOnnx, writeOnnx } from '../import/onnx.js';
import { effortModel } from '../import/surgery.js';
import type { Effort, ModelFamily } from '../model/index.js';
import { enumeratePaths } from '../search/phase1/select.js';
import { sampleDistinct, seededRandom } from '../search/phase1/rng.js';

export interface MaskGraph {
  /** Key of the graph in the extended family (above every shipped effort number). */
  id: number;
  active: number[];
  file: string;
}

export const maskBits = (active: readonly number[]): string => active.join('');

/**
 * Up to `perEffort` masks per shipped effort with the same number of active attentions but
 * other positions (drawn with a fixed seed, so repeated fits time the same graphs).
 */
export function extraMasks(family: ModelFamily, perEffort: number): number[][] {
  const depth = family.manifest.architecture.depth;
  const shipped = new Set(family.manifest.efforts.map((e) => maskBits(e.active)));
  const counts = [...new Set(family.manifest.efforts.map((e) => e.active.reduce((a: number, b) => a + b, 0)))];
  return counts.flatMap((count) => {
    const others = enumeratePaths(depth, count).filter((m) => !shipped.has(maskBits(m)));
    return sampleDistinct(others, perEffort, seededRandom(count + 1));
  });
}

/** The family's effort with every attention active: the graph the others are cut from. */
function fullEffort(family: ModelFamily): Effort {
  const full = family.manifest.efforts.find((e) => e.active.every((b) => b === 1));
  if (!full) throw new ModelLoadError(`${family.manifestPath}: no effort with every attention active to cut other masks from`);
  return full;
}

/** Writes (or finds in the cache) an effort graph for each mask; ids start above the family's efforts. */
export async function maskGraphs(family: ModelFamily, masks: readonly number[][]): Promise<MaskGraph[]> {
  if (!masks.length) return [];
  const source = family.file(fullEffort(family).file);
  const hash = createHash('sha256').update(readFileSync(source)).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), 'pivot-edge-masks', `${family.manifest.name}-${hash}`);
  mkdirSync(dir, { recursive: true });
  const firstId = Math.max(...family.manifest.efforts.map((e) => e.effort)) + 1;
  const graphs = masks.map((active, i) => ({ id: firstId + i, active: [...active], file: join(dir, `mask-${maskBits(active)}.onnx`) }));
  const missing = graphs.filter((g) => !existsSync(g.file));
  if (missing.length) {
    const { model } = readOnnx(source);
    if (externalDataFiles(model).length)
      throw new ModelLoadError(`${source}: weights in external data files; extra masks cannot be cut from it (use --fit-masks 0)`);
    const { blocks } = detectVit(model, source);
    // writeOnnx renames into place, so an interrupted run never leaves a truncated graph in the cache.
    for (const g of missing) await writeOnnx(g.file, effortModel(model, blocks, g.active));
  }
  return graphs;
}

/** The family with the mask graphs added as efforts (keyed by their ids), for timing them with ModelRuntime. */
export function familyWithMasks(family: ModelFamily, graphs: readonly MaskGraph[]): ModelFamily {
  const extra: Effort[] = graphs.map((g) => ({ effort: g.id, active: g.active as (0 | 1)[], file: g.file, macs: 0, accuracy: {} }));
  const efforts = [...family.manifest.efforts, ...extra];
  return {
    ...family,
    manifest: { ...family.manifest, efforts },
    file: (name) => (isAbsolute(name) ? name : family.file(name)),
    effort(effort) {
      return efforts.find((e) => e.effort === effort) ?? family.effort(effort);
    },
  };
}
