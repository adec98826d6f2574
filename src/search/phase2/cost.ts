/**
 * Per-effort delays for Phase 2: D_L (the effort as a low effort, Eq. 3 entropy included)
 * and D_H (as a high effort), either from PIVOT-Sim on a hardware description or measured
 * on this device with onnxruntime.
 */
import { ConfigError } from '../../errors.js';
import { measureEfforts } from '../../latency/index.js';
import type { ModelRuntime } from '../../model/index.js';
import { loadHardware, resolveVit, simulateEfforts } from '../../sim/index.js';
import { RUN_BATCH } from './batch.js';

export const COST_SOURCES = ['sim', 'device'] as const;
export type CostSource = (typeof COST_SOURCES)[number];

/** Milliseconds per image of one effort in each role. */
export interface EffortDelay {
  asLow: number;
  asHigh: number;
}

export interface EffortDelays {
  source: CostSource;
  /** Hardware preset/file name (sim) or a description of the measurement (device). */
  hardware: string;
  byEffort: Map<number, EffortDelay>;
}

/** PIVOT-Sim delays of every manifest effort on `hardware` (a preset name or a hw.yaml). */
export function simDelays(modelDir: string, hardware: string, efforts: readonly number[]): EffortDelays {
  const hw = loadHardware(hardware);
  const costs = new Map(simulateEfforts(resolveVit(modelDir), hw).map((c) => [c.effort, c]));
  const byEffort = new Map<number, EffortDelay>();
  for (const e of efforts) {
    const c = costs.get(e);
    if (!c) throw new ConfigError(`PIVOT-Sim has no effort ${e} for ${modelDir}`);
    byEffort.set(e, { asLow: c.asLow.delayMs, asHigh: c.asHigh.delayMs });
  }
  return { source: 'sim', hardware: hw.name, byEffort };
}

/**
 * onnxruntime delays on this machine, the effort latency of src/latency (as `pivot bench`): batches of
 * RUN_BATCH, every effort once per round (interleaved, so drift and other load hit all of
 * them alike), median ms per image. The entropy of 10-ish classes costs microseconds on a
 * CPU, far below this timer's noise, so D_L = D_H here.
 */
export async function deviceDelays(runtime: ModelRuntime, efforts: readonly number[], rounds: number): Promise<EffortDelays> {
  const iterations = 3;
  const timings = await measureEfforts(runtime, efforts, { batch: RUN_BATCH, rounds, iterations, warmup: 3 });
  const byEffort = new Map(timings.map((t) => [t.effort, { asLow: t.medianMs, asHigh: t.medianMs }] as const));
  const threads = runtime.options.intraOpThreads;
  const how = `${threads ? `${threads} thread(s)` : 'default threads'}, batch ${RUN_BATCH}, median of ${rounds} x ${iterations} interleaved calls`;
  return { source: 'device', hardware: `this device (onnxruntime, ${how})`, byEffort };
}
