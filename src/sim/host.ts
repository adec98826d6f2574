/** Host-CPU (ZynQ PS) time of the non-linear and element-wise operations: elements x cost. */
import type { HostCosts } from './hardware.js';
import type { HostKind } from './workload.js';

const COST_FIELD: Record<HostKind, keyof HostCosts> = {
  softmax: 'softmax_ns',
  gelu: 'gelu_ns',
  layernorm: 'layernorm_ns',
  add: 'add_ns',
  entropy: 'entropy_ns',
};

export function hostOpNs(kind: HostKind, elements: number, costs: HostCosts): number {
  return elements * costs[COST_FIELD[kind]];
}
