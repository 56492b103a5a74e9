import { describe, expect, it } from 'vitest';
import { RECORDING_VARIANTS } from './recording-variants.ts';

const RATE = 8000;
let seed = 11;
const hiss = Float32Array.from({ length: 2 * RATE }, () => 0.01 * ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32 - 0.5));
const rms = (x: Float32Array) => Math.sqrt(x.reduce((a, v) => a + v * v, 0) / x.length);
const variant = (name: string) => RECORDING_VARIANTS.find((v) => v.name === name)!.apply(hiss, RATE);
/** Power at `hz` as a sinusoid's, over the whole signal. */
function lineRms(x: Float32Array, hz: number): number {
  let re = 0;
  let im = 0;
  x.forEach((v, i) => {
    re += v * Math.cos((2 * Math.PI * hz * i) / RATE);
    im += v * Math.sin((2 * Math.PI * hz * i) / RATE);
  });
  return Math.sqrt(2 * (re * re + im * im)) / x.length;
}

describe('recording variants', () => {
  it('each does what it says, and leaves its input alone', () => {
    const before = Float32Array.from(hiss);
    const r = rms(hiss);
    expect(variant('as-recorded')).toEqual(hiss);
    expect(variant('dc-offset').reduce((a, v) => a + v, 0) / hiss.length).toBeCloseTo(0.05, 3);
    expect(rms(variant('quiet-gain')) / r).toBeCloseTo(10 ** (-30 / 20), 2);
    // Clicks well over twice the RMS are cut to it.
    const clicks = hiss.map((v, i) => (i % 100 === 0 ? 0.05 : v));
    const clipped = RECORDING_VARIANTS.find((v) => v.name === 'clipped')!.apply(clicks, RATE);
    expect(Math.max(...clipped.map(Math.abs))).toBeCloseTo(2 * rms(clicks), 6);
    expect(Math.max(...clicks)).toBeGreaterThan(4 * rms(clicks));
    expect(lineRms(variant('hum-60'), 60) / r).toBeCloseTo(3 / Math.SQRT2, 1);
    expect(lineRms(variant('hum-60'), 180) / r).toBeCloseTo(1.5 / Math.SQRT2, 1);
    expect(lineRms(variant('hum-50'), 50) / r).toBeCloseTo(3 / Math.SQRT2, 1);
    expect(lineRms(variant('rumble'), 6) / r).toBeCloseTo(5 / Math.SQRT2, 1);
    expect(hiss).toEqual(before);
    expect(new Set(RECORDING_VARIANTS.map((v) => v.name)).size).toBe(RECORDING_VARIANTS.length);
  });
});
