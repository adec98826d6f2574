/**
 * Non-negative least squares: minimise |A x - b|^2 subject to x >= 0, by Lawson and Hanson's
 * active-set algorithm (Solving Least Squares Problems, 1974, ch. 23). The unconstrained
 * sub-problems are solved by ml-matrix's SVD, which also copes with collinear columns (it
 * returns the minimum-norm solution). Columns are scaled to unit norm first so costs of very
 * different magnitudes (ns per MAC next to ns per call) are treated alike; the scaling does
 * not change the constrained minimiser.
 */
import { Matrix, solve } from 'ml-matrix';

export interface NnlsResult {
  x: number[];
  /** A x - b per row. */
  residuals: number[];
  /** Outer iterations used. */
  iterations: number;
}

export function nnls(rows: readonly (readonly number[])[], rhs: readonly number[], maxIterations = 500): NnlsResult {
  const m = rows.length;
  const n = rows[0]?.length ?? 0;
  if (m === 0 || n === 0 || rhs.length !== m) throw new RangeError(`nnls: ${m} rows x ${n} columns with ${rhs.length} right-hand values`);
  const scale = Array.from({ length: n }, (_, j) => Math.hypot(...rows.map((r) => r[j]!)) || 1);
  const a = new Matrix(rows.map((r) => r.map((v, j) => v / scale[j]!)));
  const b = Matrix.columnVector([...rhs]);
  const tol = 1e-10 * Math.max(1, b.norm());
  let x = new Array<number>(n).fill(0);
  const passive = new Set<number>();
  const gradient = (): number[] =>
    a
      .transpose()
      .mmul(b.clone().sub(a.mmul(Matrix.columnVector(x))))
      .getColumn(0);
  /** Unconstrained least squares on the passive columns, zero elsewhere. */
  const solvePassive = (): number[] => {
    const cols = [...passive].sort((p, q) => p - q);
    const sol = solve(a.subMatrixColumn(cols), b, true).getColumn(0);
    const s = new Array<number>(n).fill(0);
    cols.forEach((j, i) => (s[j] = sol[i]!));
    return s;
  };
  let iterations = 0;
  for (; iterations < maxIterations; iterations++) {
    const w = gradient();
    let t = -1;
    for (let j = 0; j < n; j++) if (!passive.has(j) && w[j]! > tol && (t < 0 || w[j]! > w[t]!)) t = j;
    if (t < 0) break;
    passive.add(t);
    let s = solvePassive();
    // Inner loop: step back toward x until every passive variable is positive.
    while ([...passive].some((j) => s[j]! <= 0)) {
      let alpha = Infinity;
      for (const j of passive) if (s[j]! <= 0) alpha = Math.min(alpha, x[j]! / (x[j]! - s[j]!));
      x = x.map((xj, j) => xj + alpha * (s[j]! - xj));
      for (const j of [...passive]) if (x[j]! <= 1e-15) passive.delete(j);
      if (passive.size === 0) break;
      s = solvePassive();
    }
    x = passive.size === 0 ? new Array<number>(n).fill(0) : s;
  }
  const fitted = a.mmul(Matrix.columnVector(x)).getColumn(0);
  return { x: x.map((v, j) => Math.max(0, v) / scale[j]!), residuals: fitted.map((v, i) => v - rhs[i]!), iterations };
}
