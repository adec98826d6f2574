import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { InferenceError } from '../../src/errors.js';
import { ModelRuntime } from '../../src/model/index.js';
import { family } from '../runtime/helpers.js';

describe('effort sessions', () => {
  const f = family();
  const runtime = new ModelRuntime(f, { intraOpThreads: 1, interOpThreads: 1 });
  after(() => runtime.close());

  it('runs a batch and returns [batch, classes] logits', async () => {
    const session = await runtime.session(0);
    const logits = await session.run(new Float32Array(3 * session.sampleSize), 3);
    assert.equal(logits.length, 3 * f.manifest.labels.length);
    assert.ok(logits.every(Number.isFinite));
    // The same input gives the same logits in every row.
    assert.deepEqual(Array.from(logits.subarray(0, 10)), Array.from(logits.subarray(20, 30)));
  });

  it('says what it got when the input does not fit the model', async () => {
    const session = await runtime.session(0);
    await assert.rejects(session.run(new Float32Array(100), 1), (err: unknown) => {
      assert.ok(err instanceof InferenceError);
      assert.match(err.message, /effort-0\.onnx: got 100 floats for 1 input\(s\), expected 784 \(1 x \[1,28,28\]\)/);
      return true;
    });
  });

  it('reports an effort the family does not have', async () => {
    const has = f.manifest.efforts.map((e) => e.effort).join(', ');
    await assert.rejects(runtime.session(42), (err: Error) => err.message.includes(`effort 42 is not in the family (has ${has})`));
  });
});
