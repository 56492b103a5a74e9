import { describe, expect, it } from 'vitest';
import { chance, gaussian, poisson, shuffle } from './distributions.ts';
import { createRng } from './prng.ts';

const draw = (rng: { uint32(): number }, n: number) => Array.from({ length: n }, () => rng.uint32());

describe('seeded streams', () => {
  it('give the same sequence for the same seed and labels', () => {
    expect(draw(createRng(42, 'M-000001', 'use', 20300), 8)).toEqual(draw(createRng(42, 'M-000001', 'use', 20300), 8));
  });

  it('give unrelated sequences for another seed, label or label type', () => {
    const base = draw(createRng(42, 'M-000001', 'use', 20300), 4);
    expect(draw(createRng(43, 'M-000001', 'use', 20300), 4)).not.toEqual(base);
    expect(draw(createRng(42, 'M-000002', 'use', 20300), 4)).not.toEqual(base);
    expect(draw(createRng(42, 'M-000001', 'use', 20301), 4)).not.toEqual(base);
    expect(draw(createRng(42, 'M-000001', 'use', '20300'), 4)).not.toEqual(base);
    // Epoch milliseconds differ only above 32 bits here.
    expect(draw(createRng(1, 2 ** 32 + 5), 4)).not.toEqual(draw(createRng(1, 5), 4));
  });

  it('fill in bulk the same numbers as one at a time, and go on from there', () => {
    const one = createRng(9, 'bulk');
    const bulk = createRng(9, 'bulk');
    const filled = bulk.fill(new Uint32Array(1000));
    expect(Array.from(filled)).toEqual(draw(one, 1000));
    expect(bulk.uint32()).toBe(one.uint32());
  });

  it('are uniform enough for a simulation', () => {
    const rng = createRng(1, 'uniform');
    const bins = new Array<number>(10).fill(0);
    const n = 100_000;
    let outside = 0;
    for (let i = 0; i < n; i++) {
      const x = rng.next();
      if (x < 0 || x >= 1) outside++;
      else bins[Math.floor(x * 10)]!++;
    }
    expect(outside).toBe(0);
    for (const b of bins) expect(Math.abs(b - n / 10)).toBeLessThan(n / 100);
  });
});

describe('distributions', () => {
  it('draws standard normals', () => {
    const rng = createRng(2, 'gauss');
    const xs = Array.from({ length: 50_000 }, () => gaussian(rng));
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length;
    expect(Math.abs(mean)).toBeLessThan(0.02);
    expect(Math.abs(variance - 1)).toBeLessThan(0.03);
  });

  it('draws Poisson counts with the asked mean, small and large', () => {
    for (const mean of [0.2, 3, 80]) {
      const rng = createRng(3, 'poisson', mean);
      const n = 20_000;
      let sum = 0;
      for (let i = 0; i < n; i++) sum += poisson(rng, mean);
      expect(sum / n).toBeCloseTo(mean, mean < 1 ? 1 : 0);
    }
  });

  it('consumes a draw for a chance of zero, so rates do not shift other draws', () => {
    const a = createRng(4, 'x');
    const b = createRng(4, 'x');
    chance(a, 0);
    chance(b, 0.7);
    expect(a.uint32()).toBe(b.uint32());
  });

  it('shuffles into a permutation', () => {
    const xs = shuffle(createRng(5, 's'), Array.from({ length: 50 }, (_, i) => i));
    expect([...xs].sort((p, q) => p - q)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(xs).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
  });
});
