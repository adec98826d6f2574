/** What a simulation returns (shared by the accelerator and CPU simulators, the reports and pairs). */
import type { Gemm, GemmCompute, Mapping } from './dataflow/index.js';
import type { EnergyResult } from './energy.js';
import type { GemmTraffic } from './memory.js';
import type { Module, Op } from './workload.js';

export interface LayerResult {
  name: string;
  kind: Op['kind'];
  module: Module;
  unit: Op['unit'];
  encoder?: number;
  gemm?: Gemm & { repeat: number };
  /** How the GEMM was laid on the array (its dataflow, and whether it ran transposed). */
  mapping?: Mapping;
  compute?: GemmCompute;
  traffic?: GemmTraffic;
  /** PL cycles over all repeats (0 for host operations). */
  computeCycles: number;
  stallCycles: number;
  totalCycles: number;
  hostElements?: number;
  timeMs: number;
}

export type ModuleRecord = Record<Module, number>;

export interface SimResult {
  model: string;
  hardware: string;
  /** The hardware's dataflow, with the convolutions' when it differs ("is, conv best"). */
  dataflow: string;
  clockMhz: number;
  active: number[];
  effort: number;
  delayMs: number;
  energyJ: number;
  /** J x ms, as in Table 2. */
  edp: number;
  fpsPerW: number;
  /** Average power over the inference. */
  powerW: number;
  plMs: number;
  hostMs: number;
  computeCycles: number;
  stallCycles: number;
  macs: number;
  breakdownMs: ModuleRecord;
  /** Fractions of the delay (Fig. 6a). */
  breakdown: ModuleRecord;
  energy: EnergyResult;
  utilization: { overall: number; mappingEfficiency: number; computeUtilization: number };
  layers: LayerResult[];
}

export interface RunMeta {
  model: string;
  active: number[];
}
