/** PIVOT-Sim: a closed-form systolic-array + host-CPU simulator of ViT efforts (docs/sim.md). */
export { computeGemm, DATAFLOWS } from './dataflow/index.js';
export type { ArrayDims, DataflowName, Gemm, GemmCompute } from './dataflow/index.js';
export { HardwareSchema, HARDWARE_PRESETS, loadHardware, parseHardware, totalPower, ZCU102 } from './hardware.js';
export type { Hardware, HostCosts } from './hardware.js';
export { gemmTraffic, dramBytesPerCycle } from './memory.js';
export type { GemmTraffic } from './memory.js';
export { VIT_PRESETS } from './presets.js';
export { buildWorkload, deepestSkippedMask, parseMask, MODULES } from './workload.js';
export type { Module, Op, VitSpec } from './workload.js';
export { simulateOps, simulateVit } from './simulate.js';
export type { LayerResult, SimResult } from './simulate.js';
export { combinePair, pairCombine } from './pair.js';
export type { PairResult } from './pair.js';
export { DEIT_S_TARGET, fitHostCosts } from './calibrate.js';
export { resolveMask, resolveVit } from './vit-source.js';
export { computeReport, readScaleSimConfig, readTopology } from './scalesim.js';
export { breakdownSvg, layersCsv, pairJson, pairTable, resultJson, resultTable, summaryCsv } from './report.js';
