/**
 * `pivot import`: a user's ONNX ViT classifier -> a model family directory every pivot
 * command accepts. Detect the encoder blocks from the graph's structure, measure the
 * architecture, build the gated analysis graph, run Phase 1 (CKA, Path-Score) on the
 * calibration images, write one effort graph per chosen path by graph surgery, measure
 * each effort's accuracy when the calibration images are labelled, and write manifest.json,
 * paths.json, the CKA heatmap and a model card.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, linkSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { ConfigError, InputError, ModelLoadError } from '../errors.js';
import { AnalysisModel } from '../model/analysis.js';
import { type Effort, loadModelFamily, type Manifest, ManifestSchema } from '../model/manifest.js';
import { writeHeatmap } from '../search/phase1/heatmap.js';
import { type PathsFile, pathsFile, PathsFileSchema } from '../search/phase1/index.js';
import { type EffortChoice, selectOptimalPaths } from '../search/phase1/select.js';
import { type SpilledTaps, spillTaps } from '../search/phase1/taps.js';
import { ckaMatrix } from '../search/phase1/cka.js';
import { effortAccuracy } from './accuracy.js';
import { effortMacs, measureArchitecture } from './architecture.js';
import { loadCalibration } from './calib.js';
import { modelCard } from './card.js';
import { type Detected, detectVit } from './detect.js';
import { defaultLabels, readLabels } from './labels.js';
import { defaultOpset, externalDataFiles, type ModelProto, readOnnx, writeOnnx } from './onnx.js';
import { claimOutDir, removeStaleEfforts } from './out-dir.js';
import { buildPreprocess, type PreprocessFlags } from './preprocessing.js';
import { analysisModel, effortModel, withOutputs } from './surgery.js';

export interface ImportOptions {
  /** The ONNX classifier to import. */
  model: string;
  /** Output directory (the model family). */
  out: string;
  /** Calibration images: one subfolder per class (labelled) or a flat folder. */
  calib: string;
  /** labels.txt or a Hugging Face config.json (id2label). */
  labels?: string;
  name?: string;
  /** --size, --resize, --mean, --std, and --preprocess (a Hugging Face preprocessor_config.json). */
  preprocess?: PreprocessFlags & { config?: string };
  /** Efforts to write (the full effort is always written); default all. */
  efforts?: 'all' | number[];
  /** Calibration images to use (paper: 256). */
  images?: number;
  threads?: number;
  logger?: Logger;
}

export interface ImportResult {
  dir: string;
  manifest: Manifest;
  paths: PathsFile;
  /** Bytes of each written effort graph, by effort, and of the imported file. */
  sizes: { input: number; efforts: Record<number, number> };
  /** Things the user should know (defaults taken, efforts left out). */
  notes: string[];
}

/** Hard-links (else copies) the model's external-data files next to the graphs written in `out`. */
function carryExternalData(model: ModelProto, from: string, out: string): void {
  for (const file of externalDataFiles(model)) {
    const src = resolve(dirname(from), file);
    const dst = resolve(out, file);
    if (src === dst || existsSync(dst)) continue;
    if (!existsSync(src)) throw new InputError(from, `its weights are in '${file}', which is not beside it`);
    mkdirSync(dirname(dst), { recursive: true });
    try {
      linkSync(src, dst);
    } catch {
      copyFileSync(src, dst);
    }
  }
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** The efforts to write: every chosen path, or the listed ones; always the full effort; never effort 0 of a class-token model. */
function pickEfforts(
  choices: EffortChoice[],
  wanted: 'all' | number[],
  depth: number,
  pooling: 'cls' | 'mean',
  notes: string[],
): EffortChoice[] {
  const lowest = pooling === 'cls' ? 1 : 0;
  if (pooling === 'cls')
    notes.push(
      'effort 0 left out: the model classifies from its class token, which sees the image only through attention (efforts start at 1)',
    );
  if (wanted === 'all') return choices.filter((c) => c.effort >= lowest);
  for (const k of wanted)
    if (!Number.isInteger(k) || k < lowest || k > depth)
      throw new ConfigError(
        `--efforts: ${k} is not an effort of this model (${lowest}..${depth}${lowest ? '; effort 0 of a class-token model never sees the image' : ''})`,
      );
  const set = new Set([...wanted, depth]);
  return choices.filter((c) => set.has(c.effort));
}

function defaultName(model: string): string {
  return basename(model, extname(model)).replace(/[^A-Za-z0-9._-]+/g, '-') || 'imported-vit';
}

const effortFile = (k: number) => `effort-${k}.onnx`;

/** What the first reading of the source graph yields: the manifest so far (full effort only) and sizes. */
interface Prepared {
  manifest: Manifest;
  labelsSource: string;
  bytes: number;
  fullSize: number;
}

/**
 * Reads the source graph, detects and measures the ViT, and writes analysis.onnx, the full
 * effort and a first manifest. The decoded graph (and the file buffer its weights are views
 * into) is released when this returns, so that Phase 1 runs without it.
 */
async function prepare(o: ImportOptions, file: string, out: string, notes: string[]): Promise<Prepared> {
  const { model, bytes } = readOnnx(file);
  const detected: Detected = detectVit(model, file);
  const depth = detected.blocks.length;
  o.logger?.info({ depth, pooling: detected.pooling, input: detected.input.name, output: detected.output }, 'found a ViT encoder');

  const [, channels, height, width] = detected.input.dims;
  if (channels !== 1 && channels !== 3)
    throw new ModelLoadError(
      `${file}: input '${detected.input.name}' [${detected.input.dims.join(',')}]: the channel dimension must be 1 or 3`,
    );
  const fixed = (d: number | string | undefined) => (typeof d === 'number' ? d : undefined);
  const { config, ...flags } = o.preprocess ?? {};
  const { preprocess, notes: preprocessNotes } = buildPreprocess(
    { channels, width: fixed(width), height: fixed(height) },
    { flags, config },
  );
  notes.push(...preprocessNotes.map((n) => `preprocessing: ${n}`));

  mkdirSync(out, { recursive: true });
  carryExternalData(model, file, out);
  const first = detected.blocks[0]!;
  const probeFile = join(out, '.import-probe.onnx');
  await writeOnnx(probeFile, withOutputs(model, [first.residual, first.softmax, first.mlpHidden]));
  let measured: Awaited<ReturnType<typeof measureArchitecture>>;
  try {
    measured = await measureArchitecture(probeFile, detected, file, preprocess.resize.width);
  } finally {
    rmSync(probeFile, { force: true });
  }
  const { architecture, inputShape, batch } = measured;
  o.logger?.info(architecture, 'architecture');

  const labels = o.labels ? readLabels(o.labels, architecture.classes) : defaultLabels(o.calib, architecture.classes);
  if (!o.labels) notes.push(`labels: --labels not given; used ${labels.source}`);

  const analysis = analysisModel(model, detected.blocks);
  await writeOnnx(join(out, 'analysis.onnx'), analysis.model);
  const fullMask = new Array<number>(depth).fill(1);
  const fullSize = await writeOnnx(join(out, effortFile(depth)), effortModel(model, detected.blocks, fullMask));

  const manifest: Manifest = {
    format: 'pivot-edge/manifest@1',
    name: o.name ?? defaultName(file),
    input: { name: detected.input.name, shape: inputShape, layout: 'NCHW', dtype: 'float32' },
    output: { name: detected.output },
    preprocess,
    labels: labels.labels,
    architecture,
    efforts: [
      { effort: depth, active: fullMask as (0 | 1)[], file: effortFile(depth), macs: effortMacs(architecture, fullMask), accuracy: {} },
    ],
    analysis: {
      file: 'analysis.onnx',
      gate_input: analysis.names.gateInput,
      mlp_outputs: analysis.names.mlpOutputs,
      attn_outputs: analysis.names.attnOutputs,
    },
    imported: {
      from: basename(file),
      sha256: sha256(file),
      opset: defaultOpset(model),
      ...(model.producerName ? { producer: `${model.producerName} ${model.producerVersion ?? ''}`.trim() } : {}),
      batch,
      fine_tuned: false,
      calib: { source: resolve(o.calib), images: 1, labelled: false },
    },
  };
  return { manifest, labelsSource: labels.source, bytes, fullSize };
}

/**
 * Writes the effort graphs of `kept` (except the full effort, already written) from a second
 * reading of the source graph: every effort shares that one decoded copy of the weights.
 */
async function writeEffortGraphs(file: string, out: string, kept: readonly EffortChoice[], sizes: Record<number, number>): Promise<void> {
  const { model } = readOnnx(file);
  const { blocks } = detectVit(model, file);
  for (const c of kept)
    if (c.effort !== blocks.length)
      sizes[c.effort] = await writeOnnx(join(out, effortFile(c.effort)), effortModel(model, blocks, c.active));
}

export async function runImport(o: ImportOptions): Promise<ImportResult> {
  const file = resolve(o.model);
  const out = resolve(o.out);
  const notes: string[] = [];
  const images = o.images ?? 256;
  if (!Number.isInteger(images) || images < 2) throw new ConfigError(`--images: ${images}: CKA needs at least 2 calibration images`);
  claimOutDir(out);
  const memory = (phase: string) => o.logger?.debug({ rss_mib: Math.round(process.memoryUsage.rss() / 2 ** 20) }, `memory: ${phase}`);
  const { manifest, labelsSource, bytes, fullSize } = await prepare(o, file, out, notes);
  const { architecture } = manifest;
  const { depth } = architecture;
  const batch = manifest.imported!.batch;
  const sizes: Record<number, number> = { [depth]: fullSize };
  const writeManifest = () => writeFile(join(out, 'manifest.json'), `${JSON.stringify(ManifestSchema.parse(manifest), null, 2)}\n`);
  await writeManifest();
  memory('analysis graph and full effort written');

  // Phase 1 on the calibration images, through the analysis graph (as `pivot paths` does).
  const calib = await loadCalibration(o.calib, manifest, images);
  if (calib.count < 2) throw new InputError(o.calib, 'needs at least 2 images (CKA compares images with each other)');
  manifest.imported!.calib = { source: calib.source, images: calib.count, labelled: calib.labelled };
  memory('calibration images decoded');
  // Small batches: onnxruntime keeps its peak activation memory. DeiT-S's analysis session (25
  // taps fetched) peaks at 430 MB at batch 4, 570 MB at 8, 850 MB at 16, for the same CPU time.
  const runBatch = batch === 'dynamic' ? 4 : batch;
  // The taps go to disk in one forward pass (DeiT-S: 25 taps x 77 MB); the session is closed before the Gram step.
  const session = await AnalysisModel.open(loadModelFamily(out), { threads: o.threads });
  let spilled: SpilledTaps;
  try {
    o.logger?.info({ images: calib.count, data: calib.source }, 'tapping the residual stream (Phase 1)');
    spilled = await spillTaps(session, calib, { batch: runBatch, dir: out });
  } finally {
    memory('taps written');
    await session.close();
  }
  let cka: number[][];
  try {
    const grams = spilled.grams();
    cka = ckaMatrix(grams.mlp, grams.attn);
  } finally {
    spilled.remove();
  }
  memory('CKA matrix computed');
  const choices = selectOptimalPaths(cka);
  const kept = pickEfforts(choices, o.efforts ?? 'all', depth, architecture.pooling, notes);

  await writeEffortGraphs(file, out, kept, sizes);
  memory('effort graphs written');
  const efforts: Effort[] = kept.map((c) => ({
    effort: c.effort,
    active: c.active as (0 | 1)[],
    file: effortFile(c.effort),
    macs: effortMacs(architecture, c.active),
    accuracy: {},
    path_score: c.score,
  }));
  manifest.efforts = efforts;
  await writeManifest();
  const stale = removeStaleEfforts(out, manifest);
  if (stale.length) notes.push(`--out: removed ${stale.join(', ')}, left by an earlier import and not efforts of this one`);

  if (calib.labelled) {
    const family = loadModelFamily(out);
    for (const e of efforts) {
      e.accuracy.calib = await effortAccuracy(family, e.effort, calib, { batch: runBatch, threads: o.threads });
      o.logger?.info({ effort: e.effort, accuracy: e.accuracy.calib }, 'calibration accuracy');
    }
    manifest.analysis!.accuracy = { calib: efforts.at(-1)!.accuracy.calib };
    memory('accuracy measured');
  } else
    notes.push(`accuracy: ${calib.source} has no class subfolders named by the labels, so the accuracy of each effort was not measured`);
  await writeManifest();

  const paths = pathsFile(manifest.name, calib, cka, kept);
  PathsFileSchema.parse(paths);
  await writeFile(join(out, 'paths.json'), `${JSON.stringify(paths, null, 2)}\n`);
  await writeHeatmap(cka, `${manifest.name}: CKA matrix (${calib.count} calibration images)`, join(out, 'cka'));
  await writeFile(join(out, 'README.md'), modelCard(manifest, labelsSource));
  return { dir: out, manifest, paths, sizes: { input: bytes, efforts: sizes }, notes };
}
