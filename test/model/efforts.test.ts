import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Cascade, evaluate } from '../../src/cascade/index.js';
import type { LabelledInput } from '../../src/data/index.js';
import { ModelRuntime } from '../../src/model/index.js';
import { family, manifestSampleAccuracy, sampleDecoded } from '../runtime/helpers.js';

describe('every shipped effort', () => {
  const f = family();
  const runtime = new ModelRuntime(f, { intraOpThreads: 1 });
  let sample: LabelledInput[];
  before(async () => {
    sample = await sampleDecoded(f);
  });
  after(() => runtime.close());

  for (const { effort } of f.manifest.efforts)
    it(`effort ${effort} loads and reaches its manifest accuracy.sample within 2 points`, async () => {
      const session = await runtime.session(effort);
      assert.equal(session.effort, effort);
      assert.deepEqual(session.sampleDims, f.manifest.input.shape.slice(1));
      assert.equal(await runtime.session(effort), session, 'sessions are created once and kept resident');
      const cascade = await Cascade.create(runtime, { low: effort, high: effort, threshold: 1, policy: 'low' }, { batchSize: 100 });
      const summary = await evaluate(cascade, { description: 'bundled sample', count: sample.length, items: () => sample });
      assert.equal(summary.count, sample.length);
      const expected = manifestSampleAccuracy(f, effort);
      assert.ok(
        Math.abs(summary.accuracy - expected) <= 0.02,
        `effort ${effort}: ${(summary.accuracy * 100).toFixed(2)}% on the sample, manifest says ${(expected * 100).toFixed(2)}%`,
      );
    });
});
