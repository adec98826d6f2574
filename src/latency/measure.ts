/**
 * Device latency of a model family's efforts with onnxruntime-node: resident sessions, a
 * warm-up per effort, then interleaved rounds (every effort once per round, in a rotated order)
 * so that background load on a shared machine falls on all efforts alike.
 *
 * "Effort latency" everywhere (`pivot bench`, `pivot search --cost device`, the benchmarks) is
 * one statistic: the median over the timed calls of ms per image (call time / batch).
 */
import { median, quantileSorted } from 'simple-statistics';
import { ConfigError } from '../errors.js';
import type { ModelRuntime } from '../model/index.js';

export interface MeasureOptions {
  /** Images per onnxruntime call. */
  batch: number;
  /** Interleaved rounds over all efforts. */
  rounds: number;
  /** Timed calls per effort per round. */
  iterations: number;
  /** Untimed calls per effort before the first round (default 10). */
  warmup?: number;
}

export interface EffortTiming {
  effort: number;
  batch: number;
  /** Timed calls (rounds x iterations). */
  calls: number;
  /** The effort latency: median over the timed calls, in ms per image (call time / batch). */
  medianMs: number;
  /** 95th percentile over the timed calls, in ms per image. */
  p95Ms: number;
}

/** `value` must be an integer >= min; names the option in the error. */
export function checkCount(name: string, value: number, min = 1): number {
  if (!Number.isInteger(value) || value < min)
    throw new ConfigError(`${name}: must be an integer >= ${min}, got ${value}`);
  return value;
}

export async function measureEfforts(runtime: ModelRuntime, efforts: readonly number[], options: MeasureOptions): Promise<EffortTiming[]> {
  const batch = checkCount('--batch', options.batch);
  const rounds = checkCount('--rounds', options.rounds);
  const iterations = checkCount('--iterations', options.iterations);
  const warmup = checkCount('warmup', options.warmup ?? 10, 0);
  const sessions = await Promise.all(efforts.map((e) => runtime.session(e)));
  // One fixed, non-constant input shared by all efforts (the same work for each).
  const input = new Float32Array(batch * (sessions[0]?.sampleSize ?? 0)).map((_, i) => Math.sin(i));
  for (const session of sessions) for (let i = 0; i < warmup; i++) await session.run(input, batch);

  const perCall = sessions.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++)
    for (let k = 0; k < sessions.length; k++) {
      // Rotating the order keeps any effort from always running right after the same neighbour.
      const s = (k + r) % sessions.length;
      const session = sessions[s]!;
      for (let i = 0; i < iterations; i++) {
        const start = process.hrtime.bigint();
        await session.run(input, batch);
        const ms = Number(process.hrtime.bigint() - start) / 1e6 / batch;
        perCall[s]!.push(ms);
      }
    }
  return efforts.map((effort, s) => {
    const sorted = [...perCall[s]!].sort((a, b) => a - b);
    return {
      effort,
      batch,
      calls: sorted.length,
      medianMs: median(sorted),
      p95Ms: quantileSorted(sorted, 0.95),
    };
  });
}
