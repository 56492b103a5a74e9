import { describe, expect, it } from 'vitest';
import { createRng } from '../../random/prng.ts';
import { bandPower } from './band-power.ts';
import { binGrid, binPowers, cachedPowers, dropCachedPowers, synthesiseInto, totalPower } from './spectral-noise.ts';

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('spectral noise', () => {
  const grid = binGrid(8000, 8000);
  const band = binPowers(grid, (f) => (f > 500 && f < 1000 ? 1 : 0), 1e-3);
  const low = binPowers(grid, (f) => (f < 200 ? 1 : 0), 2e-3);

  it('puts the asked RMS into the reference band, wherever the shape lies', () => {
    expect(Math.sqrt(totalPower(band))).toBeCloseTo(1e-3, 5);
    // A 4 kHz sensor sees only up to 2 kHz of a shape normalised over 0-8 kHz.
    const wide = (f: number) => (f < 4000 ? 1 : 0);
    expect(totalPower(binPowers(binGrid(4000, 4000), wide, 1)) / totalPower(binPowers(binGrid(16000, 16000), wide, 1))).toBeCloseTo(0.5, 2);
  });

  it('synthesises Gaussian noise of that power and spectrum', () => {
    const variances: number[] = [];
    const inBand: number[] = [];
    for (let i = 0; i < 6; i++) {
      const x = new Float64Array(grid.sampleCount);
      synthesiseInto(x, grid, [{ powers: band, rng: createRng(1, 'band', i) }]);
      variances.push(mean(Array.from(x, (v) => v * v)));
      inBand.push(bandPower(x, 8000, 500, 1000) / bandPower(x, 8000, 0, 4000));
      // Gaussian: kurtosis 3.
      const m4 = mean(Array.from(x, (v) => v ** 4));
      expect(m4 / variances.at(-1)! ** 2).toBeGreaterThan(2.7);
      expect(m4 / variances.at(-1)! ** 2).toBeLessThan(3.3);
    }
    expect(Math.sqrt(mean(variances)) / 1e-3).toBeGreaterThan(0.95);
    expect(Math.sqrt(mean(variances)) / 1e-3).toBeLessThan(1.05);
    expect(Math.min(...inBand)).toBeGreaterThan(0.98);
  });

  it('makes two independent signals from one transform, each with its own spectrum and envelope', () => {
    const a = new Float64Array(grid.sampleCount);
    const b = new Float64Array(grid.sampleCount);
    synthesiseInto(a, grid, [{ powers: band, rng: createRng(2, 'a') }]);
    synthesiseInto(b, grid, [{ powers: low, rng: createRng(2, 'b') }]);
    const both = new Float64Array(grid.sampleCount);
    const ramp = Float64Array.from({ length: grid.sampleCount }, (_, i) => i / grid.sampleCount);
    synthesiseInto(both, grid, [
      { powers: band, rng: createRng(2, 'a') },
      { powers: low, rng: createRng(2, 'b'), envelope: ramp },
    ]);
    // Same streams, same samples: packing two sources in one transform changes neither.
    for (let i = 0; i < both.length; i += 331) expect(both[i]).toBeCloseTo(a[i]! + b[i]! * ramp[i]!, 12);
    let dot = 0;
    for (let i = 0; i < a.length; i++) dot += a[i]! * b[i]!;
    const corr = dot / Math.sqrt(a.reduce((s, v) => s + v * v, 0) * b.reduce((s, v) => s + v * v, 0));
    expect(Math.abs(corr)).toBeLessThan(0.05);
  });

  it("computes a source's powers once per grid until they are dropped", () => {
    const source = {};
    let made = 0;
    const make = () => (made++, new Float64Array(4));
    const first = cachedPowers(source, grid, 'hiss', make);
    expect(cachedPowers(source, grid, 'hiss', make)).toBe(first);
    cachedPowers(source, binGrid(4000, 4000), 'hiss', make);
    expect(made).toBe(2);
    dropCachedPowers();
    expect(cachedPowers(source, grid, 'hiss', make)).not.toBe(first);
    expect(made).toBe(3);
  });
});
