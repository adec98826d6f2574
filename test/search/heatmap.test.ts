import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import sharp from 'sharp';
import { colorFor, heatmapSvg, writeHeatmap } from '../../src/search/phase1/heatmap.js';

const cka = [
  [0.9, 0.7, 0.65],
  [0.8, 0.95, 0.9],
  [0.7, 0.85, 0.99],
  [0.66, 0.8, 0.93],
];

describe('CKA heatmap', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pivot-heatmap-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('labels every row and column and prints every value', () => {
    const svg = heatmapSvg(cka, 'test');
    for (const label of ['MLP_0', 'MLP_3', 'A_1', 'A_3']) assert.ok(svg.includes(`>${label}<`), label);
    for (const v of cka.flat()) assert.ok(svg.includes(`>${v.toFixed(2)}<`), String(v));
    assert.ok(!svg.includes('MLP_4') && !svg.includes('A_4'));
  });

  it('maps the scale ends to the ends of viridis', () => {
    assert.equal(colorFor(1, 0.6), '#fde725');
    assert.equal(colorFor(0.6, 0.6), '#440154');
    assert.equal(colorFor(0.2, 0.6), '#440154', 'values below the scale clamp');
  });

  it('writes an SVG and a PNG that sharp can read back', async () => {
    const files = await writeHeatmap(cka, 'test', join(dir, 'cka'));
    const meta = await sharp(files.png).metadata();
    assert.equal(meta.format, 'png');
    assert.ok((meta.width ?? 0) > 300 && (meta.height ?? 0) > 200);
    assert.equal((await sharp(files.svg).metadata()).format, 'svg');
  });
});
