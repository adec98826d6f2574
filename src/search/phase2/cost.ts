/**
 * Per-effort delays for Phase 2: D_L (the effort as a low effort, Eq. 3 entropy included)
 * and D_H (as a high effort), either from PIVOT-Sim on a hardware description or measured
 * on this device with onnxruntime.
 */
import { performance } from 'node:perf_hooks';
import { median } from 'simple-statistics';
import { ConfigError } from '../../errors.js';
import type { ModelRuntime } from '../../model/index.js';
import { loadHardware, resolveVit, simulateEfforts } from '../../sim/index.js';
import { RUN_BATCH, type SearchBatch } from './batch.js';

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
 * onnxruntime delays on this machine: one RUN_BATCH-image call per effort per round, efforts
 * interleaved within each round so drift (thermal, other load) hits all of them alike; the
 * median round, per image. The entropy of 10-ish classes costs microseconds on a CPU, far
 * below this timer's noise, so D_L = D_H here.
 */
export async function deviceDelays(runtime: ModelRuntime, efforts: readonly number[], batch: SearchBatch, rounds: number): Promise<EffortDelays> {
  const sessions = await Promise.all(efforts.map((e) => runtime.session(e)));
  const n = Math.min(RUN_BATCH, batch.count);
  const input = batch.tensors.subarray(0, n * sessions[0]!.sampleSize);
  const samples = efforts.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++)
    for (const [i, session] of sessions.entries()) {
      const t = performance.now();
      await session.run(input, n);
      samples[i]!.push((performance.now() - t) / n);
    }
  const byEffort = new Map(efforts.map((e, i) => {
    const ms = median(samples[i]!);
    return [e, { asLow: ms, asHigh: ms }] as const;
  }));
  const threads = runtime.options.intraOpThreads;
  return { source: 'device', hardware: `this device (onnxruntime, ${threads ? `${threads} thread(s)` : 'default threads'}, batch ${n}, median of ${rounds} interleaved rounds)`, byEffort };
}
