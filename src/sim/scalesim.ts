/**
 * SCALE-Sim v2 inputs and outputs, so its users can bring their files:
 * - the config file (INI: [general] run_name, [architecture_presets] ArrayHeight, ArrayWidth,
 *   IfmapSramSzkB, FilterSramSzkB, OfmapSramSzkB, Dataflow, Bandwidth, [run_presets]
 *   InterfaceBandwidth CALC|USER);
 * - topology CSVs, convolution rows (name, IFMAP h, w, filter h, w, channels, filters,
 *   stride[, stride w]) or GEMM rows (name, M, N, K), each row ending with a comma;
 * - COMPUTE_REPORT.csv columns for the per-layer results.
 * SCALE-Sim configs have no clock, host or power: delays assume 1 GHz and energy is zero, so
 * cycles are the numbers to compare.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { z } from 'zod';
import { ConfigError, InputError } from '../errors.js';
import { readFailure } from '../util/files.js';
import { parseWith } from '../util/zod.js';
import { DATAFLOWS, mappedGemm, type Gemm, type Mapping } from './dataflow/index.js';
import type { Hardware } from './hardware.js';
import type { SimResult } from './simulate.js';
import type { GemmOp } from './workload.js';

function readText(path: string, ErrorKind: 'config' | 'input'): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const reason = readFailure(err);
    if (ErrorKind === 'config') throw new ConfigError(`${path}: ${reason}`, { cause: err });
    throw new InputError(path, reason, { cause: err });
  }
}

/** Python-configparser-like INI: `[section]`, `key = value` or `key: value`, keys case-insensitive, `#`/`;` comments. */
export function parseIni(text: string, source: string): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  let section: Record<string, string> | undefined;
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) return;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = out[header[1]!.trim().toLowerCase()] ??= {};
      return;
    }
    const sep = line.search(/[:=]/);
    if (sep < 0 || !section)
      throw new ConfigError(`${source}: line ${i + 1}: expected "[section]" or "key = value", got ${JSON.stringify(line)}`);
    section[line.slice(0, sep).trim().toLowerCase()] = line.slice(sep + 1).trim();
  });
  return out;
}

const int = z.coerce.number().int().positive();
const ScaleSimConfigSchema = z.object({
  general: z.object({ run_name: z.string().default('scalesim') }).default({ run_name: 'scalesim' }),
  architecture_presets: z.object({
    arrayheight: int,
    arraywidth: int,
    ifmapsramszkb: z.coerce.number().positive(),
    filtersramszkb: z.coerce.number().positive(),
    ofmapsramszkb: z.coerce.number().positive(),
    dataflow: z.preprocess((v) => (typeof v === 'string' ? v.toLowerCase() : v), z.enum(['os', 'ws', 'is'])),
    bandwidth: z.coerce.number().positive().optional(),
  }),
  run_presets: z
    .object({
      interfacebandwidth: z.preprocess((v) => (typeof v === 'string' ? v.toUpperCase() : v), z.enum(['CALC', 'USER'])).default('CALC'),
    })
    .default({ interfacebandwidth: 'CALC' }),
});

/** SCALE-Sim's clock-less cycles become milliseconds at this clock. */
export const SCALESIM_CLOCK_MHZ = 1000;

export function readScaleSimConfig(path: string): Hardware {
  const cfg = parseWith(ScaleSimConfigSchema, parseIni(readText(path, 'config'), path), path);
  const a = cfg.architecture_presets;
  let dram: Hardware['dram_bandwidth_gbps'] = 'ideal';
  if (cfg.run_presets.interfacebandwidth === 'USER') {
    if (a.bandwidth === undefined)
      throw new ConfigError(`${path}: architecture_presets.bandwidth: required when InterfaceBandwidth is USER`);
    // words (1 byte) per cycle at SCALESIM_CLOCK_MHZ
    dram = (a.bandwidth * SCALESIM_CLOCK_MHZ * 1e6) / 1e9;
  }
  return {
    name: cfg.general.run_name,
    array: { rows: a.arrayheight, cols: a.arraywidth },
    dataflow: a.dataflow,
    clock_mhz: SCALESIM_CLOCK_MHZ,
    sram_kb: { global: 0, input: a.ifmapsramszkb, weight: a.filtersramszkb, output: a.ofmapsramszkb },
    word_bytes: 1,
    dram_bandwidth_gbps: dram,
    memory: 'scalesim',
    host: { softmax_ns: 0, gelu_ns: 0, layernorm_ns: 0, add_ns: 0, entropy_ns: 0 },
    power_w: { ps: 0, pe_array: 0, sram: 0, periphery: 0 },
    idle_fraction: { ps: 1, pe_array: 1, sram: 1, periphery: 1 },
  };
}

/** Reads a SCALE-Sim topology CSV (convolution or GEMM rows, told apart by the header) into GEMMs. */
export function readTopology(path: string): GemmOp[] {
  const lines = readText(path, 'input').split(/\r?\n/);
  const cells = (line: string) =>
    line
      .split(',')
      .map((c) => c.trim())
      .filter((c, i, all) => c !== '' || i < all.length - 1);
  const header = cells(lines[0] ?? '').map((c) => c.toLowerCase());
  const gemm = header[1] === 'm' && header[2] === 'n' && header[3] === 'k';
  const ops: GemmOp[] = [];
  lines.slice(1).forEach((line, i) => {
    if (!line.trim()) return;
    const row = cells(line);
    const where = `line ${i + 2}`;
    const name = row[0] ?? '';
    const nums = row.slice(1).map(Number);
    const need = gemm ? 3 : 7;
    if (!name || nums.length < need || nums.slice(0, need).some((v) => !Number.isInteger(v) || v <= 0))
      throw new InputError(
        path,
        `${where}: expected "${gemm ? 'name, M, N, K' : 'name, ifmap h, ifmap w, filter h, filter w, channels, filters, stride'}" with positive integers, got ${JSON.stringify(line.trim())}`,
      );
    if (gemm) {
      const [m, n, k] = nums as [number, number, number];
      ops.push({ unit: 'pl', name, kind: 'stem', module: 'other', gemm: { m, k, n }, repeat: 1 });
      return;
    }
    const [ih, iw, fh, fw, ch, nf, sh] = nums as [number, number, number, number, number, number, number];
    const sw = nums[7] ?? sh;
    if (fh > ih || fw > iw) throw new InputError(path, `${where}: filter ${fh}x${fw} is larger than the IFMAP ${ih}x${iw}`);
    const oh = Math.ceil((ih - fh + sh) / sh);
    const ow = Math.ceil((iw - fw + sw) / sw);
    const gemmOf = (channels: number) => ({ m: oh * ow, k: fh * fw * channels, n: nf });
    // SCALE-Sim splits a depthwise ("DP") layer into one single-channel layer per channel.
    if (name.includes('DP'))
      for (let c = 0; c < ch; c++)
        ops.push({ unit: 'pl', name: `${name}Channel_${c}`, kind: 'stem', module: 'other', gemm: gemmOf(1), repeat: 1 });
    else ops.push({ unit: 'pl', name, kind: 'stem', module: 'other', gemm: gemmOf(ch), repeat: 1 });
  });
  if (!ops.length) throw new InputError(path, 'no layers after the header line');
  return ops;
}

export const topologyName = (path: string): string => basename(path).replace(/\.[^.]*$/, '');

export const COMPUTE_REPORT_HEADER = 'LayerID, Total Cycles, Stall Cycles, Overall Util %, Mapping Efficiency %, Compute Util %,';

/**
 * The cycle SCALE-Sim v2 prints as "Total Cycles": the zero-based index of the last output
 * cycle, one less than the number of cycles (its golden alexnet WS run prints 112283 for
 * 36 folds x 3119 cycles; see also scalesim-project/SCALE-Sim#125).
 */
export const scaleSimReportedCycles = (cycles: number): number => Math.max(0, cycles - 1);

/** Python's repr of a float, so report rows diff cleanly against SCALE-Sim's. */
export function pyFloat(x: number): string {
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : x < 0 ? '-inf' : 'nan';
  if (x !== 0 && (Math.abs(x) < 1e-4 || Math.abs(x) >= 1e16)) {
    const [mant, exp] = x.toExponential().split('e') as [string, string];
    const sign = exp.startsWith('-') ? '-' : '+';
    return `${mant}e${sign}${exp.replace(/^[-+]/, '').padStart(2, '0')}`;
  }
  return Number.isInteger(x) ? x.toFixed(1) : String(x);
}

export interface ScaleSimLayerReport {
  name: string;
  totalCycles: number;
  stallCycles: number;
  overallUtil: number;
  mappingEfficiency: number;
  computeUtil: number;
}

/**
 * SCALE-Sim's per-fold means of mapping efficiency and compute utilization, summed fold by fold
 * in its loop order (column folds outer) so the printed digits match; the closed forms in
 * dataflow/ agree to ~1e-14 and are what the simulator itself uses.
 */
function foldMeans(gemm: Gemm, layout: Mapping, hw: Hardware): { mapping: number; compute: number } {
  const df = DATAFLOWS[layout.dataflow];
  const map = df.map(mappedGemm(gemm, layout));
  const { rows, cols } = hw.array;
  const pes = rows * cols;
  const window = df.utilizationCycles(df.foldCycles(map, hw.array), hw.array);
  const rowFolds = Math.ceil(map.sr / rows);
  const colFolds = Math.ceil(map.sc / cols);
  let mapping = 0;
  let compute = 0;
  for (let fc = 0; fc < colFolds; fc++)
    for (let fr = 0; fr < rowFolds; fr++) {
      const used = Math.min(rows, map.sr - fr * rows) * Math.min(cols, map.sc - fc * cols);
      mapping += used / pes;
      compute += (used * map.t) / (pes * window);
    }
  return { mapping: mapping / (rowFolds * colFolds), compute: compute / (rowFolds * colFolds) };
}

/** Per-layer COMPUTE_REPORT values (percentages) in SCALE-Sim v2's conventions. */
export function scaleSimLayers(result: SimResult, hw: Hardware): ScaleSimLayerReport[] {
  const pes = hw.array.rows * hw.array.cols;
  return result.layers.flatMap((l) => {
    if (!l.compute || !l.gemm || !l.mapping) return [];
    const totalCycles = scaleSimReportedCycles(l.totalCycles);
    const means = foldMeans(l.gemm, l.mapping, hw);
    return [
      {
        name: l.name,
        totalCycles,
        stallCycles: l.stallCycles,
        overallUtil: (l.compute.macs * l.gemm.repeat * 100) / (pes * totalCycles),
        mappingEfficiency: means.mapping * 100,
        computeUtil: means.compute * 100,
      },
    ];
  });
}

/** SCALE-Sim's COMPUTE_REPORT.csv for the PL layers of a result. */
export function computeReport(result: SimResult, hw: Hardware): string {
  const rows = scaleSimLayers(result, hw).map(
    (r, id) =>
      `${id}, ${r.totalCycles}, ${r.stallCycles}, ${pyFloat(r.overallUtil)}, ${pyFloat(r.mappingEfficiency)}, ${pyFloat(r.computeUtil)},`,
  );
  return [COMPUTE_REPORT_HEADER, ...rows].join('\n') + '\n';
}
