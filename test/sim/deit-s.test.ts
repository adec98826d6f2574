/**
 * DeiT-S on the ZCU102 preset: Table 2 and Fig. 6a reproduction, the one-time fit, and
 * golden outputs for the baseline and two efforts.
 *
 * Why the golden files are trusted: they were written once by `UPDATE_GOLDEN=1 npm test`
 * and reviewed against hand math that this file also asserts independently of them:
 * per encoder (IS, 64x36): QKV 36 folds x 1314 = 47304, QK^T 6 heads x 6 folds x 359 = 12924,
 * SMxV 6 x 24 folds x 226 = 32544, Proj 36 x 546 = 19656, FC1 36 x 1698 = 61128,
 * FC2 144 x 546 = 78624 cycles; stem (a convolution, best mapping: OS on the transpose, the
 * 384 filters along the 64 rows and the 196 patches along the 36 columns) 6 x 6 folds x
 * (768 + 64 + 36 - 2) = 31176 (IS would take 72 x 546 = 39312); head 6 x 1162 = 6972; softmax
 * 6 x 197 x 197 elements x 12.69 ns = 2.9527 ms per active attention.
 * Any later change to the model shows up as a golden diff to review, not a silent drift.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fitHostCosts } from '../../src/sim/calibrate.js';
import { ZCU102 } from '../../src/sim/hardware.js';
import { VIT_PRESETS } from '../../src/sim/presets.js';
import { resultJson } from '../../src/sim/report.js';
import { simulateVit } from '../../src/sim/simulate.js';
import { deepestSkippedMask } from '../../src/sim/workload.js';

const deitS = VIT_PRESETS['deit-s']!;
const run = (effort: number) => simulateVit(deitS, ZCU102, deepestSkippedMask(12, effort));
const within = (actual: number, expected: number, rel: number) =>
  assert.ok(Math.abs(actual - expected) <= rel * Math.abs(expected), `${actual} not within ${rel * 100}% of ${expected}`);

const ENCODER_ATTENTION = 47304 + 12924 + 32544 + 19656;
const ENCODER_MLP = 61128 + 78624;
const FIXED = 31176 + 6972;
const SOFTMAX_MS = (6 * 197 * 197 * 12.69) / 1e6;

describe('DeiT-S on ZCU102', () => {
  const base = run(12);

  it('reproduces Table 2: delay 59.66 ms, energy 0.47 J, EDP 28.19 J*ms, FPS/W 2.14 (within 3%)', () => {
    within(base.delayMs, 59.66, 0.03);
    within(base.energyJ, 0.47, 0.03);
    within(base.edp, 28.19, 0.03);
    within(base.fpsPerW, 2.14, 0.03);
    within(base.powerW, 7.92, 1e-9);
  });

  it('reproduces Fig. 6a: attention MAC ~18%, softmax ~60%, MLP the rest (within 3 points)', () => {
    assert.ok(Math.abs(base.breakdown.attention_mac - 0.18) <= 0.03, `attention ${base.breakdown.attention_mac}`);
    assert.ok(Math.abs(base.breakdown.softmax - 0.6) <= 0.03, `softmax ${base.breakdown.softmax}`);
    assert.ok(Math.abs(base.breakdown.mlp - 0.22) <= 0.03, `mlp ${base.breakdown.mlp}`);
  });

  it('agrees with the hand-worked cycle counts and softmax time', () => {
    for (const effort of [12, 9, 6]) {
      const r = run(effort);
      assert.equal(r.computeCycles, FIXED + 12 * ENCODER_MLP + effort * ENCODER_ATTENTION, `effort ${effort}`);
      assert.equal(r.stallCycles, 0, '19.2 GB/s covers every DeiT-S GEMM');
      within(r.breakdownMs.softmax, effort * SOFTMAX_MS, 1e-9);
    }
  });

  it('a skipped attention removes its QKV, QK^T, softmax, SMxV, projection and the branch LayerNorm/add', () => {
    const names = run(11)
      .layers.filter((l) => l.encoder === 12)
      .map((l) => l.name);
    assert.deepEqual(names, ['enc12.norm2', 'enc12.fc1', 'enc12.gelu', 'enc12.fc2', 'enc12.add2']);
  });

  it('the preset host costs are the one-time fit on DeiT-S (not hand-tuned)', () => {
    const fit = fitHostCosts(deitS, ZCU102);
    assert.ok(Math.abs(fit.costs.softmax_ns - ZCU102.host.softmax_ns) < 0.005, `fit ${fit.costs.softmax_ns}`);
    for (const k of ['gelu_ns', 'layernorm_ns', 'add_ns'] as const) assert.equal(fit.costs[k], ZCU102.host[k], k);
    assert.ok(Math.abs(fit.residualsMs.delay) < 0.03 * 59.66);
  });

  for (const effort of [12, 9, 6]) {
    it(`golden output: effort ${effort}`, () => {
      const file = new URL(`golden/deit-s-zcu102-effort${effort}.json`, import.meta.url);
      const actual = JSON.parse(JSON.stringify(resultJson(run(effort)))) as unknown;
      if (process.env.UPDATE_GOLDEN === '1') writeFileSync(file, JSON.stringify(actual, null, 2) + '\n');
      const golden = JSON.parse(readFileSync(file, 'utf8')) as unknown;
      assertClose(actual, golden, '$');
    });
  }
});

/** Deep equality with a 1e-9 relative tolerance on numbers (platform libm differences only). */
function assertClose(a: unknown, b: unknown, path: string): void {
  if (typeof a === 'number' && typeof b === 'number') {
    assert.ok(Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)), `${path}: ${a} != ${b}`);
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    assert.equal(a.length, b.length, `${path}: length`);
    a.forEach((v, i) => assertClose(v, b[i], `${path}[${i}]`));
    return;
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    assert.deepEqual(Object.keys(a).sort(), Object.keys(b).sort(), `${path}: keys`);
    for (const k of Object.keys(a)) assertClose((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
    return;
  }
  assert.equal(a, b, path);
}
