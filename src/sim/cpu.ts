/**
 * PIVOT-Sim on a measured device (`kind: cpu`, device.ts): every operation of the simulator's
 * list costs its fitted per-MAC (and per operand byte) or per-element time plus a per-operation call overhead (an
 * attention's softmax also the branch's own call overhead), and
 * each runtime call a fixed cost; call costs are shared by the images of a batch. The delay is
 * the sum (operations run one after the other on the CPU), energy = power_w x delay.
 */
import { CPU_COSTS, type CpuCostName, type CpuDevice } from './device.js';
import type { LayerResult, RunMeta, SimResult } from './result.js';
import { MODULES, type Op } from './workload.js';

export type CpuFeatures = Record<CpuCostName, number>;

const ATTENTION_KINDS = new Set(['qk', 'smv']);

type Work = { cost: CpuCostName | 'entropy'; amount: number };

/**
 * The costs that scale op's work and how much of each it has, per image at `batch` images per
 * call: a GEMM's MACs and operand bytes (a linear layer's weight is read once per call; the
 * attention products' second operand is an activation, per image), an element-wise op's elements.
 */
function work(op: Op, batch: number): Work[] {
  if (op.unit === 'host') return [{ cost: op.kind, amount: op.elements }];
  const { m, k, n } = op.gemm;
  const attention = ATTENTION_KINDS.has(op.kind);
  const bytes = 4 * op.repeat * (m * k + m * n + (attention ? k * n : (k * n) / batch));
  return [
    { cost: attention ? 'attention_mac' : 'gemm_mac', amount: m * k * n * op.repeat },
    { cost: 'gemm_byte', amount: bytes },
  ];
}

/**
 * What each fitted cost multiplies, per image, for `batch` images per call (entropy is left
 * out: it is not fitted). Predicted ns per image = sum over costs of costs_ns x feature.
 */
export function cpuFeatures(ops: readonly Op[], batch: number): CpuFeatures {
  const f = Object.fromEntries(CPU_COSTS.map((c) => [c, 0])) as CpuFeatures;
  f.inference = 1 / batch;
  f.op_call = ops.filter((op) => op.kind !== 'entropy').length / batch;
  // One softmax per active attention.
  f.attention_call = ops.filter((op) => op.kind === 'softmax').length / batch;
  for (const op of ops) for (const { cost, amount } of work(op, batch)) if (cost !== 'entropy') f[cost] += amount;
  return f;
}

export function simulateCpu(ops: readonly Op[], dev: CpuDevice, meta: RunMeta): SimResult {
  const c = dev.costs_ns;
  const layers: LayerResult[] = [
    {
      name: 'runtime_call',
      kind: 'add',
      module: 'other',
      unit: 'host',
      computeCycles: 0,
      stallCycles: 0,
      totalCycles: 0,
      timeMs: c.inference / dev.batch / 1e6,
    },
  ];
  for (const op of ops) {
    // Call costs, shared by the batch: every listed operation's, and the attention branch's own (carried by its softmax).
    const call = op.kind === 'entropy' ? 0 : c.op_call + (op.kind === 'softmax' ? c.attention_call : 0);
    const ns = call / dev.batch + work(op, dev.batch).reduce((s, w) => s + c[w.cost] * w.amount, 0);
    layers.push({
      name: op.name,
      kind: op.kind,
      module: op.module,
      unit: op.unit,
      encoder: op.encoder,
      ...(op.unit === 'pl' ? { gemm: { ...op.gemm, repeat: op.repeat } } : { hostElements: op.elements }),
      computeCycles: 0,
      stallCycles: 0,
      totalCycles: 0,
      timeMs: ns / 1e6,
    });
  }
  const breakdownMs = { attention_mac: 0, softmax: 0, mlp: 0, other: 0 };
  for (const l of layers) breakdownMs[l.module] += l.timeMs;
  const delayMs = layers.reduce((s, l) => s + l.timeMs, 0);
  const breakdown = { ...breakdownMs };
  for (const m of MODULES) breakdown[m] = delayMs > 0 ? breakdownMs[m] / delayMs : 0;
  const energyJ = ((dev.power_w ?? 0) * delayMs) / 1000;
  const macs = ops.reduce((s, op) => s + (op.unit === 'pl' ? op.gemm.m * op.gemm.k * op.gemm.n * op.repeat : 0), 0);
  return {
    model: meta.model,
    hardware: dev.name,
    dataflow: 'cpu',
    clockMhz: 0,
    active: meta.active,
    effort: meta.active.reduce((a, b) => a + b, 0),
    delayMs,
    energyJ,
    edp: energyJ * delayMs,
    fpsPerW: energyJ > 0 ? 1 / energyJ : 0,
    powerW: dev.power_w ?? 0,
    plMs: 0,
    hostMs: delayMs,
    computeCycles: 0,
    stallCycles: 0,
    macs,
    breakdownMs,
    breakdown,
    energy: {
      byComponent: { ps: energyJ, pe_array: 0, sram: 0, periphery: 0 },
      totalJ: energyJ,
      busyMs: { ps: delayMs, pe_array: 0, sram: 0, periphery: 0 },
    },
    utilization: { overall: 0, mappingEfficiency: 0, computeUtilization: 0 },
    layers,
  };
}
