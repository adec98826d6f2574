/** ViT -> operation list: presets, stems, masks, skipped attention. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/errors.js';
import { VIT_PRESETS } from '../../src/sim/presets.js';
import { buildWorkload, checkVit, convGemm, deepestSkippedMask, parseMask, type GemmOp } from '../../src/sim/workload.js';

const gemms = (ops: ReturnType<typeof buildWorkload>) => ops.filter((o): o is GemmOp => o.unit === 'pl');

describe('workload', () => {
  it('presets carry the dimensions of their papers', () => {
    const dims = Object.fromEntries(Object.entries(VIT_PRESETS).map(([k, v]) => [k, [v.dim, v.heads, v.depth, v.mlpRatio, v.tokens]]));
    assert.deepEqual(dims, {
      'deit-t': [192, 3, 12, 4, 197],
      'deit-s': [384, 6, 12, 4, 197],
      'deit-b': [768, 12, 12, 4, 197],
      'vit-b16': [768, 12, 12, 4, 197],
      'lv-vit-s': [384, 6, 16, 3, 197],
      'lv-vit-m': [512, 8, 20, 3, 197],
    });
  });

  it('convolution stems become im2col GEMMs (padding and stride included)', () => {
    assert.deepEqual(convGemm(VIT_PRESETS['deit-s']!.stem[0]!), { m: 196, k: 768, n: 384 });
    const lv = VIT_PRESETS['lv-vit-s']!.stem.map(convGemm);
    // 7x7/2 pad 3 on 224 -> 112x112; two 3x3 pad 1 keep 112x112; 8x8/8 -> 14x14 patches
    assert.deepEqual(lv, [
      { m: 12544, k: 147, n: 64 },
      { m: 12544, k: 576, n: 64 },
      { m: 12544, k: 576, n: 64 },
      { m: 196, k: 4096, n: 384 },
    ]);
  });

  it('one encoder of DeiT-S: GEMM shapes and host element counts', () => {
    const ops = buildWorkload(VIT_PRESETS['deit-s']!, Array(12).fill(1)).filter((o) => o.encoder === 1);
    assert.deepEqual(
      ops.map((o) => (o.unit === 'pl' ? [o.name, o.gemm.m, o.gemm.k, o.gemm.n, o.repeat] : [o.name, o.elements])),
      [
        ['enc1.norm1', 197 * 384],
        ['enc1.qkv', 197, 384, 1152, 1],
        ['enc1.qk', 197, 64, 197, 6],
        ['enc1.softmax', 6 * 197 * 197],
        ['enc1.smv', 197, 197, 64, 6],
        ['enc1.proj', 197, 384, 384, 1],
        ['enc1.add1', 197 * 384],
        ['enc1.norm2', 197 * 384],
        ['enc1.fc1', 197, 384, 1536, 1],
        ['enc1.gelu', 197 * 1536],
        ['enc1.fc2', 197, 1536, 384, 1],
        ['enc1.add2', 197 * 384],
      ],
    );
  });

  it('heads: a class-token head, LV-ViT adds its token-labeling head, entropy on request', () => {
    const deit = buildWorkload(VIT_PRESETS['deit-s']!, Array(12).fill(1), { entropy: true });
    assert.deepEqual(
      gemms(deit)
        .filter((o) => o.kind === 'head')
        .map((o) => o.gemm),
      [{ m: 1, k: 384, n: 1000 }],
    );
    assert.equal(deit.at(-1)?.kind, 'entropy');
    const lv = gemms(buildWorkload(VIT_PRESETS['lv-vit-s']!, Array(16).fill(1)));
    assert.deepEqual(
      lv.filter((o) => o.kind === 'head').map((o) => o.gemm.m),
      [1, 196],
    );
  });

  it('masks: bit strings, comma lists, deepest-skipped-first efforts, readable errors', () => {
    assert.deepEqual(parseMask('1101', 4), [1, 1, 0, 1]);
    assert.deepEqual(parseMask('[1, 0, 1, 1]', 4), [1, 0, 1, 1]);
    assert.deepEqual(deepestSkippedMask(5, 3), [1, 1, 1, 0, 0]);
    assert.throws(
      () => parseMask('1121', 4),
      (e: unknown) => e instanceof ConfigError && /--active/.test(e.message),
    );
    assert.throws(() => deepestSkippedMask(12, 13), /--effort/);
    const bad = { ...VIT_PRESETS['deit-s']!, heads: 5 };
    assert.throws(() => checkVit(bad, 'x'), /heads/);
  });
});
