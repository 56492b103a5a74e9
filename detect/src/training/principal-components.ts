/**
 * The leading principal components of standardised rows: a few dozen
 * directions that carry most of the spread of a window's 258 features, so
 * that a logistic regression fitted on a few thousand recordings has a
 * few dozen weights to learn, not hundreds. Power iteration on the
 * covariance with deflation: the components are needed once a fit, a
 * library for it would be the project's only numeric dependency.
 */
export interface PrincipalComponents {
  /** Per input dimension: the mean and standard deviation the rows were standardised with. */
  readonly mean: Float64Array;
  readonly std: Float64Array;
  /** `count` unit vectors of the input's dimension, largest variance first. */
  readonly components: readonly Float64Array[];
  /** Variance along each component, in standardised units. */
  readonly variances: readonly number[];
}

const ITERATIONS = 200;

export function principalComponents(rows: readonly ArrayLike<number>[], count: number): PrincipalComponents {
  const n = rows.length;
  if (n < 2) throw new RangeError(`principal components need at least 2 rows, got ${n}`);
  const d = rows[0]!.length;
  if (!(Number.isInteger(count) && count >= 1 && count <= d)) throw new RangeError(`component count must be 1 to ${d}, got ${count}`);
  const mean = new Float64Array(d);
  const std = new Float64Array(d);
  for (const r of rows) for (let j = 0; j < d; j++) mean[j]! += r[j]! / n;
  for (const r of rows) for (let j = 0; j < d; j++) std[j]! += (r[j]! - mean[j]!) ** 2 / n;
  // A feature that never moves is left at zero rather than divided by zero.
  for (let j = 0; j < d; j++) std[j] = Math.sqrt(std[j]!) || 1;
  const cov = Array.from({ length: d }, () => new Float64Array(d));
  const z = new Float64Array(d);
  for (const r of rows) {
    for (let j = 0; j < d; j++) z[j] = (r[j]! - mean[j]!) / std[j]!;
    for (let a = 0; a < d; a++) {
      const za = z[a]! / (n - 1);
      if (za === 0) continue;
      const row = cov[a]!;
      for (let b = a; b < d; b++) row[b]! += za * z[b]!;
    }
  }
  for (let a = 0; a < d; a++) for (let b = 0; b < a; b++) cov[a]![b] = cov[b]![a]!;

  const components: Float64Array[] = [];
  const variances: number[] = [];
  for (let c = 0; c < count; c++) {
    // A fixed start (not random): the same rows give the same components.
    let v = Float64Array.from({ length: d }, (_, j) => 1 + ((j * 7919 + c * 104729) % 97) / 97);
    let lambda = 0;
    for (let it = 0; it < ITERATIONS; it++) {
      const w = new Float64Array(d);
      for (let a = 0; a < d; a++) {
        let s = 0;
        const row = cov[a]!;
        for (let b = 0; b < d; b++) s += row[b]! * v[b]!;
        w[a] = s;
      }
      // Deflation: the directions already found are taken out of each step.
      for (const u of components) {
        let dot = 0;
        for (let j = 0; j < d; j++) dot += u[j]! * w[j]!;
        for (let j = 0; j < d; j++) w[j]! -= dot * u[j]!;
      }
      const norm = Math.hypot(...w);
      if (norm === 0) break;
      lambda = norm;
      v = w.map((x) => x / norm);
    }
    // A sign of our own choosing, so that a component reads the same in every fit: its largest entry positive.
    let largest = 0;
    for (let j = 1; j < d; j++) if (Math.abs(v[j]!) > Math.abs(v[largest]!)) largest = j;
    if (v[largest]! < 0) v = v.map((x) => -x);
    components.push(v);
    variances.push(lambda);
  }
  return { mean, std, components, variances };
}

/** A row's coordinates along the components. */
export function project(pc: PrincipalComponents, row: ArrayLike<number>): Float64Array {
  const out = new Float64Array(pc.components.length);
  pc.components.forEach((u, c) => {
    let s = 0;
    for (let j = 0; j < u.length; j++) s += u[j]! * ((row[j]! - pc.mean[j]!) / pc.std[j]!);
    out[c] = s;
  });
  return out;
}
