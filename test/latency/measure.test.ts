import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/errors.js';
import { measureEfforts } from '../../src/latency/index.js';
import { ModelRuntime } from '../../src/model/index.js';
import { family } from '../runtime/helpers.js';

describe('effort latency (src/latency)', () => {
  it('measureEfforts: rounds x iterations calls per effort, at the batch size asked', async () => {
    const runtime = new ModelRuntime(family(), { intraOpThreads: 1 });
    try {
      const timings = await measureEfforts(runtime, [0, 6], { batch: 4, rounds: 3, iterations: 2, warmup: 0 });
      assert.deepEqual(
        timings.map((t) => [t.effort, t.batch, t.calls]),
        [
          [0, 4, 6],
          [6, 4, 6],
        ],
      );
      for (const t of timings) assert.ok(t.medianMs > 0 && t.p95Ms >= t.medianMs);
      await assert.rejects(
        measureEfforts(runtime, [0], { batch: 0, rounds: 1, iterations: 1 }),
        (e: unknown) => e instanceof ConfigError && /--batch/.test(e.message),
      );
    } finally {
      await runtime.close();
    }
  });
});
