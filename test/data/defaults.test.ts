import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { defaultDataset, FASHION_MNIST_DIR, isIdxDir, requireDefaultDataset } from '../../src/data/index.js';
import { ConfigError } from '../../src/errors.js';
import type { ModelFamily } from '../../src/model/index.js';
import { family } from '../runtime/helpers.js';

describe('the default dataset (one choice for every command)', () => {
  const shipped = family();
  const samples = join(shipped.dir, shipped.manifest.samples ?? 'samples');

  it('tuning prefers the Fashion-MNIST package, measuring the bundled sample', {
    skip: !isIdxDir(FASHION_MNIST_DIR) && 'dataset-fashion-mnist not installed',
  }, () => {
    assert.equal(defaultDataset(shipped, 'tune'), FASHION_MNIST_DIR);
    assert.equal(defaultDataset(shipped, 'measure'), samples);
  });

  it('falls back to what exists, and names --data when nothing does', () => {
    const empty = mkdtempSync(join(tmpdir(), 'pivot-defaults-'));
    try {
      const bare: ModelFamily = {
        ...shipped,
        dir: empty,
        manifest: { ...shipped.manifest, samples: undefined },
        file: (name) => join(empty, name),
      };
      const missing = join(empty, 'no-fashion-mnist');
      // No IDX package: both uses take the samples.
      assert.equal(defaultDataset(shipped, 'tune', missing), samples);
      assert.equal(defaultDataset(shipped, 'measure', missing), samples);
      // No samples: both take the IDX package when there is one.
      if (isIdxDir(FASHION_MNIST_DIR)) assert.equal(defaultDataset(bare, 'measure'), FASHION_MNIST_DIR);
      assert.equal(defaultDataset(bare, 'measure', samples), undefined, 'a folder set is not an IDX directory');
      assert.equal(defaultDataset(bare, 'tune', missing), undefined);
      assert.throws(
        () => requireDefaultDataset(bare, 'tune', missing),
        (e: unknown) => e instanceof ConfigError && e.message.startsWith(`--data: not given, ${missing} is not installed`),
      );
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
