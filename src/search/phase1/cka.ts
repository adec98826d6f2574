/**
 * Linear CKA (Kornblith et al. 2019), the similarity measure behind PIVOT's Path-Score.
 *
 * Each representation is an n x p matrix: n examples, p = tokens x dim features
 * (a [n, tokens, dim] activation tensor flattened per example). Linear CKA compares
 * the examples' Gram matrices, so two layers can be compared whatever their width:
 *
 *   Kc = H X X^T H,  Lc = H Y Y^T H  (H = I - 11^T/n centres the examples)
 *   CKA(X, Y) = <Kc, Lc>_F / (||Kc||_F ||Lc||_F)
 *
 * Everything is float64: activations arrive as float32, but the Gram entries are
 * sums of thousands of products, which float32 would round visibly.
 */
import { InputError } from '../../errors.js';

/** A float32 or float64 row-major n x p matrix. */
export type FeatureMatrix = Float32Array | Float64Array;

/** A symmetric n x n centred Gram matrix with its Frobenius norm, ready for CKA. */
export interface CenteredGram {
  n: number;
  /** Row-major n x n values. */
  values: Float64Array;
  /** ||Kc||_F. */
  norm: number;
}

function checkShape(features: FeatureMatrix, n: number, name: string): number {
  if (!Number.isInteger(n) || n < 2) throw new InputError(name, `CKA needs at least 2 examples, got ${n}`);
  const p = features.length / n;
  if (!Number.isInteger(p) || p < 1) throw new InputError(name, `${features.length} values do not split into ${n} examples`);
  return p;
}

/** Columns centred and multiplied per block: n x 2048 float64 values (4 MiB at 256 examples), never a float64 copy of X. */
const BLOCK_COLUMNS = 2048;

/**
 * Writes columns [from, from + count) of an n x p matrix into `block` (n x count, row-major).
 * A tap spilled to disk is read this way, one block at a time.
 */
export type ColumnReader = (block: Float64Array, from: number, count: number) => void;

/**
 * Centred Gram matrix H X X^T H of an n x p matrix whose columns `read` returns.
 *
 * Centring the feature columns first, then taking the Gram matrix, equals double-centring
 * X X^T, and avoids subtracting large, nearly equal numbers. The columns are taken a block at
 * a time (centring needs a column's n values, not the whole matrix), centred into float64,
 * and their products added to the n x n sums: memory is one block, whatever p is.
 */
export function centeredGramByColumns(read: ColumnReader, n: number, p: number): CenteredGram {
  const width = Math.min(p, BLOCK_COLUMNS);
  const x = new Float64Array(n * width);
  const values = new Float64Array(n * n);
  for (let from = 0; from < p; from += width) {
    const c = Math.min(width, p - from);
    read(x, from, c);
    for (let f = 0; f < c; f++) {
      let mean = 0;
      for (let r = 0; r < n; r++) mean += x[r * c + f]!;
      mean /= n;
      for (let r = 0; r < n; r++) x[r * c + f]! -= mean;
    }
    for (let a = 0; a < n; a++)
      for (let b = a; b < n; b++) {
        let dot = 0;
        for (let f = 0, i = a * c, j = b * c; f < c; f++, i++, j++) dot += x[i]! * x[j]!;
        values[a * n + b]! += dot;
      }
  }
  let sumSquares = 0;
  for (let a = 0; a < n; a++)
    for (let b = a; b < n; b++) {
      const dot = values[a * n + b]!;
      values[b * n + a] = dot;
      sumSquares += a === b ? dot * dot : 2 * dot * dot;
    }
  return { n, values, norm: Math.sqrt(sumSquares) };
}

/** Centred Gram matrix H X X^T H of `features` (n examples x p features, in memory). */
export function centeredGram(features: FeatureMatrix, n: number, name = 'features'): CenteredGram {
  const p = checkShape(features, n, name);
  return centeredGramByColumns(
    (block, from, count) => {
      for (let r = 0; r < n; r++) block.set(features.subarray(r * p + from, r * p + from + count), r * count);
    },
    n,
    p,
  );
}

/** CKA between two centred Gram matrices over the same n examples; in [0, 1]. */
export function ckaFromGrams(k: CenteredGram, l: CenteredGram): number {
  if (k.n !== l.n) throw new InputError('CKA', `Gram matrices over different example counts (${k.n} vs ${l.n})`);
  if (k.norm === 0 || l.norm === 0) throw new InputError('CKA', 'a representation is identical for every example, so CKA is undefined');
  let inner = 0;
  for (let i = 0; i < k.values.length; i++) inner += k.values[i]! * l.values[i]!;
  // <Kc, Lc> = ||Xc^T Yc||_F^2 >= 0, and Cauchy-Schwarz bounds the ratio by 1; clamp rounding.
  return Math.min(1, Math.max(0, inner / (k.norm * l.norm)));
}

/** Linear CKA of two representations of the same n examples. */
export function linearCka(x: FeatureMatrix, y: FeatureMatrix, n: number): number {
  return ckaFromGrams(centeredGram(x, n, 'X'), centeredGram(y, n, 'Y'));
}

/**
 * The Phase 1 CKA matrix: rows MLP_0..MLP_D, columns A_1..A_D, entry [i][j-1] = CKA(MLP_i, A_j).
 * Each Gram matrix is computed once and reused across its row or column.
 */
export function ckaMatrix(mlp: readonly CenteredGram[], attn: readonly CenteredGram[]): number[][] {
  if (mlp.length !== attn.length + 1)
    throw new InputError('CKA matrix', `needs D+1 MLP taps for D attention taps, got ${mlp.length} and ${attn.length}`);
  return mlp.map((k) => attn.map((l) => ckaFromGrams(k, l)));
}
