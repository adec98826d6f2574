/**
 * Accelerator + host description (hw.yaml) and the ZCU102 preset of the paper's Table 1.
 * The zod schema is the single source of truth: types, validation and defaults.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { readFailure } from '../util/files.js';
import { parseWith } from '../util/zod.js';
import { CpuDeviceSchema, type CpuDevice } from './device.js';

const positive = z.number().positive();
const nonNegative = z.number().nonnegative();
const fraction = z.number().min(0).max(1);

export const HostCostsSchema = z.strictObject({
  /** Host (CPU) time per element in nanoseconds. */
  softmax_ns: nonNegative,
  gelu_ns: nonNegative,
  layernorm_ns: nonNegative,
  /** Residual adds and mean pooling. */
  add_ns: nonNegative,
  /** Per class probability of Eq. 3 (0.03 ms / 1000 ImageNet classes on the ZynQ PS). */
  entropy_ns: nonNegative,
});

const Components = <T extends z.ZodType>(value: T) => z.strictObject({ ps: value, pe_array: value, sram: value, periphery: value });

/** Strict: a misspelt key in a hw.yaml is an error, not a silently kept preset value. */
export const HardwareSchema = z.strictObject({
  /** Optional; a measured device profile says `kind: cpu` (device.ts). */
  kind: z.literal('accelerator').optional(),
  name: z.string().min(1),
  array: z.strictObject({ rows: z.number().int().positive(), cols: z.number().int().positive() }),
  /** The GEMMs' dataflow, or `best`: per layer, the stationary operand and orientation with the fewest cycles. */
  dataflow: z.enum(['os', 'ws', 'is', 'best']),
  /** Convolution (im2col) layers' dataflow when it differs from `dataflow`. */
  conv_dataflow: z.enum(['os', 'ws', 'is', 'best']).optional(),
  clock_mhz: positive,
  /** KiB; the global buffer stages DRAM <-> operand SRAM transfers. */
  sram_kb: z.strictObject({ global: nonNegative, input: positive, weight: positive, output: positive }),
  /** Bytes per operand element (8-bit quantized ViTs: 1). */
  word_bytes: z.number().int().positive().default(1),
  /** Peak DRAM bandwidth in GB/s, or "ideal" for SCALE-Sim's stall-free compute cycles. */
  dram_bandwidth_gbps: z.union([positive, z.literal('ideal')]),
  /**
   * Stall model (memory.ts): `first_order` (one shared DRAM port, transfers overlap compute) or
   * `scalesim` (SCALE-Sim v2's read buffers: each operand its own port of this bandwidth, chunked
   * prefetch into half-SRAM buffers). SCALE-Sim configs use `scalesim`.
   */
  memory: z.enum(['first_order', 'scalesim']).default('first_order'),
  host: HostCostsSchema,
  /** Power of each component while busy, in watts. */
  power_w: Components(nonNegative),
  /** Power drawn while not busy, as a fraction of `power_w` (1 = not clock/power gated). */
  idle_fraction: Components(fraction),
});

export type Hardware = z.infer<typeof HardwareSchema>;
/** What the simulator runs on: a systolic-array accelerator + host (hw.yaml) or a measured device profile (`kind: cpu`). */
export type Device = Hardware | CpuDevice;
export const isCpuDevice = (d: Device): d is CpuDevice => d.kind === 'cpu';
export type HostCosts = z.infer<typeof HostCostsSchema>;
export type PowerComponent = keyof Hardware['power_w'];
export const COMPONENTS: readonly PowerComponent[] = ['ps', 'pe_array', 'sram', 'periphery'];

/**
 * Xilinx ZCU102, Table 1. Constants the paper does not give (docs/sim.md):
 * - host costs: softmax fitted once on DeiT-S (src/sim/calibrate.ts), GeLU/LayerNorm/add
 *   fitted there too and land on zero; entropy from the paper (0.03 ms per 1000-class image);
 * - DRAM: Zynq UltraScale+ PS DDR4 peak (64-bit x 2400 MT/s = 19.2 GB/s), not fitted; DeiT-S
 *   needs 14.2 GB/s to run stall-free, which Table 2 implies;
 * - power split: estimates for the Table 1 resources that sum to the paper's 7.92 W, not fitted;
 *   no clock gating in the FPGA design and a polling PS, so idle components draw full power.
 */
export const ZCU102: Hardware = {
  name: 'zcu102',
  array: { rows: 64, cols: 36 },
  dataflow: 'is',
  conv_dataflow: 'best',
  clock_mhz: 125,
  sram_kb: { global: 16, input: 8, weight: 8, output: 8 },
  word_bytes: 1,
  dram_bandwidth_gbps: 19.2,
  memory: 'first_order',
  host: { softmax_ns: 12.69, gelu_ns: 0, layernorm_ns: 0, add_ns: 0, entropy_ns: 30 },
  power_w: { ps: 3.2, pe_array: 2.3, sram: 0.62, periphery: 1.8 },
  idle_fraction: { ps: 1, pe_array: 1, sram: 1, periphery: 1 },
};

export const HARDWARE_PRESETS: Record<string, Hardware> = { zcu102: ZCU102 };

/** Total power with every component busy. */
export const totalPower = (hw: Hardware): number => COMPONENTS.reduce((sum, c) => sum + hw.power_w[c], 0);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function deepMerge(base: unknown, over: unknown): unknown {
  if (!isObject(base) || !isObject(over)) return over === undefined ? base : over;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) out[key] = deepMerge(base[key], value);
  return out;
}

/**
 * Validates a hardware object: a device profile when it says `kind: cpu`, else an accelerator,
 * where `extends: <preset>` starts from a preset so a file can override just a few fields
 * (say, the array size).
 */
export function parseHardware(value: unknown, source: string): Device {
  if (isObject(value) && value.kind === 'cpu') return parseWith(CpuDeviceSchema, value, source);
  return parseAccelerator(value, source);
}

export function parseAccelerator(value: unknown, source: string): Hardware {
  let merged = value;
  if (isObject(value) && 'extends' in value) {
    const { extends: baseName, ...rest } = value;
    const base = typeof baseName === 'string' ? HARDWARE_PRESETS[baseName] : undefined;
    if (!base)
      throw new ConfigError(
        `${source}: extends: unknown preset ${JSON.stringify(baseName)} (known: ${Object.keys(HARDWARE_PRESETS).join(', ')})`,
      );
    merged = deepMerge(base, rest);
  }
  return parseWith(HardwareSchema, merged, source);
}

/** A preset name, a hw.yaml / hw.json path, or a device profile (`kind: cpu`, from `pivot bench --fit`). */
export function loadHardware(spec: string): Device {
  const preset = HARDWARE_PRESETS[spec.toLowerCase()];
  if (preset) return preset;
  let text: string;
  try {
    text = readFileSync(spec, 'utf8');
  } catch (err) {
    throw new ConfigError(`${spec}: ${readFailure(err, 'no such file or preset')} (presets: ${Object.keys(HARDWARE_PRESETS).join(', ')})`, {
      cause: err,
    });
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new ConfigError(`${spec}: not valid YAML: ${(err as Error).message}`, { cause: err });
  }
  return parseHardware(raw, spec);
}
