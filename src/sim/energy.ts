/**
 * Energy = sum over components of power x busy time, plus idle power x idle time.
 * Busy: the PS while host operations run; the PE array during compute cycles; the SRAMs
 * during compute and stall cycles (they keep serving and filling); the periphery
 * (interconnect, controllers, clocking) for the whole inference.
 */
import { COMPONENTS, type PowerComponent, type Hardware } from './hardware.js';

export type ComponentMs = Record<PowerComponent, number>;

export interface EnergyResult {
  /** Joules per component. */
  byComponent: Record<PowerComponent, number>;
  totalJ: number;
  busyMs: ComponentMs;
}

export function busyTimes(hostMs: number, computeMs: number, stallMs: number, delayMs: number): ComponentMs {
  return { ps: hostMs, pe_array: computeMs, sram: computeMs + stallMs, periphery: delayMs };
}

export function energyOf(hw: Hardware, busyMs: ComponentMs, delayMs: number): EnergyResult {
  const byComponent = {} as Record<PowerComponent, number>;
  let totalJ = 0;
  for (const c of COMPONENTS) {
    const busy = busyMs[c];
    const joules = (hw.power_w[c] * (busy + hw.idle_fraction[c] * (delayMs - busy))) / 1000;
    byComponent[c] = joules;
    totalJ += joules;
  }
  return { byComponent, totalJ, busyMs };
}
