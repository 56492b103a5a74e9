import { describe, expect, it } from 'vitest';
import { MODEL_SAMPLE_RATE_HZ, WINDOW_SAMPLES } from '../model/feature-spec.ts';
import { gainSquared, highPass, highShelf, peaking } from '../audio/biquad.ts';
import { DEFAULT_COLOURING, colour, drawColouring } from './device-colouring.ts';

const sine = (hz: number) => Float32Array.from({ length: WINDOW_SAMPLES }, (_, n) => Math.sin((2 * Math.PI * hz * n) / MODEL_SAMPLE_RATE_HZ));
const rms = (x: Float32Array, from = 0) => Math.sqrt(x.subarray(from).reduce((s, v) => s + v * v, 0) / (x.length - from));
const db = (g2: number) => 10 * Math.log10(g2);

describe('device colouring', () => {
  it('gives each section the gain it was drawn with', () => {
    expect(db(gainSquared([peaking(500, 12, 4)], 500))).toBeCloseTo(12, 6);
    expect(db(gainSquared([peaking(500, -9, 4)], 500))).toBeCloseTo(-9, 6);
    expect(db(gainSquared([peaking(500, 12, 4)], 100))).toBeLessThan(1);
    expect(db(gainSquared([highShelf(400, 8)], 1900))).toBeCloseTo(8, 0);
    expect(db(gainSquared([highShelf(400, 8)], 30))).toBeCloseTo(0, 0);
    expect(db(gainSquared([highPass(200)], 200))).toBeCloseTo(-3.01, 1);
    expect(db(gainSquared([highPass(200)], 50))).toBeLessThan(-20);
  });

  it('filters a tone by the response it reports, from the first sample on', () => {
    const sections = [peaking(300, 10, 3), highShelf(800, -6), highPass(60)];
    for (const hz of [40, 150, 300, 700, 1500]) {
      const out = colour(sine(hz), sections);
      expect(out).toHaveLength(WINDOW_SAMPLES);
      const want = db(gainSquared(sections, hz));
      // The whole window (lead-in included in the filtering, so no start-up transient) and its tail agree.
      expect(db((rms(out) / rms(sine(hz))) ** 2)).toBeCloseTo(want, 0);
      expect(db((rms(out, 2000) / rms(sine(hz), 2000)) ** 2)).toBeCloseTo(want, 0);
    }
  });

  it('draws responses inside its ranges, and the same ones for the same random numbers', () => {
    const lcg = (seed: number) => () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const a = drawColouring(lcg(7));
    expect(drawColouring(lcg(7))).toEqual(a);
    const r = lcg(11);
    for (let i = 0; i < 200; i++) {
      const s = drawColouring(r);
      expect(s.length).toBeGreaterThanOrEqual(1);
      expect(s.length).toBeLessThanOrEqual(DEFAULT_COLOURING.maxPeaks + 2);
      // Gains stay within the sum of the ranges' extremes over the model's band.
      for (const hz of [30, 100, 400, 1000, 1900]) {
        const g = db(gainSquared(s, hz));
        expect(Number.isFinite(g)).toBe(true);
        expect(g).toBeLessThan(3 * DEFAULT_COLOURING.peakGainDb[1] + DEFAULT_COLOURING.shelfGainDb[1] + 1);
      }
    }
  });

  it('leaves its input alone', () => {
    const x = sine(440);
    const copy = Float32Array.from(x);
    colour(x, [peaking(440, 12, 2)]);
    expect(x).toEqual(copy);
  });
});
