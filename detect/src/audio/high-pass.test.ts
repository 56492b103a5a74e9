import { describe, expect, it } from 'vitest';
import { MODEL_SAMPLE_RATE_HZ } from '../model/feature-spec.ts';
import { Windower } from '../stream/windower.ts';
import { highPass, INFRASOUND_CUTOFF_HZ } from './high-pass.ts';

const RATE = MODEL_SAMPLE_RATE_HZ;
const sine = (hz: number, seconds: number, amplitude = 1) => Float32Array.from({ length: seconds * RATE }, (_, i) => amplitude * Math.sin((2 * Math.PI * hz * i) / RATE));
/** RMS over the last half, where the filter has settled. */
const settledRms = (x: Float32Array) => {
  const tail = x.subarray(x.length >> 1);
  return Math.sqrt(tail.reduce((a, v) => a + v * v, 0) / tail.length);
};
/** Gain in dB of the filter at `hz`. */
const gainDb = (hz: number) => 20 * Math.log10(settledRms(highPass(sine(hz, 8), RATE)) / settledRms(sine(hz, 8)));

describe('the infrasound high-pass', () => {
  it('is a 4th-order Butterworth pair: −6 dB at the corner, −24 dB an octave under it, flat where the model reads', () => {
    // Two sections of |H|² = 1 / (1 + (fc/f)⁴) each.
    const expected = (hz: number) => 20 * Math.log10(1 / (1 + (INFRASOUND_CUTOFF_HZ / hz) ** 4));
    for (const hz of [1.3, 6, INFRASOUND_CUTOFF_HZ, 15.6, 31, 60, 500]) expect(gainDb(hz)).toBeCloseTo(expected(hz), 1);
    expect(gainDb(INFRASOUND_CUTOFF_HZ)).toBeCloseTo(-6, 0);
    expect(gainDb(1.3)).toBeLessThan(-70);
    expect(Math.abs(gainDb(60))).toBeLessThan(0.05);
  });

  it('takes a DC offset as settled, without a step to ring from', () => {
    const offset = Float32Array.from({ length: RATE }, () => 0.25);
    expect(Math.max(...highPass(offset, RATE).map(Math.abs))).toBeLessThan(1e-9);
    expect(highPass(new Float32Array(0), RATE)).toHaveLength(0);
    expect(() => highPass(offset, RATE, RATE)).toThrow(RangeError);
  });

  it("is in every window the windower cuts: a hand-held logger's 2 Hz sway is gone, the leak band is not", () => {
    const leakBand = sine(130, 4, 0.01);
    const swaying = Float32Array.from(leakBand, (v, i) => v + 0.3 * Math.sin((2 * Math.PI * 2 * i) / RATE));
    const windows = new Windower().push({ startMs: 0, sampleRateHz: RATE, samples: swaying });
    if (typeof windows === 'string') throw new Error(windows);
    const last = windows.at(-1)!.parts[0]!;
    // What is left is the 130 Hz tone (RMS 0.0071; off the mains grid, which the windower takes out too), not the sway (RMS 0.21).
    expect(settledRms(last)).toBeCloseTo(0.01 / Math.SQRT2, 3);
  });
});
