/**
 * The one-time fit of the host costs the paper does not give, on DeiT-S alone (docs/sim.md).
 * Targets: Table 2's delay and Fig. 6a's shares (attention MAC 18%, softmax 60%, MLP the
 * remaining 22%, nothing else). Each module's time is linear in the per-element costs, so
 * this is a small non-negative least-squares problem on the residuals in milliseconds
 * (Lawson-Hanson, src/sim/nnls.ts).
 */
import type { Hardware, HostCosts } from './hardware.js';
import { nnls } from './nnls.js';
import { simulateVit } from './simulate.js';
import { buildWorkload, MODULES, type HostKind, type Module, type VitSpec } from './workload.js';

export interface CalibrationTarget {
  delayMs: number;
  shares: Record<Module, number>;
}

/** Table 2 (DeiT-S delay) and Fig. 6a (DeiT-S delay shares). */
export const DEIT_S_TARGET: CalibrationTarget = {
  delayMs: 59.66,
  shares: { attention_mac: 0.18, softmax: 0.6, mlp: 0.22, other: 0 },
};

/** Host costs the fit decides; entropy is the paper's measured 0.03 ms and stays fixed. */
export const FITTED_COSTS = ['softmax_ns', 'gelu_ns', 'layernorm_ns', 'add_ns'] as const;
type FittedCost = (typeof FITTED_COSTS)[number];
const KIND_OF: Record<FittedCost, HostKind> = { softmax_ns: 'softmax', gelu_ns: 'gelu', layernorm_ns: 'layernorm', add_ns: 'add' };

export interface Calibration {
  costs: HostCosts;
  /** Residuals of the fitted model against the target, in ms (modules, then total delay). */
  residualsMs: Record<Module | 'delay', number>;
}

export function fitHostCosts(vit: VitSpec, hw: Hardware, target: CalibrationTarget = DEIT_S_TARGET): Calibration {
  const zeroed: HostCosts = { ...hw.host, softmax_ns: 0, gelu_ns: 0, layernorm_ns: 0, add_ns: 0 };
  const active = Array<number>(vit.depth).fill(1);
  const base = simulateVit(vit, { ...hw, host: zeroed }, active).breakdownMs;
  // elements[module][cost]: ns of cost -> ms in that module
  const ops = buildWorkload(vit, active);
  const column = (m: Module, c: FittedCost) =>
    ops.reduce((s, op) => s + (op.unit === 'host' && op.module === m && op.kind === KIND_OF[c] ? op.elements : 0), 0) / 1e6;
  const rows: number[][] = [];
  const rhs: number[] = [];
  for (const m of MODULES) {
    rows.push(FITTED_COSTS.map((c) => column(m, c)));
    rhs.push(target.shares[m] * target.delayMs - base[m]);
  }
  rows.push(FITTED_COSTS.map((c) => MODULES.reduce((s, m) => s + column(m, c), 0)));
  rhs.push(target.delayMs - MODULES.reduce((s, m) => s + base[m], 0));
  const { x } = nnls(rows, rhs);
  const costs: HostCosts = { ...hw.host };
  FITTED_COSTS.forEach((c, i) => (costs[c] = x[i]!));
  const fitted = simulateVit(vit, { ...hw, host: costs }, active);
  const residualsMs = { delay: fitted.delayMs - target.delayMs } as Calibration['residualsMs'];
  for (const m of MODULES) residualsMs[m] = fitted.breakdownMs[m] - target.shares[m] * target.delayMs;
  return { costs, residualsMs };
}
