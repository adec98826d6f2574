import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Cascade, evaluate, type BatchReport, type CascadeResult, type Classification } from '../../src/cascade/index.js';
import { loadDeploy } from '../../src/config/deploy.js';
import type { LabelledInput } from '../../src/data/index.js';
import { InputError } from '../../src/errors.js';
import { ModelRuntime } from '../../src/model/index.js';
import { makeBadInputs, type BadInputs } from '../fixtures/bad-inputs/make.js';
import { DEPLOY, REFERENCE_PNG, family, manifestSampleAccuracy, sampleDecoded, sampleFiles } from './helpers.js';

const ok = (results: CascadeResult[]): Classification[] =>
  results.map((r) => {
    assert.ok(r.ok, `${r.input} failed: ${r.ok ? '' : r.error.message}`);
    return r;
  });

describe('cascade runner', () => {
  const f = family();
  const { low, high, threshold } = loadDeploy(DEPLOY).config;
  const runtime = new ModelRuntime(f, { intraOpThreads: 1 });
  let sample: LabelledInput[];
  let onlyLow: Classification[];
  let onlyHigh: Classification[];
  let dir: string;
  let bad: BadInputs;

  const run = async (inputs: LabelledInput[], config: { threshold: number; policy?: 'cascade' | 'low' | 'high' }, batchSize = 64) =>
    (await Cascade.create(runtime, { low, high, ...config }, { batchSize })).classifyAll(inputs);

  before(async () => {
    sample = await sampleDecoded(f);
    onlyLow = ok(await run(sample, { threshold, policy: 'low' }));
    onlyHigh = ok(await run(sample, { threshold, policy: 'high' }));
    dir = mkdtempSync(join(tmpdir(), 'pivot-bad-inputs-'));
    bad = await makeBadInputs(dir, REFERENCE_PNG);
  });
  after(async () => {
    await runtime.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('single-effort policies answer with their effort and never escalate', () => {
    assert.ok(onlyLow.every((r) => r.effort === low && !r.escalated && r.latencyMs.low !== undefined && r.latencyMs.high === undefined));
    assert.ok(onlyHigh.every((r) => r.effort === high && !r.escalated && r.latencyMs.high !== undefined && r.latencyMs.low === undefined));
  });

  it('threshold 0 escalates everything: the answers are the high effort’s', async () => {
    const results = ok(await run(sample, { threshold: 0 }));
    results.forEach((r, i) => {
      assert.equal(r.escalated, true);
      assert.equal(r.effort, high);
      assert.equal(r.classIndex, onlyHigh[i]!.classIndex);
      assert.ok(r.latencyMs.low !== undefined && r.latencyMs.high !== undefined);
    });
  });

  it('threshold 1 escalates nothing: the answers are the low effort’s', async () => {
    const results = ok(await run(sample, { threshold: 1 }));
    results.forEach((r, i) => {
      assert.equal(r.escalated, false);
      assert.equal(r.effort, low);
      assert.equal(r.classIndex, onlyLow[i]!.classIndex);
      assert.equal(r.latencyMs.high, undefined);
    });
  });

  it('escalates exactly the inputs whose low-effort entropy exceeds the threshold, at a threshold in between', async () => {
    // The median low-effort entropy splits the sample, whatever the weights.
    const sorted = onlyLow.map((r) => r.entropy).sort((a, b) => a - b);
    const th = sorted[Math.floor(sorted.length / 2)]!;
    const results = ok(await run(sample, { threshold: th }));
    let escalated = 0;
    results.forEach((r, i) => {
      const lowEntropy = onlyLow[i]!.entropy;
      assert.ok(Math.abs(r.routingEntropy! - lowEntropy) < 1e-5);
      assert.equal(r.escalated, lowEntropy > th, `input ${i}: E=${lowEntropy}, Th=${th}`);
      const reference = r.escalated ? onlyHigh[i]! : onlyLow[i]!;
      assert.equal(r.classIndex, reference.classIndex);
      assert.equal(r.label, f.manifest.labels[r.classIndex]);
      assert.ok(Math.abs(r.entropy - reference.entropy) < 1e-5);
      // Only inputs the high effort re-ran carry its stage latency.
      assert.equal(r.latencyMs.high !== undefined, r.escalated);
      escalated += r.escalated ? 1 : 0;
    });
    assert.ok(escalated > 0 && escalated < results.length);
  });

  it('keeps input order across batches, with failures in between', async () => {
    // Shuffle deterministically and slip unreadable files in, then use an odd batch size.
    const shuffled = sample
      .map((s, i) => ({ s, key: (i * 7919) % sample.length }))
      .sort((a, b) => a.key - b.key)
      .map((x) => x.s);
    const inputs: LabelledInput[] = [];
    shuffled.slice(0, 150).forEach((s, i) => {
      inputs.push(s);
      if (i % 37 === 5) inputs.push({ source: bad.refused.text, name: `broken-${i}`, label: -1 });
    });
    const cascade = await Cascade.create(runtime, { low, high, threshold }, { batchSize: 7 });
    const results = await cascade.classifyAll(inputs);
    const one = await Cascade.create(runtime, { low, high, threshold }, { batchSize: 1 });
    assert.equal(results.length, inputs.length);
    for (const [i, r] of results.entries()) {
      assert.equal(r.index, i);
      assert.equal(r.input, inputs[i]!.name);
      if (inputs[i]!.label === -1) {
        assert.equal(r.ok, false);
        continue;
      }
      const [alone] = ok(await one.classifyBatch([inputs[i]!]));
      const got = ok([r])[0]!;
      assert.equal(got.classIndex, alone!.classIndex, `input ${i} (${r.input})`);
      assert.equal(got.escalated, alone!.escalated);
    }
  });

  it('pools the escalated inputs of consecutive batches into full high-effort calls', async () => {
    const batchSize = 8;
    const cascade = await Cascade.create(runtime, { low, high, threshold }, { batchSize });
    const reports: BatchReport[] = [];
    const results = ok(await cascade.classifyAll(sample, { onBatch: (report) => reports.push(report) }));
    const escalated = results.filter((r) => r.escalated).length;
    assert.ok(escalated > batchSize, `only ${escalated} escalations: the sample cannot show pooling`);
    assert.equal(
      reports.reduce((n, r) => n + r.escalated, 0),
      escalated,
    );
    // Each high-effort call is reported once, by the batch during which it ran: full calls of
    // batchSize, and the rest at the end (in the same last batch as a full call, possibly).
    const calls = reports.reduce((n, r) => n + (r.highCallsMs?.length ?? 0), 0);
    const full = Math.floor(escalated / batchSize);
    assert.ok(calls >= full && calls <= full + 1, `${calls} high-effort calls for ${escalated} escalations`);
    assert.ok(calls < reports.filter((r) => r.escalated > 0).length, 'no batch shared a high-effort call');
    // A run with a smaller batch size also fills its high-effort calls only up to that size.
    const smaller: BatchReport[] = [];
    await cascade.classifyAll(sample, { batchSize: batchSize / 2, onBatch: (report) => smaller.push(report) });
    const halfCalls = smaller.reduce((n, r) => n + (r.highCallsMs?.length ?? 0), 0);
    const halfFull = Math.floor(escalated / (batchSize / 2));
    assert.ok(
      halfCalls >= halfFull && halfCalls <= halfFull + 1,
      `${halfCalls} high-effort calls of up to ${batchSize / 2} for ${escalated} escalations`,
    );
    // Pooled or not, the answers are those of each input's own effort.
    results.forEach((r, i) => {
      const reference = !(onlyLow[i]!.entropy > threshold) ? onlyLow[i]! : onlyHigh[i]!;
      assert.equal(r.escalated, reference === onlyHigh[i]);
      assert.equal(r.classIndex, reference.classIndex, `input ${i}`);
      assert.equal(r.latencyMs.high !== undefined, r.escalated);
    });
  });

  it('reports each pooled high-effort call once, also when one batch sees two (its queue fills, then the final flush)', async () => {
    // Batch 1: 4 uncertain + 4 sure inputs (4 wait in the queue). Batch 2, the last: 8 uncertain
    // ones; the 4th fills the queue (call 1), the other 4 go in the final flush (call 2).
    const uncertain = sample.filter((_, i) => onlyLow[i]!.entropy > threshold);
    const sure = sample.filter((_, i) => !(onlyLow[i]!.entropy > threshold));
    const inputs = [...uncertain.slice(0, 4), ...sure.slice(0, 4), ...uncertain.slice(4, 12)];
    const cascade = await Cascade.create(runtime, { low, high, threshold }, { batchSize: 8 });
    const reports: BatchReport[] = [];
    const dataset = { description: 'sample', count: inputs.length, items: () => inputs };
    const summary = await evaluate(cascade, dataset, { onProgress: () => {} });
    await cascade.classifyAll(inputs, { onBatch: (report) => reports.push(report) });
    assert.deepEqual(
      reports.map((r) => r.highCallsMs?.length),
      [0, 2],
    );
    assert.equal(reports[1]!.latencyMs.high, reports[1]!.highCallsMs![0]! + reports[1]!.highCallsMs![1]!, 'the stage total sums them');
    assert.equal(summary.latency_ms.high?.calls, 2, 'eval counts two calls, not one batch');
    assert.equal(summary.latency_ms.low?.calls, 2);
    assert.equal(summary.correct_high + summary.incorrect_high, 12);
    // Under policy 'high' each batch's one call is a high-effort call, and counted as one.
    const onlyHighCascade = await Cascade.create(runtime, { low, high, threshold, policy: 'high' }, { batchSize: 8 });
    const highSummary = await evaluate(onlyHighCascade, dataset);
    assert.equal(highSummary.latency_ms.high?.calls, 2);
    assert.equal(highSummary.latency_ms.low, undefined);
  });

  it('gives the same answers when callers overlap batches on one cascade', async () => {
    const cascade = await Cascade.create(runtime, { low, high, threshold }, { batchSize: 50 });
    const parts = [sample.slice(0, 50), sample.slice(300, 350), sample.slice(550, 600)];
    const together = await Promise.all(parts.map((part) => cascade.classifyBatch(part)));
    const offsets = [0, 300, 550];
    together.forEach((results, p) =>
      ok(results).forEach((r, j) => {
        const i = offsets[p]! + j;
        const reference = !(onlyLow[i]!.entropy > threshold) ? onlyLow[i]! : onlyHigh[i]!;
        assert.equal(r.classIndex, reference.classIndex, `input ${i}`);
      }),
    );
  });

  it('classifies CMYK, 16-bit, grayscale and RGBA files and refuses the broken ones without stopping the batch', async () => {
    const files = [...Object.values(bad.accepted), ...Object.values(bad.refused), REFERENCE_PNG];
    const cascade = await Cascade.create(runtime, { low, high, threshold });
    const results = await cascade.classifyAll(files.map((path) => ({ source: path })));
    const byFile = new Map(results.map((r) => [r.input, r]));
    for (const path of Object.values(bad.accepted)) {
      const r = byFile.get(path)!;
      assert.ok(r.ok, `${path}: ${r.ok ? '' : r.error.message}`);
      assert.ok(r.probability > 0 && r.probability <= 1 && r.entropy >= 0 && r.entropy <= 1);
    }
    const reasons = { empty: /empty file/, text: /not a supported image/, truncated: /truncated or corrupt/, bomb: /30000x30000/ };
    for (const [kind, path] of Object.entries(bad.refused)) {
      const r = byFile.get(path)!;
      assert.equal(r.ok, false, `${kind} should fail`);
      if (r.ok) continue;
      assert.ok(r.error instanceof InputError);
      assert.equal(r.error.input, path);
      assert.match(r.error.reason, reasons[kind as keyof typeof reasons]);
    }
    assert.ok(byFile.get(REFERENCE_PNG)!.ok);
  });

  it('evaluated on the bundled sample files, agrees with the model card and with its own counts', async () => {
    const files = sampleFiles(f);
    const dataset = { description: 'bundled sample', count: files.length, items: () => files };
    const single = await evaluate(await Cascade.create(runtime, { low, high, threshold, policy: 'high' }), dataset);
    assert.ok(Math.abs(single.accuracy - manifestSampleAccuracy(f, high)) <= 0.01, `high effort: ${single.accuracy}`);
    const summary = await evaluate(await Cascade.create(runtime, { low, high, threshold }), dataset);
    const { correct_low: cl, correct_high: ch, incorrect_low: il, incorrect_high: ih } = summary;
    assert.equal(cl + ch + il + ih, files.length);
    assert.equal(summary.count, files.length);
    assert.equal(summary.fraction_low, (cl + il) / files.length);
    // The same numbers from the single-effort runs: the cascade answer is low's unless low's entropy exceeds Th.
    let correct = 0;
    let answeredLow = 0;
    onlyLow.forEach((r, i) => {
      const byLow = !(r.entropy > threshold);
      answeredLow += byLow ? 1 : 0;
      correct += (byLow ? r : onlyHigh[i]!).classIndex === files[i]!.label ? 1 : 0;
    });
    assert.equal(cl + il, answeredLow);
    assert.equal(summary.accuracy, correct / files.length);
    assert.ok(summary.throughput > 0 && summary.latency_ms.low!.calls > 0);
  });
});
