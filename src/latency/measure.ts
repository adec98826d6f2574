/**
 * Device latency of a model family's efforts with onnxruntime-node: resident sessions, a
 * warm-up per effort, then interleaved rounds (every effort once per round, in an order shuffled
 * every round) so that background load on a shared machine falls on all efforts alike.
 *
 * "Effort latency" everywhere (`pivot bench`, `pivot search --cost device`, the benchmarks) is
 * one statistic: the median over the timed calls of ms per image (call time / batch).
 *
 * A call's time is wall-clock time by default. With `clock: 'cpu'` it is the CPU time the
 * process spent in the call (user + system, process.cpuUsage): with one intra-op thread that
 * is the call's own compute, without the time it waited for a core while other jobs ran, so
 * on a shared machine it stays near the idle machine's wall-clock time (a DeiT-S effort at load
 * average 7 on 2 cores: wall 79-164 ms, CPU 40-68 ms, against 40-55 ms wall when idle).
 */
import { median, quantileSorted, shuffle } from 'simple-statistics';
import { ConfigError } from '../errors.js';
import type { ModelRuntime } from '../model/index.js';
import { seededRandom } from '../search/phase1/rng.js';

export interface MeasureOptions {
  /** Images per onnxruntime call. */
  batch: number;
  /** Interleaved rounds over all efforts. */
  rounds: number;
  /** Timed calls per effort per round. */
  iterations: number;
  /** Untimed calls per effort before the first round (default 10). */
  warmup?: number;
  /** What a call's time is: wall-clock (default) or the process's CPU time (see above; one intra-op thread only). */
  clock?: Clock;
  /**
   * Minimum timed time per case per round, in ms (default 0: off); needs a warm-up. A case whose
   * calls are shorter gets more timed calls per turn (turnCalls), so `iterations` is then a minimum.
   */
  minTurnMs?: number;
  /** Called after each case's warm-up and each case's turn in a round: turns done of the run's total. */
  onProgress?: (done: number, total: number) => void;
}

export const CLOCKS = ['wall', 'cpu'] as const;
export type Clock = (typeof CLOCKS)[number];

/** Starts a timer on `clock`; the returned function gives the ms elapsed on it. */
function startTimer(clock: Clock): () => number {
  if (clock === 'cpu') {
    const start = process.cpuUsage();
    return () => {
      const used = process.cpuUsage(start);
      return (used.user + used.system) / 1000;
    };
  }
  const start = process.hrtime.bigint();
  return () => Number(process.hrtime.bigint() - start) / 1e6;
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
  /** Median per round, in ms per image (round r of every case ran in the same stretch of time: see drift.ts). */
  roundMs: number[];
}

/** `value` must be an integer >= min; names the option in the error. */
export function checkCount(name: string, value: number, min = 1): number {
  if (!Number.isInteger(value) || value < min) throw new ConfigError(`${name}: must be an integer >= ${min}, got ${value}`);
  return value;
}

export async function measureEfforts(runtime: ModelRuntime, efforts: readonly number[], options: MeasureOptions): Promise<EffortTiming[]> {
  const batch = checkCount('--batch', options.batch);
  return measureCases(
    runtime,
    efforts.map((effort) => ({ effort, batch })),
    options,
  );
}

export interface TimingCase {
  effort: number;
  batch: number;
  /** The family the effort belongs to, when not the runtime passed to measureCases (several families timed in one run). */
  runtime?: ModelRuntime;
  /** Times as many calls per round (a small family timed beside a large one gets about as much time per case). */
  repeat?: number;
}

export interface TurnCalls {
  /** Untimed calls at the start of the case's turn. */
  lead: number;
  /** Timed calls after them. */
  timed: number;
}

/**
 * The calls in one case's turn of a round, from its shortest warm-up call (`callMs`): at least
 * `counted` timed calls (the iterations rule), and as many as fill `minTurnMs`; before them,
 * untimed calls filling a tenth of it. Right after another case ran (a DeiT-S call streams 88 MB
 * of weights), a short model's first calls find its weights and buffers out of cache: the first
 * call after a DeiT-S call took about 3x a warm call, the next three 1.2-1.8x. Calls longer than the
 * lead-in get none (their refill is a small share of them). Without an estimate or a minimum,
 * `counted` timed calls alone.
 */
export function turnCalls(callMs: number | undefined, counted: number, minTurnMs: number): TurnCalls {
  if (callMs === undefined || !(minTurnMs > 0)) return { lead: 0, timed: counted };
  // A floor on the estimate bounds the calls when a clock reads (almost) nothing for a tiny call.
  const call = Math.max(callMs, 0.01);
  return { lead: Math.floor(minTurnMs / 10 / call), timed: Math.max(counted, Math.ceil(minTurnMs / call)) };
}

const ORDER_SEED = 1;

/**
 * The order of the cases in each round, given each case's family (`groups`). A family's cases
 * run together, so a short model's calls follow its own: right after a DeiT-S call a short
 * model's first call takes about 3x a warm one (turnCalls), and with every case shuffled among
 * the DeiTs' the shipped model's efforts timed up to 1.6x slower and 15-40% apart from their
 * extra masks. The families' order and each family's own order are shuffled afresh every round,
 * so the cold first turn falls on a different case each round and no case always follows the
 * same neighbour. Seeded, so every run times in the same orders.
 */
export function roundOrders(groups: readonly unknown[], rounds: number): number[][] {
  const random = seededRandom(ORDER_SEED);
  const families = new Map<unknown, number[]>();
  groups.forEach((g, k) => families.set(g, [...(families.get(g) ?? []), k]));
  const blocks = [...families.values()];
  return Array.from({ length: rounds }, () => shuffle(blocks, random).flatMap((cases) => shuffle(cases, random)));
}

/**
 * Times every (effort, batch) case in interleaved rounds: each round runs every case for
 * `iterations` calls (scaled by the case's batch so each case times about as many images as
 * a batch of `options.batch` would; more with `minTurnMs`: turnCalls), each family's cases
 * together, in an order shuffled every round (roundOrders).
 */
export async function measureCases(runtime: ModelRuntime, cases: readonly TimingCase[], options: MeasureOptions): Promise<EffortTiming[]> {
  const base = checkCount('--batch', options.batch);
  const rounds = checkCount('--rounds', options.rounds);
  const iterations = checkCount('--iterations', options.iterations);
  const warmup = checkCount('warmup', options.warmup ?? 10, 0);
  const clock = options.clock ?? 'wall';
  if (!CLOCKS.includes(clock)) throw new ConfigError(`--clock: expected ${CLOCKS.join(' or ')}, got ${JSON.stringify(clock)}`);
  const minTurnMs = options.minTurnMs ?? 0;
  for (const c of cases) checkCount('--batch', c.batch);
  const sessions = await Promise.all(cases.map((c) => (c.runtime ?? runtime).session(c.effort)));
  const counted = cases.map((c) => Math.max(1, Math.round((iterations * base) / c.batch)) * (c.repeat ?? 1));
  // One fixed, non-constant input per batch size, shared by all efforts (the same work for each).
  const inputs = cases.map((c, k) => new Float32Array(c.batch * (sessions[k]?.sampleSize ?? 0)).map((_, i) => Math.sin(i)));
  const shortest = sessions.map((): number | undefined => undefined);
  const total = (rounds + (warmup ? 1 : 0)) * cases.length;
  let done = 0;
  const progressed = () => options.onProgress?.(++done, total);
  for (const [k, session] of sessions.entries()) {
    for (let i = 0; i < warmup; i++) {
      const elapsed = startTimer(clock);
      await session.run(inputs[k]!, cases[k]!.batch);
      shortest[k] = Math.min(shortest[k] ?? Infinity, elapsed());
    }
    if (warmup) progressed();
  }
  const turns = cases.map((_, k) => turnCalls(shortest[k], counted[k]!, minTurnMs));

  const perCall = sessions.map(() => [] as number[]);
  const perRound = sessions.map(() => [] as number[]);
  const orders = roundOrders(
    cases.map((c) => c.runtime ?? runtime),
    rounds,
  );
  for (const order of orders)
    for (const s of order) {
      const { batch } = cases[s]!;
      const round: number[] = [];
      for (let i = 0; i < turns[s]!.lead; i++) await sessions[s]!.run(inputs[s]!, batch);
      for (let i = 0; i < turns[s]!.timed; i++) {
        const elapsed = startTimer(clock);
        await sessions[s]!.run(inputs[s]!, batch);
        round.push(elapsed() / batch);
      }
      perCall[s]!.push(...round);
      perRound[s]!.push(median(round));
      progressed();
    }
  return cases.map(({ effort, batch }, s) => {
    const sorted = [...perCall[s]!].sort((a, b) => a - b);
    return {
      effort,
      batch,
      calls: sorted.length,
      medianMs: median(sorted),
      p95Ms: quantileSorted(sorted, 0.95),
      roundMs: perRound[s]!,
    };
  });
}
