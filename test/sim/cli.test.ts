/** `pivot sim`: the library entry (runSim) and the real executable. */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, ModelLoadError } from '../../src/errors.js';
import sharp from 'sharp';
import { runSim } from '../../src/sim/run.js';

const root = new URL('../../', import.meta.url).pathname;
const manifest = join(root, 'models/fmnist-vit/manifest.json');
const fixture = (name: string) => new URL(`fixtures/${name}`, import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'pivot-sim-cli-'));

describe('pivot sim', () => {
  it('--json has the documented fields and a breakdown that sums to 1', async () => {
    const j = (await runSim({ vit: 'deit-s', effort: 9, json: true })).json;
    for (const key of ['delay_ms', 'energy_j', 'edp', 'fps_per_w', 'breakdown', 'layers']) assert.ok(key in j, key);
    const b = j.breakdown as Record<string, number>;
    assert.deepEqual(Object.keys(b).sort(), ['attention_mac', 'mlp', 'other', 'softmax']);
    assert.ok(Math.abs(Object.values(b).reduce((s, v) => s + v, 0) - 1) < 1e-12);
    assert.deepEqual(j.active, [1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0], 'presets skip the deepest attentions first');
  });

  it('--active overrides the effort mask; --pair combines two efforts', async () => {
    const a = (await runSim({ vit: 'deit-s', active: '011111111111', json: true })).json;
    assert.deepEqual(a.active, [0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
    const p = (await runSim({ vit: 'deit-s', pair: '6,9', fl: 0.75, json: true })).json as {
      delay_ms: number;
      low: { delay_ms: number };
      high: { delay_ms: number };
    };
    assert.ok(Math.abs(p.delay_ms - (p.low.delay_ms + 0.25 * p.high.delay_ms)) < 1e-9);
  });

  it('reads a model family manifest: architecture and the effort masks', async () => {
    const m = JSON.parse(readFileSync(manifest, 'utf8')) as {
      architecture: { depth: number; tokens: number };
      efforts: { effort: number; active: number[] }[];
    };
    const effort = m.efforts[Math.floor(m.efforts.length / 2)]!;
    const j = (await runSim({ vit: manifest, effort: effort.effort, json: true })).json as {
      active: number[];
      layers: { name: string; m?: number }[];
    };
    assert.deepEqual(j.active, effort.active);
    assert.equal(j.layers.find((l) => l.name === 'enc1.fc1')?.m, m.architecture.tokens);
    await assert.rejects(runSim({ vit: manifest, effort: 99 }), ConfigError);
  });

  it('SCALE-Sim inputs: layers with name and total_cycles, COMPUTE_REPORT as CSV', async () => {
    const opts = { scalesimConfig: fixture('scale-os-4x4.cfg'), topology: fixture('gemm-mnk.csv') };
    const j = (await runSim({ ...opts, json: true })).json as { layers: { name: string; total_cycles: number }[] };
    // SCALE-Sim's printed convention: cycle count - 1 (10, 78 and 36 cycles)
    assert.deepEqual(
      j.layers.map((l) => [l.name, l.total_cycles]),
      [
        ['square4', 9],
        ['tall', 77],
        ['one_row', 35],
      ],
    );
    assert.match((await runSim({ ...opts, csv: true })).text, /^LayerID, Total Cycles, Stall Cycles/);
    // --dataflow override: WS on 4x4, square4 = 2*4 + 4 + 4 - 2 = 14 cycles
    const ws = (await runSim({ ...opts, dataflow: 'ws', json: true })).json as { layers: { total_cycles: number; cycle_count: number }[] };
    assert.deepEqual([ws.layers[0]!.cycle_count, ws.layers[0]!.total_cycles], [14, 13]);
  });

  it('writes the breakdown chart as SVG or PNG', async () => {
    const chart = join(dir, 'pair.svg');
    const out = await runSim({ vit: 'deit-s', pair: '6,9', fl: 0.7, chart });
    assert.deepEqual(out.files, [chart]);
    const svg = readFileSync(chart, 'utf8');
    assert.match(svg, /^<svg/);
    for (const word of ['softmax', 'attention_mac', 'pe_array', 'pair F_L=0.7']) assert.ok(svg.includes(word), word);
    const png = join(dir, 'one.png');
    await runSim({ vit: 'deit-s', chart: png });
    const meta = await sharp(png).metadata();
    assert.equal(meta.format, 'png');
    assert.ok((meta.width ?? 0) > 700);
  });

  it('bad combinations and unknown models are typed errors', async () => {
    await assert.rejects(runSim({ vit: 'deit-s', active: '1', effort: 2 }), ConfigError);
    await assert.rejects(runSim({ vit: 'deit-s', pair: '6,9' }), /--fl/);
    await assert.rejects(runSim({ vit: 'deit-s', pair: '9,6', fl: 0.5 }), /low effort/);
    await assert.rejects(runSim({ vit: 'deit-s', active: '10101' }), /12 bits/);
    await assert.rejects(runSim({ vit: 'deit-x' }), ModelLoadError);
    await assert.rejects(runSim({}), /--vit/);
  });

  it('the executable prints JSON and maps ConfigErrors to exit code 2', () => {
    const cli = ['--import', 'tsx', join(root, 'src/cli/index.ts'), 'sim'];
    const out = execFileSync(process.execPath, [...cli, '--vit', 'deit-t', '--json'], { cwd: root, encoding: 'utf8' });
    assert.ok((JSON.parse(out) as { delay_ms: number }).delay_ms > 0);
    const bad = spawnSync(process.execPath, [...cli, '--vit', 'deit-s', '--dataflow', 'rs'], { cwd: root, encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--dataflow/);
  });
});

describe('ViT description files', () => {
  it('reads a YAML description without tokens (patches + class token) and without efforts', async () => {
    const path = join(dir, 'tiny.yaml');
    writeFileSync(
      path,
      'name: tiny\narchitecture:\n  image: 32\n  patch: 8\n  channels: 3\n  dim: 96\n  depth: 4\n  heads: 3\n  mlp_ratio: 4\n  classes: 100\n  pooling: cls\n',
    );
    const j = (await runSim({ vit: path, effort: 2, json: true })).json as {
      active: number[];
      layers: { name: string; m?: number; k?: number }[];
    };
    assert.deepEqual(j.active, [1, 1, 0, 0], 'no effort masks in the file: deepest skipped first');
    assert.deepEqual([j.layers.find((l) => l.name === 'enc1.qkv')?.m, j.layers.find((l) => l.name === 'patch_embed')?.k], [17, 8 * 8 * 3]);
    writeFileSync(path, 'name: bad\narchitecture:\n  image: 32\n');
    await assert.rejects(runSim({ vit: path }), (e: unknown) => e instanceof ModelLoadError && /architecture\.patch/.test(e.message));
  });
});
