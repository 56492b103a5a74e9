import { describe, expect, it } from 'vitest';
import { principalComponents, project } from './principal-components.ts';

/** Deterministic standard normal draws (Box–Muller on an LCG). */
function normals(seed: number) {
  let s = seed >>> 0;
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 1) / 2 ** 32;
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}

describe('principal components', () => {
  it('finds the directions the rows spread along, largest first, and projects onto them', () => {
    // Four dimensions, each of unit variance after standardising: x0 and x1 move together (one strong direction),
    // x2 and x3 are independent noise.
    const g = normals(3);
    const rows = Array.from({ length: 4000 }, () => {
      const a = g();
      return [a + 0.1 * g(), 2 * a + 0.2 * g(), g(), 5 + 3 * g()];
    });
    const pc = principalComponents(rows, 2);
    const first = pc.components[0]!;
    // (1, 1, 0, 0)/sqrt 2, up to the sign the function fixes (largest entry positive).
    expect(first[0]).toBeCloseTo(Math.SQRT1_2, 1);
    expect(first[1]).toBeCloseTo(Math.SQRT1_2, 1);
    expect(Math.abs(first[2]!)).toBeLessThan(0.05);
    expect(Math.abs(first[3]!)).toBeLessThan(0.05);
    // Variances: ~2 along the shared direction, ~1 along the next.
    expect(pc.variances[0]).toBeGreaterThan(1.9);
    expect(pc.variances[1]).toBeGreaterThan(0.9);
    expect(pc.variances[1]).toBeLessThan(1.1);
    // The second is orthogonal to the first.
    expect(Math.abs(first.reduce((s, v, j) => s + v * pc.components[1]![j]!, 0))).toBeLessThan(1e-6);
    // The mean row projects to the origin; a row one standard deviation along the first direction, to ~sqrt 2.
    expect([...project(pc, pc.mean)].map((v) => Math.abs(v))).toEqual([expect.closeTo(0, 9), expect.closeTo(0, 9)]);
    const along = [0, 1, 2, 3].map((j) => pc.mean[j]! + pc.std[j]! * (j < 2 ? 1 : 0));
    expect(project(pc, along)[0]).toBeCloseTo(Math.SQRT2, 1);
  });

  it('refuses too few rows or a component count the rows cannot hold', () => {
    expect(() => principalComponents([[1, 2]], 1)).toThrow(/at least 2 rows/);
    expect(() => principalComponents([[1, 2], [3, 4]], 3)).toThrow(/component count must be 1 to 2/);
  });
});
