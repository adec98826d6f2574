import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Cascade, type BatchReport, type CascadeResult, type Classification, type Failure } from '../../../src/cascade/index.js';
import { loadDeploy } from '../../../src/config/deploy.js';
import { InputError } from '../../../src/errors.js';
import { ModelRuntime } from '../../../src/model/index.js';
import { PipelineMetrics, type PublisherStats } from '../../../src/daemon/telemetry/index.js';
import { DEPLOY, family, sampleFiles } from '../../runtime/helpers.js';
import { sampleValue } from './prom-text.js';

const LOW = 1;
const HIGH = 6;

function classified(index: number, escalated: boolean, latencyMs: Classification['latencyMs']): Classification {
  return {
    ok: true,
    index,
    input: `cam#${index}`,
    label: 'bag',
    classIndex: 8,
    probability: 0.9,
    entropy: 0.1,
    routingEntropy: escalated ? 0.5 : 0.1,
    effort: escalated ? HIGH : LOW,
    escalated,
    latencyMs,
  };
}

const failed = (index: number): Failure => ({
  ok: false,
  index,
  input: `cam#${index}`,
  error: new InputError(`cam#${index}`, 'not an image'),
});

/** One batch as the cascade reports it: 2 answered low, 1 escalated, 1 undecodable. */
function batch(): { report: BatchReport; results: CascadeResult[] } {
  const latency = { preprocess: 20, low: 50, high: 120 };
  const { high, ...lowOnly } = latency;
  return {
    report: { count: 4, failed: 1, escalated: 1, latencyMs: latency },
    results: [classified(0, false, lowOnly), classified(1, true, latency), failed(2), classified(3, false, lowOnly)],
  };
}

const text = async (metrics: PipelineMetrics) => (await metrics.render()).body;

describe('PipelineMetrics', () => {
  it('counts frames, escalations, answering efforts and stage latency from a batch', async () => {
    const metrics = new PipelineMetrics('pi-kitchen');
    const { report, results } = batch();
    metrics.recordBatch('cam', report, results);
    metrics.recordBatch('cam', report, results);
    metrics.recordBatch('door', report, results.slice(0, 1));
    const body = await text(metrics);
    assert.equal(sampleValue(body, 'pivot_frames_total', { source: 'cam', outcome: 'ok' }), 6);
    assert.equal(sampleValue(body, 'pivot_frames_total', { source: 'cam', outcome: 'failed' }), 2);
    assert.equal(sampleValue(body, 'pivot_frames_total', { source: 'door', outcome: 'ok' }), 1);
    assert.equal(sampleValue(body, 'pivot_frames_total', { source: 'door', outcome: 'failed' }), 0);
    assert.equal(sampleValue(body, 'pivot_escalations_total', { source: 'cam' }), 2);
    assert.equal(sampleValue(body, 'pivot_escalations_total', { source: 'door' }), 0);
    assert.equal(sampleValue(body, 'pivot_answered_by_effort_total', { effort: String(LOW) }), 5);
    assert.equal(sampleValue(body, 'pivot_answered_by_effort_total', { effort: String(HIGH) }), 2);
    // One observation per stage call: three batches, each with its preprocess, low and high calls.
    for (const stage of ['preprocess', 'low', 'high']) assert.equal(sampleValue(body, 'pivot_stage_latency_seconds_count', { stage }), 3);
    assert.ok(Math.abs(sampleValue(body, 'pivot_stage_latency_seconds_sum', { stage: 'high' })! - 0.36) < 1e-9);
    assert.equal(sampleValue(body, 'pivot_stage_latency_seconds_bucket', { stage: 'low', le: '0.05' }), 3);
    assert.equal(sampleValue(body, 'pivot_stage_latency_seconds_bucket', { stage: 'low', le: '0.025' }), 0);
    // Every series carries the device, and the default process metrics are there.
    assert.match(body, /pivot_frames_total\{[^}]*device="pi-kitchen"/);
    assert.ok(sampleValue(body, 'process_resident_memory_bytes')! > 0);
    assert.ok(metrics.lastFrameAt() instanceof Date);
  });

  it('snapshot: totals and the fraction answered by the low effort', () => {
    const metrics = new PipelineMetrics('dev');
    assert.deepEqual(metrics.snapshot(), { frames: 0, failed: 0, escalated: 0, fraction_low: null });
    metrics.recordBatch('cam', { count: 1, failed: 1, escalated: 0, latencyMs: { preprocess: 1 } }, [failed(0)]);
    assert.deepEqual(
      metrics.snapshot(),
      { frames: 1, failed: 1, escalated: 0, fraction_low: null },
      'no classified frame yet: F_L unknown',
    );
    const { report, results } = batch();
    metrics.recordBatch('cam', report, results);
    assert.deepEqual(metrics.snapshot(), { frames: 5, failed: 2, escalated: 1, fraction_low: 2 / 3 });
    // Under the 'high' policy the low effort never runs: not escalated, yet not answered low either.
    metrics.recordBatch('cam', { count: 1, failed: 0, escalated: 0, latencyMs: { preprocess: 1, high: 3 } }, [
      { ...classified(0, false, { preprocess: 1, high: 3 }), effort: HIGH },
    ]);
    assert.deepEqual(metrics.snapshot(), { frames: 6, failed: 2, escalated: 1, fraction_low: 2 / 4 });
  });

  it('mirrors publisher and source totals into counters that never go down', async () => {
    const sources = { cam: { produced: 10, dropped: 5, errors: 1 }, dir: { produced: 3, dropped: 0, errors: 0 } };
    let publisher: PublisherStats = { connected: true, outbox_depth: 4, outbox_dropped: 2, published: 30, reconnects: 1 };
    const metrics = new PipelineMetrics('dev', { publisher: () => publisher, sources: () => sources });
    let body = await text(metrics);
    assert.equal(sampleValue(body, 'pivot_mqtt_connected'), 1);
    assert.equal(sampleValue(body, 'pivot_outbox_depth'), 4);
    assert.equal(sampleValue(body, 'pivot_outbox_dropped_total'), 2);
    assert.equal(sampleValue(body, 'pivot_mqtt_published_total'), 30);
    assert.equal(sampleValue(body, 'pivot_mqtt_reconnects_total'), 1);
    assert.equal(sampleValue(body, 'pivot_source_dropped_frames_total', { source: 'cam' }), 5);
    assert.equal(sampleValue(body, 'pivot_source_dropped_frames_total', { source: 'dir' }), 0);
    assert.equal(sampleValue(body, 'pivot_source_errors_total', { source: 'cam' }), 1);

    sources.cam = { produced: 12, dropped: 7, errors: 1 };
    publisher = { connected: false, outbox_depth: 9, outbox_dropped: 2, published: 41, reconnects: 2 };
    body = await text(metrics);
    assert.equal(sampleValue(body, 'pivot_mqtt_connected'), 0);
    assert.equal(sampleValue(body, 'pivot_mqtt_published_total'), 41);
    assert.equal(sampleValue(body, 'pivot_outbox_depth'), 9);
    assert.equal(sampleValue(body, 'pivot_source_dropped_frames_total', { source: 'cam' }), 7);

    // The owner's total restarted from 0: the counter keeps what it had and grows from there.
    sources.cam = { produced: 0, dropped: 1, errors: 0 };
    await text(metrics);
    sources.cam = { produced: 0, dropped: 4, errors: 2 };
    body = await text(metrics);
    assert.equal(sampleValue(body, 'pivot_source_dropped_frames_total', { source: 'cam' }), 10);
    assert.equal(sampleValue(body, 'pivot_source_errors_total', { source: 'cam' }), 3);
  });

  it('each instance has its own registry', async () => {
    const a = new PipelineMetrics('a');
    const b = new PipelineMetrics('b');
    const { report, results } = batch();
    a.recordBatch('cam', report, results);
    assert.equal(sampleValue(await text(a), 'pivot_frames_total', { source: 'cam', outcome: 'ok' }), 3);
    assert.equal(sampleValue(await text(b), 'pivot_frames_total', { source: 'cam', outcome: 'ok' }), undefined);
  });

  describe('with the real cascade', () => {
    const f = family();
    const { low, high } = loadDeploy(DEPLOY).config;
    const runtime = new ModelRuntime(f, { intraOpThreads: 1 });
    const images = sampleFiles(f).slice(0, 5);
    const inputs = [...images.map((item) => ({ source: item.source, name: item.name })), { source: join(f.dir, 'no-such-image.png') }];
    after(() => runtime.close());

    const run = async (threshold: number) => {
      const metrics = new PipelineMetrics('dev');
      const cascade = await Cascade.create(runtime, { low, high, threshold }, { batchSize: 4 });
      const results = await cascade.classifyAll(inputs, {
        onBatch: (report, batchResults) => metrics.recordBatch('samples', report, batchResults),
      });
      return { metrics, results, body: await text(metrics) };
    };

    let everyEscalated: Awaited<ReturnType<typeof run>>;
    before(async () => {
      everyEscalated = await run(0);
    });

    it('threshold 0: every decodable frame is escalated and answered by the high effort', () => {
      const { metrics, results, body } = everyEscalated;
      assert.equal(results.filter((r) => r.ok).length, images.length);
      assert.equal(sampleValue(body, 'pivot_frames_total', { source: 'samples', outcome: 'ok' }), images.length);
      assert.equal(sampleValue(body, 'pivot_frames_total', { source: 'samples', outcome: 'failed' }), 1);
      assert.equal(sampleValue(body, 'pivot_escalations_total', { source: 'samples' }), images.length);
      assert.equal(sampleValue(body, 'pivot_answered_by_effort_total', { effort: String(high) }), images.length);
      assert.equal(sampleValue(body, 'pivot_answered_by_effort_total', { effort: String(low) }), undefined);
      // 6 inputs in batches of 4: two calls of each stage.
      assert.equal(sampleValue(body, 'pivot_stage_latency_seconds_count', { stage: 'preprocess' }), 2);
      assert.equal(sampleValue(body, 'pivot_stage_latency_seconds_count', { stage: 'high' }), 2);
      assert.deepEqual(metrics.snapshot(), { frames: images.length + 1, failed: 1, escalated: images.length, fraction_low: 0 });
    });

    it('threshold 1: nothing escalates, F_L is 1', async () => {
      const { metrics, body } = await run(1);
      assert.equal(sampleValue(body, 'pivot_escalations_total', { source: 'samples' }), 0);
      assert.equal(sampleValue(body, 'pivot_answered_by_effort_total', { effort: String(low) }), images.length);
      assert.equal(sampleValue(body, 'pivot_stage_latency_seconds_count', { stage: 'high' }), undefined);
      assert.deepEqual(metrics.snapshot(), { frames: images.length + 1, failed: 1, escalated: 0, fraction_low: 1 });
    });
  });
});
