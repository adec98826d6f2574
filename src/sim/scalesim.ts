/**
 * SCALE-Sim v2 inputs and outputs, so its users can bring their files:
 * - the config file (INI: [general] run_name, [architecture_presets] ArrayHeight, ArrayWidth,
 *   IfmapSramSzkB, FilterSramSzkB, OfmapSramSzkB, Dataflow, Bandwidth, [run_presets]
 *   InterfaceBandwidth CALC|USER);
 * - topology CSVs, convolution rows (name, IFMAP h, w, filter h, w, channels, filters,
 *   stride[, stride w]) or GEMM rows (name, M, N, K), each row ending with a comma;
 * - COMPUTE_REPORT.csv columns for the per-layer results.
 * SCALE-Sim has no clock: delays use 1 GHz unless a clock is given, so cycles are the numbers to compare.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { z } from 'zod';
import { ConfigError, InputError } from '../errors.js';
import { parseWith } from '../util/zod.js';
import type { Hardware } from './hardware.js';
import type { SimResult } from './simulate.js';
import type { GemmOp } from './workload.js';

function readText(path: string, ErrorKind: 'config' | 'input'): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
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
    if (sep < 0 || !section) throw new ConfigError(`${source}: line ${i + 1}: expected "[section]" or "key = value", got ${JSON.stringify(line)}`);
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
    .object({ interfacebandwidth: z.preprocess((v) => (typeof v === 'string' ? v.toUpperCase() : v), z.enum(['CALC', 'USER'])).default('CALC') })
    .default({ interfacebandwidth: 'CALC' }),
});

/** SCALE-Sim's clock-less cycles become milliseconds at this clock. */
export const SCALESIM_CLOCK_MHZ = 1000;

export function readScaleSimConfig(path: string): Hardware {
  const cfg = parseWith(ScaleSimConfigSchema, parseIni(readText(path, 'config'), path), path);
  const a = cfg.architecture_presets;
  let dram: Hardware['dram_bandwidth_gbps'] = 'ideal';
  if (cfg.run_presets.interfacebandwidth === 'USER') {
    if (a.bandwidth === undefined) throw new ConfigError(`${path}: architecture_presets.bandwidth: required when InterfaceBandwidth is USER`);
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
    host: { softmax_ns: 0, gelu_ns: 0, layernorm_ns: 0, add_ns: 0, entropy_ns: 0 },
    power_w: { ps: 0, pe_array: 0, sram: 0, periphery: 0 },
    idle_fraction: { ps: 1, pe_array: 1, sram: 1, periphery: 1 },
  };
}

/** Reads a SCALE-Sim topology CSV (convolution or GEMM rows, told apart by the header) into GEMMs. */
export function readTopology(path: string): GemmOp[] {
  const lines = readText(path, 'input').split(/\r?\n/);
  const cells = (line: string) => line.split(',').map((c) => c.trim()).filter((c, i, all) => c !== '' || i < all.length - 1);
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
      throw new InputError(path, `${where}: expected "${gemm ? 'name, M, N, K' : 'name, ifmap h, ifmap w, filter h, filter w, channels, filters, stride'}" with positive integers, got ${JSON.stringify(line.trim())}`);
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
      for (let c = 0; c < ch; c++) ops.push({ unit: 'pl', name: `${name}Channel_${c}`, kind: 'stem', module: 'other', gemm: gemmOf(1), repeat: 1 });
    else ops.push({ unit: 'pl', name, kind: 'stem', module: 'other', gemm: gemmOf(ch), repeat: 1 });
  });
  if (!ops.length) throw new InputError(path, 'no layers after the header line');
  return ops;
}

export const topologyName = (path: string): string => basename(path).replace(/\.[^.]*$/, '');

export const COMPUTE_REPORT_HEADER = 'LayerID, Total Cycles, Stall Cycles, Overall Util %, Mapping Efficiency %, Compute Util %,';

/** SCALE-Sim's COMPUTE_REPORT.csv rows for the PL layers of a result. */
export function computeReport(result: SimResult, hw: Hardware): string {
  const pes = hw.array.rows * hw.array.cols;
  const rows = result.layers
    .filter((l) => l.unit === 'pl' && l.compute && l.gemm)
    .map((l, id) => {
      const c = l.compute!;
      const overall = (c.macs * l.gemm!.repeat * 100) / (pes * l.totalCycles);
      return `${id}, ${l.totalCycles}, ${l.stallCycles}, ${overall}, ${c.mappingEfficiency * 100}, ${c.computeUtilization * 100},`;
    });
  return [COMPUTE_REPORT_HEADER, ...rows].join('\n') + '\n';
}
