import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { centeredGram, ckaFromGrams, ckaMatrix, linearCka } from '../../src/search/phase1/cka.js';
import { seededRandom } from '../../src/search/phase1/rng.js';
import { InputError } from '../../src/errors.js';

const random = seededRandom(7);
const gaussian = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());

function randomMatrix(n: number, p: number): Float64Array {
  return Float64Array.from({ length: n * p }, gaussian);
}

/** X (n x p) times M (p x q). */
function matmul(x: Float64Array, n: number, m: Float64Array, p: number, q: number): Float64Array {
  const out = new Float64Array(n * q);
  for (let r = 0; r < n; r++)
    for (let c = 0; c < q; c++) {
      let s = 0;
      for (let k = 0; k < p; k++) s += x[r * p + k]! * m[k * q + c]!;
      out[r * q + c] = s;
    }
  return out;
}

/** A random p x p orthogonal matrix (Gram-Schmidt on Gaussian columns). */
function randomOrthogonal(p: number): Float64Array {
  const cols: number[][] = [];
  while (cols.length < p) {
    const v = Array.from({ length: p }, gaussian);
    for (const u of cols) {
      const d = v.reduce((s, x, i) => s + x * u[i]!, 0);
      for (let i = 0; i < p; i++) v[i]! -= d * u[i]!;
    }
    const norm = Math.hypot(...v);
    cols.push(v.map((x) => x / norm));
  }
  return Float64Array.from({ length: p * p }, (_, idx) => cols[idx % p]![Math.floor(idx / p)]!);
}

const n = 24;
const p = 10;

describe('linear CKA', () => {
  const x = randomMatrix(n, p);
  const y = randomMatrix(n, 6);
  const mixed = matmul(x, n, randomMatrix(p, p), p, p); // a non-orthogonal map of X

  it('CKA(X, X) = 1', () => {
    assert.ok(Math.abs(linearCka(x, x, n) - 1) < 1e-12);
  });

  it('is invariant to orthogonal transforms of X', () => {
    const rotated = matmul(x, n, randomOrthogonal(p), p, p);
    assert.ok(Math.abs(linearCka(rotated, y, n) - linearCka(x, y, n)) < 1e-12);
    assert.ok(Math.abs(linearCka(rotated, x, n) - 1) < 1e-12);
  });

  it('is invariant to isotropic scaling of X but not to an arbitrary linear map', () => {
    const scaled = x.map((v) => v * 37.5);
    assert.ok(Math.abs(linearCka(scaled, y, n) - linearCka(x, y, n)) < 1e-12);
    assert.ok(linearCka(mixed, x, n) < 0.999, 'a general linear map changes CKA, so the tests above can fail');
  });

  it('centres the examples: adding the same vector to every example changes nothing', () => {
    const shifted = x.map((v, i) => v + 100 * ((i % p) + 1));
    assert.ok(Math.abs(linearCka(shifted, y, n) - linearCka(x, y, n)) < 1e-9);
  });

  it('is symmetric', () => {
    assert.equal(linearCka(x, y, n), linearCka(y, x, n));
    assert.equal(linearCka(mixed, y, n), linearCka(y, mixed, n));
  });

  it('stays in [0, 1]', () => {
    for (let t = 0; t < 20; t++) {
      const v = linearCka(randomMatrix(n, 3 + t), randomMatrix(n, 2 + (t % 5)), n);
      assert.ok(v >= 0 && v <= 1, `CKA ${v} out of range`);
    }
  });

  it('equals the squared Pearson correlation for single-feature representations', () => {
    const a = randomMatrix(n, 1);
    const b = a.map((v) => v + 0.7 * gaussian());
    const mean = (v: Float64Array) => v.reduce((s, x) => s + x, 0) / v.length;
    const ma = mean(a);
    const mb = mean(b);
    let sab = 0;
    let saa = 0;
    let sbb = 0;
    for (let i = 0; i < n; i++) {
      sab += (a[i]! - ma) * (b[i]! - mb);
      saa += (a[i]! - ma) ** 2;
      sbb += (b[i]! - mb) ** 2;
    }
    assert.ok(Math.abs(linearCka(a, b, n) - (sab * sab) / (saa * sbb)) < 1e-12);
  });

  it('builds its Gram matrix as H X X^T H, also from float32 features wider than one column block', () => {
    // 5000 columns: taken in blocks of 2048, the last one partial, as a spilled tap is read.
    const wide = Float32Array.from({ length: n * 5000 }, () => 3 + gaussian());
    for (const [features, width] of [
      [x, p],
      [Float64Array.from(wide), 5000],
    ] as const) {
      const k = centeredGram(width === p ? features : wide, n);
      const gram = matmul(
        features,
        n,
        Float64Array.from({ length: width * n }, (_, i) => features[(i % n) * width + Math.floor(i / n)]!),
        width,
        n,
      );
      const rowMean = Array.from({ length: n }, (_, r) => gram.slice(r * n, (r + 1) * n).reduce((s, v) => s + v, 0) / n);
      const allMean = rowMean.reduce((s, v) => s + v, 0) / n;
      for (let r = 0; r < n; r++)
        for (let c = 0; c < n; c++) {
          const expected = gram[r * n + c]! - rowMean[r]! - rowMean[c]! + allMean;
          assert.ok(Math.abs(k.values[r * n + c]! - expected) < 1e-9 * Math.max(1, Math.abs(expected)), `[${r}][${c}] of ${width} columns`);
        }
    }
  });

  it('lays out the (D+1) x D matrix as CKA(MLP_i, A_j)', () => {
    const mlp = [0, 1, 2].map(() => centeredGram(randomMatrix(n, 4), n));
    const attn = [0, 1].map(() => centeredGram(randomMatrix(n, 4), n));
    const m = ckaMatrix(mlp, attn);
    assert.equal(m.length, 3);
    assert.equal(m[2]![1], ckaFromGrams(mlp[2]!, attn[1]!));
    assert.throws(() => ckaMatrix(mlp.slice(1), attn.slice(1).concat(attn)), InputError);
  });

  it('refuses inputs it cannot compare, naming the reason', () => {
    assert.throws(() => linearCka(new Float64Array(6), new Float64Array(6), 1), /at least 2 examples/);
    assert.throws(() => linearCka(new Float64Array(7), new Float64Array(6), 2), /do not split into 2 examples/);
    assert.throws(() => linearCka(new Float64Array(6).fill(3), randomMatrix(2, 3), 2), /identical for every example/);
  });
});
