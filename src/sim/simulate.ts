/**
 * One ViT effort on one accelerator: every operation in order, PL GEMMs and host operations
 * back to back (each needs the previous one's output), so the delay is their sum.
 */
import { chooseMapping, computeGemm, DATAFLOWS, mappedGemm } from './dataflow/index.js';
import { busyTimes, energyOf } from './energy.js';
import { simulateCpu } from './cpu.js';
import { isCpuDevice, type Device, type Hardware } from './hardware.js';
import { hostOpNs } from './host.js';
import { gemmTraffic } from './memory.js';
import type { LayerResult, ModuleRecord, RunMeta, SimResult } from './result.js';
import { buildWorkload, MODULES, type Op, type VitSpec, type WorkloadOptions } from './workload.js';

export type { LayerResult, ModuleRecord, RunMeta, SimResult } from './result.js';

const zeroModules = (): ModuleRecord => ({ attention_mac: 0, softmax: 0, mlp: 0, other: 0 });

// Layer records are built field by field: object spread here cost ~10x the whole model.
function simulateOp(op: Op, hw: Hardware): LayerResult {
  if (op.unit === 'host') {
    const ns = hostOpNs(op.kind, op.elements, hw.host);
    return {
      name: op.name,
      kind: op.kind,
      module: op.module,
      unit: op.unit,
      encoder: op.encoder,
      computeCycles: 0,
      stallCycles: 0,
      totalCycles: 0,
      hostElements: op.elements,
      timeMs: ns / 1e6,
    };
  }
  const choice = op.kind === 'stem' && hw.conv_dataflow ? hw.conv_dataflow : hw.dataflow;
  const { mapping, result } = chooseMapping(
    choice,
    (m) => {
      const g = mappedGemm(op.gemm, m);
      const compute = computeGemm(m.dataflow, g, hw.array);
      return { compute, traffic: gemmTraffic(DATAFLOWS[m.dataflow], g, hw.array, hw, compute.computeCycles) };
    },
    (r) => r.compute.computeCycles + r.traffic.stallCycles,
  );
  const { compute, traffic } = result;
  const computeCycles = compute.computeCycles * op.repeat;
  const stallCycles = traffic.stallCycles * op.repeat;
  const totalCycles = computeCycles + stallCycles;
  return {
    name: op.name,
    kind: op.kind,
    module: op.module,
    unit: op.unit,
    encoder: op.encoder,
    gemm: { m: op.gemm.m, k: op.gemm.k, n: op.gemm.n, repeat: op.repeat },
    mapping,
    compute,
    traffic,
    computeCycles,
    stallCycles,
    totalCycles,
    timeMs: totalCycles / (hw.clock_mhz * 1e3),
  };
}

export const dataflowLabel = (hw: Hardware): string =>
  hw.conv_dataflow && hw.conv_dataflow !== hw.dataflow ? `${hw.dataflow}, conv ${hw.conv_dataflow}` : hw.dataflow;

/** Simulates an explicit operation list (SCALE-Sim topologies come through here too). */
export function simulateOps(ops: readonly Op[], hw: Device, meta: RunMeta): SimResult {
  if (isCpuDevice(hw)) return simulateCpu(ops, hw, meta);
  const layers = ops.map((op) => simulateOp(op, hw));
  const breakdownMs = zeroModules();
  let plMs = 0;
  let hostMs = 0;
  let computeCycles = 0;
  let stallCycles = 0;
  let macs = 0;
  let mappingWeighted = 0;
  let utilWeighted = 0;
  for (const l of layers) {
    breakdownMs[l.module] += l.timeMs;
    if (l.unit === 'host') hostMs += l.timeMs;
    else plMs += l.timeMs;
    computeCycles += l.computeCycles;
    stallCycles += l.stallCycles;
    if (l.compute && l.gemm) {
      macs += l.compute.macs * l.gemm.repeat;
      mappingWeighted += l.compute.mappingEfficiency * l.computeCycles;
      utilWeighted += l.compute.computeUtilization * l.computeCycles;
    }
  }
  const delayMs = plMs + hostMs;
  const cycleMs = 1 / (hw.clock_mhz * 1e3);
  const energy = energyOf(hw, busyTimes(hostMs, computeCycles * cycleMs, stallCycles * cycleMs, delayMs), delayMs);
  const breakdown = zeroModules();
  for (const m of MODULES) breakdown[m] = delayMs > 0 ? breakdownMs[m] / delayMs : 0;
  const pes = hw.array.rows * hw.array.cols;
  const plCycles = computeCycles + stallCycles;
  return {
    model: meta.model,
    hardware: hw.name,
    dataflow: dataflowLabel(hw),
    clockMhz: hw.clock_mhz,
    active: meta.active,
    effort: meta.active.reduce((a, b) => a + b, 0),
    delayMs,
    energyJ: energy.totalJ,
    edp: energy.totalJ * delayMs,
    fpsPerW: energy.totalJ > 0 ? 1 / energy.totalJ : 0,
    powerW: delayMs > 0 ? (energy.totalJ * 1000) / delayMs : 0,
    plMs,
    hostMs,
    computeCycles,
    stallCycles,
    macs,
    breakdownMs,
    breakdown,
    energy,
    utilization: {
      overall: plCycles > 0 ? macs / (pes * plCycles) : 0,
      mappingEfficiency: computeCycles > 0 ? mappingWeighted / computeCycles : 0,
      computeUtilization: computeCycles > 0 ? utilWeighted / computeCycles : 0,
    },
    layers,
  };
}

/** One effort (active-attention mask) of a ViT. */
export function simulateVit(vit: VitSpec, hw: Device, active: readonly number[], options: WorkloadOptions = {}): SimResult {
  return simulateOps(buildWorkload(vit, active, options), hw, { model: vit.name, active: [...active] });
}
