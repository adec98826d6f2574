/**
 * Accuracy and cost of a cascade on a labelled dataset, in the paper's terms (Fig. 2a):
 * F_L (fraction answered by the low effort), C_L/C_H (correct) and I_L/I_H (incorrect)
 * counts per effort, plus throughput and per-stage latency.
 */
import { performance } from 'node:perf_hooks';
import { mean, quantile } from 'simple-statistics';
import type { LabelledDataset } from '../data/index.js';
import type { BatchReport, Cascade, Failure, StageLatency } from './runner.js';

export interface LatencyStats {
  /**
   * Stage calls measured: one per batch for preprocessing and the first effort; the high effort
   * runs on the escalated inputs of consecutive batches together (escalations.ts), so it makes fewer.
   */
  calls: number;
  mean: number;
  p95: number;
}

export interface EvalSummary {
  policy: string;
  low: number;
  high: number;
  threshold: number;
  data: string;
  /** Inputs classified (failed inputs excluded). */
  count: number;
  failed: number;
  accuracy: number;
  fraction_low: number;
  correct_low: number;
  correct_high: number;
  incorrect_low: number;
  incorrect_high: number;
  /** Images per second over the whole run, preprocessing included. */
  throughput: number;
  elapsed_s: number;
  batch_size: number;
  /** Wall time per stage call (a whole batch) in ms. */
  latency_ms: Partial<Record<keyof StageLatency, LatencyStats>>;
}

export interface EvaluateOptions {
  batchSize?: number;
  /** Called after each batch with the number of inputs done so far. */
  onProgress?: (done: number) => void;
  /** Called for each input that could not be classified. */
  onFailure?: (failure: Failure) => void;
}

function latencyStats(samples: number[]): LatencyStats | undefined {
  if (!samples.length) return undefined;
  return { calls: samples.length, mean: mean(samples), p95: quantile(samples, 0.95) };
}

export async function evaluate(cascade: Cascade, dataset: LabelledDataset, options: EvaluateOptions = {}): Promise<EvalSummary> {
  const truth: number[] = [];
  const inputs = (function* () {
    for (const item of dataset.items()) {
      truth.push(item.label);
      yield item;
    }
  })();
  const tally = { correct_low: 0, correct_high: 0, incorrect_low: 0, incorrect_high: 0, failed: 0 };
  const stages: Record<keyof StageLatency, number[]> = { preprocess: [], low: [], high: [] };
  let done = 0;
  const onBatch = (report: BatchReport) => {
    const { preprocess, low } = report.latencyMs;
    stages.preprocess.push(preprocess);
    if (low !== undefined) stages.low.push(low);
    // One sample per high-effort call: a cascade batch can see two (its queue filled, then the final flush).
    stages.high.push(...(report.highCallsMs ?? []));
    done += report.count;
    options.onProgress?.(done);
  };
  const { high } = cascade.config;
  const started = performance.now();
  for await (const batch of cascade.classifyBatches(inputs, { batchSize: options.batchSize, onBatch }))
    for (const r of batch) {
      if (!r.ok) {
        tally.failed++;
        options.onFailure?.(r);
        continue;
      }
      const correct = r.classIndex === truth[r.index];
      const byHigh = r.escalated || cascade.policy === 'high';
      tally[`${correct ? 'correct' : 'incorrect'}_${byHigh ? 'high' : 'low'}`]++;
    }
  const elapsed = (performance.now() - started) / 1000;
  const count = done - tally.failed;
  const latency_ms: EvalSummary['latency_ms'] = {};
  for (const key of Object.keys(stages) as (keyof StageLatency)[]) {
    const stats = latencyStats(stages[key]);
    if (stats) latency_ms[key] = stats;
  }
  return {
    policy: cascade.policy,
    low: cascade.config.low,
    high,
    threshold: cascade.config.threshold,
    data: dataset.description,
    count,
    failed: tally.failed,
    accuracy: count ? (tally.correct_low + tally.correct_high) / count : NaN,
    fraction_low: count ? (tally.correct_low + tally.incorrect_low) / count : NaN,
    correct_low: tally.correct_low,
    correct_high: tally.correct_high,
    incorrect_low: tally.incorrect_low,
    incorrect_high: tally.incorrect_high,
    throughput: done / elapsed,
    elapsed_s: elapsed,
    batch_size: Math.min(options.batchSize ?? cascade.batchSize, cascade.batchSize),
    latency_ms,
  };
}
