import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { listImages, loadImageFolder, matchLabel, openDataset, slug } from '../../src/data/index.js';
import { InputError } from '../../src/errors.js';
import { family } from './helpers.js';

const labels = family().manifest.labels;
const dir = mkdtempSync(join(tmpdir(), 'pivot-folder-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('image folders', () => {
  it('slugs labels like the exporter names the sample folders', () => {
    assert.equal(slug('T-shirt/top'), 't-shirt-top');
    assert.equal(slug('Ankle boot'), 'ankle-boot');
    assert.equal(slug('  Bag!! '), 'bag');
  });

  it('matches a folder by exact label, slug or index', () => {
    assert.equal(matchLabel('T-shirt/top', labels), 0);
    assert.equal(matchLabel('ankle-boot', labels), 9);
    assert.equal(matchLabel('Ankle Boot', labels), 9);
    assert.equal(matchLabel('3', labels), 3);
    assert.equal(matchLabel('10', labels), undefined);
    assert.equal(matchLabel('socks', labels), undefined);
  });

  it('loads the bundled sample with one class per subfolder', () => {
    const f = family();
    const set = openDataset(join(f.dir, f.manifest.samples!), labels);
    const items = [...set.items()];
    assert.equal(items.length, set.count);
    const perClass = new Array(labels.length).fill(0);
    for (const item of items) {
      perClass[item.label]++;
      assert.ok(item.name.includes(`/${slug(labels[item.label]!)}/`));
    }
    assert.ok(perClass.every((c) => c > 0));
  });

  it('lists only image files, sorted, skipping hidden entries, and names an unmatched class folder', () => {
    for (const sub of ['7', 'Bag', 'socks']) mkdirSync(join(dir, 'set', sub), { recursive: true });
    for (const file of ['7/b.png', '7/a.JPG', '7/.hidden.png', '7/notes.txt', 'Bag/x.webp']) writeFileSync(join(dir, 'set', file), '');
    assert.deepEqual(listImages(join(dir, 'set', '7')), [join(dir, 'set', '7', 'a.JPG'), join(dir, 'set', '7', 'b.png')]);
    assert.throws(
      () => loadImageFolder(join(dir, 'set'), labels),
      (err: unknown) => err instanceof InputError && err.input === join(dir, 'set', 'socks') && /matches no label/.test(err.reason),
    );
    rmSync(join(dir, 'set', 'socks'), { recursive: true });
    const items = [...loadImageFolder(join(dir, 'set'), labels).items()];
    // Classes are interleaved so that the first N images cover every class.
    assert.deepEqual(
      items.map((i) => i.name),
      ['7/a.JPG', 'Bag/x.webp', '7/b.png'].map((f) => join(dir, 'set', f)),
    );
    assert.deepEqual(
      items.map((i) => i.label),
      [7, 8, 7],
    );
  });

  it('refuses a missing or empty dataset', () => {
    assert.throws(() => openDataset(join(dir, 'absent'), labels), /no such dataset directory/);
    mkdirSync(join(dir, 'empty'));
    assert.throws(() => openDataset(join(dir, 'empty'), labels), /no images found/);
  });
});
