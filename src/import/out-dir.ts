/**
 * The --out directory of `pivot import`. A new or empty directory, or one an earlier import
 * wrote, is taken; anything else is refused rather than mixed with a family's files. After a
 * re-import, the effort graphs the new manifest does not list are removed: they are ours
 * (effort-<k>.onnx), and left in place they would look like efforts of the new family.
 */
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../errors.js';
import type { Manifest } from '../model/manifest.js';

const EFFORT_FILE = /^effort-\d+\.onnx$/;
/** Scratch entries of an import (the probe graph, spilled taps) that an interrupted run can leave behind. */
const SCRATCH = /^(\.import-probe\.onnx|\.taps-.+)$/;
const OUR_FILES = new Set(['manifest.json', 'analysis.onnx', 'paths.json', 'cka.svg', 'cka.png', 'README.md']);

const ours = (name: string) => OUR_FILES.has(name) || EFFORT_FILE.test(name) || SCRATCH.test(name);

function madeByImport(dir: string): boolean {
  try {
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { imported?: unknown };
    return typeof manifest.imported === 'object' && manifest.imported !== null;
  } catch {
    return false;
  }
}

/**
 * Checks that `out` is missing, empty, or an earlier import's family (its manifest has `imported`,
 * or it holds only files an import writes), and clears the scratch an interrupted import left there.
 */
export function claimOutDir(out: string): void {
  let entries: string[];
  try {
    if (!statSync(out).isDirectory()) throw new ConfigError(`--out: ${out} is a file, not a directory`);
    entries = readdirSync(out);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new ConfigError(`--out: ${out}: ${(err as Error).message}`, { cause: err });
  }
  if (entries.length > 0 && !madeByImport(out) && !entries.every(ours)) {
    const foreign = entries.filter((e) => !ours(e));
    throw new ConfigError(
      `--out: ${out} is not empty and is not a family written by pivot import (it holds ${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', ...' : ''}); choose a new or empty directory`,
    );
  }
  for (const name of entries.filter((e) => SCRATCH.test(e))) rmSync(join(out, name), { recursive: true, force: true });
}

/** Removes effort-<k>.onnx files in `out` that `manifest` does not list (left by an earlier import); returns their names. */
export function removeStaleEfforts(out: string, manifest: Pick<Manifest, 'efforts'>): string[] {
  const listed = new Set(manifest.efforts.map((e) => e.file));
  const stale = readdirSync(out)
    .filter((name) => EFFORT_FILE.test(name) && !listed.has(name))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  for (const name of stale) rmSync(join(out, name), { force: true });
  return stale;
}
