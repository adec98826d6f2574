import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadImageFolder } from '../../src/data/index.js';
import { loadModelFamily } from '../../src/model/manifest.js';
import { Preprocessor } from '../../src/preprocess/index.js';
import { isIdxDir, loadFolderSet } from '../../src/search/phase1/images.js';

const family = loadModelFamily('models/fmnist-vit');
const samples = family.file(family.manifest.samples ?? 'samples');

describe('Phase 1 image sets', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'pivot-images-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('interleaves classes so a small set covers every class', async () => {
    const classes = family.manifest.labels.length;
    const set = await loadFolderSet(samples, 2 * classes, family.manifest);
    assert.equal(set.count, 2 * classes);
    const pixels = set.batch(0, set.count);
    assert.equal(pixels.length, set.count * 28 * 28);
    assert.deepEqual(new Set(set.labels).size, classes);
    assert.ok(
      pixels.some((v) => v !== pixels[0]),
      'pixels were decoded',
    );
    // Held as uint8 and normalized when fed: a batch is exactly the Preprocessor's tensor of each image.
    const { items } = loadImageFolder(samples, family.manifest.labels);
    const first = [...items()][0]!;
    assert.deepEqual(await new Preprocessor(family.manifest.preprocess).tensor(first.source, first.name), set.batch(0, 1));
    assert.deepEqual(set.batch(1, 2), pixels.subarray(set.size, 3 * set.size));
    assert.throws(() => set.batch(set.count - 1, 2), /asked of a set of 20/);
    assert.equal(isIdxDir(samples), false);
  });

  it('refuses a subfolder that is not a label, naming it', async () => {
    mkdirSync(join(tmp, 'giraffe'));
    await assert.rejects(loadFolderSet(tmp, 4, family.manifest), /giraffe: folder name matches no label/);
  });
});
