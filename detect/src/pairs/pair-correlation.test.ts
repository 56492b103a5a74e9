import { describe, expect, it } from 'vitest';
import { fft, inverseFft } from '../audio/fft.ts';
import { correlatePair, correlatePairs, placeLeak } from './pair-correlation.ts';

function noise(seed: number, n: number): Float32Array {
  // mulberry32: streams of nearby seeds are unrelated (an LCG's are not, and would correlate).
  let s = seed >>> 0;
  const u = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (((t ^ (t >>> 14)) >>> 0) + 1) / 2 ** 32;
  };
  // Gaussian by Box–Muller: a broadband floor.
  return Float32Array.from({ length: n }, () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u()));
}

/** A band-limited hiss (a leak's): noise through a crude two-pole band-pass. */
function hiss(seed: number, n: number): Float32Array {
  const x = noise(seed, n);
  const out = new Float32Array(n);
  let y1 = 0;
  let y2 = 0;
  for (let i = 0; i < n; i++) {
    const y = x[i]! + 1.6 * y1 - 0.8 * y2;
    out[i] = y * 0.1;
    y2 = y1;
    y1 = y;
  }
  return out;
}

describe('the FFT', () => {
  it('gives back what it was given through the inverse, and a unit impulse a flat spectrum', () => {
    const x = noise(3, 64);
    const re = Float64Array.from(x);
    const im = new Float64Array(64);
    fft(re, im);
    inverseFft(re, im);
    re.forEach((v, i) => expect(v).toBeCloseTo(x[i]!, 6));
    const impulse = new Float64Array(16);
    impulse[0] = 1;
    const zero = new Float64Array(16);
    fft(impulse, zero);
    impulse.forEach((v) => expect(v).toBeCloseTo(1, 12));
    expect(() => fft(new Float64Array(12), new Float64Array(12))).toThrow(/power of two/);
  });
});

describe("a correlator pair's cross-correlation (GCC-PHAT)", () => {
  const fs = 4000;
  const n = 10 * fs;

  it('peaks where one sound reaches the second sensor later, under each sensor\'s own louder noise', () => {
    for (const delay of [0, 37, -120]) {
      const source = hiss(7, n + 400);
      // a hears the source at sample 200 + t, b at 200 + t − delay: b is `delay` samples late.
      const ownA = noise(11, n);
      const a = Float32Array.from({ length: n }, (_, t) => source[200 + t]! + 0.5 * ownA[t]!);
      const ownB = noise(12, n);
      const b = Float32Array.from({ length: n }, (_, t) => source[200 + t - delay]! + 0.5 * ownB[t]!);
      const c = correlatePair(a, b, fs, 0.05);
      expect(c.lagSamples).toBe(delay);
      expect(c.lagS).toBeCloseTo(delay / fs, 12);
      expect(c.ratio).toBeGreaterThan(20);
    }
  });

  it('finds no peak in two unrelated recordings, and none from an offset both carry', () => {
    const a = noise(21, n);
    const b = noise(22, n);
    const plain = correlatePair(a, b, fs, 0.05);
    expect(plain.ratio).toBeLessThan(8);
    // The same recordings with a large DC offset each: still no peak (the means are taken out).
    const offset = correlatePair(a.map((v) => v + 40), b.map((v) => v - 25), fs, 0.05);
    expect(offset.ratio).toBeLessThan(8);
    expect(offset.ratio).toBeCloseTo(plain.ratio, 3);
  });

  it('leaves out the lags of a known source: the next peak is the leak', () => {
    const leak = hiss(31, n + 400);
    const valve = hiss(32, n + 400);
    const ownA = noise(33, n);
    const ownB = noise(34, n);
    // A valve heard 150 samples later at b (louder than the leak), a leak 40 samples later.
    const a = Float32Array.from({ length: n }, (_, t) => 2 * valve[200 + t]! + leak[200 + t]! + 0.5 * ownA[t]!);
    const b = Float32Array.from({ length: n }, (_, t) => 2 * valve[200 + t - 150]! + leak[200 + t - 40]! + 0.5 * ownB[t]!);
    expect(correlatePair(a, b, fs, 0.05).lagSamples).toBe(150);
    const masked = correlatePair(a, b, fs, 0.05, [[145 / fs, 155 / fs]]);
    expect(masked.lagSamples).toBe(40);
    expect(masked.ratio).toBeGreaterThan(10);
  });

  it("sums several short pairs' whitened cross-spectra (a night's frames), and in the leak's band leaves out bins of noise alone", () => {
    // Eight 1 s pairs of a hiss (resonant near 300 Hz at 4 kHz) under each sensor's own noise twice as loud, b 25 samples late.
    const pairs = Array.from({ length: 8 }, (_, k) => {
      const source = hiss(100 + k, fs + 100);
      const ownA = noise(200 + k, fs);
      const ownB = noise(300 + k, fs);
      return {
        a: Float32Array.from({ length: fs }, (_, t) => source[50 + t]! + 2 * ownA[t]!),
        b: Float32Array.from({ length: fs }, (_, t) => source[50 + t - 25]! + 2 * ownB[t]!),
      };
    });
    const one = correlatePairs(pairs.slice(0, 1), fs, 0.05);
    const eight = correlatePairs(pairs, fs, 0.05);
    // One second alone shows nothing; eight, summed, peak at the delay; in the hiss's band, higher and exact.
    expect(Math.abs(one.lagSamples - 25)).toBeGreaterThan(1);
    expect(Math.abs(eight.lagSamples - 25)).toBeLessThanOrEqual(1);
    expect(eight.ratio).toBeGreaterThan(one.ratio);
    const banded = correlatePairs(pairs, fs, 0.05, [], [150, 500]);
    expect(banded.lagSamples).toBe(25);
    expect(banded.ratio).toBeGreaterThan(1.3 * eight.ratio);
    // One pair alone is correlatePair.
    expect(correlatePair(pairs[0]!.a, pairs[0]!.b, fs, 0.05)).toEqual(one);
  });

  it('refuses recordings it cannot correlate', () => {
    expect(() => correlatePair(new Float32Array(10), new Float32Array(11), fs, 0.01)).toThrow(/one length/);
    expect(() => correlatePair(new Float32Array(10), new Float32Array(10), fs, 0)).toThrow(/maxLagS/);
  });
});

describe('placing the leak', () => {
  it('puts it at (D − c·τ)/2 from the first sensor, within the stretch between them', () => {
    // 150 m of ductile iron at 1,200 m/s; the leak 40 m from a: b hears it (110 − 40)/1200 s later.
    expect(placeLeak(150, 1200, (110 - 40) / 1200)).toBeCloseTo(40, 9);
    expect(placeLeak(150, 1200, 0)).toBe(75);
    expect(placeLeak(150, 1200, 1)).toBe(0);
    expect(placeLeak(150, 1200, -1)).toBe(150);
  });
});
