import { describe, expect, it } from 'vitest';
import {
  BAND_COUNT,
  BAND_FEATURE_COUNT,
  FEATURE_COUNT,
  FEATURE_GROUPS,
  LOW_BIN_COUNT,
  LOW_FEATURE_GROUPS,
  LOW_FIRST_BIN,
  LOW_FRAME_SAMPLES,
  MODEL_SAMPLE_RATE_HZ,
  WINDOW_SAMPLES,
  bandFilterbank,
} from './feature-spec.ts';
import { referenceFeatures } from './reference-features.ts';

function noise(seed: number): Float32Array {
  let s = seed >>> 0;
  const r = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32) - 0.5;
  return Float32Array.from({ length: WINDOW_SAMPLES }, () => r() + r() + r());
}
const group = (f: Float32Array, g: (typeof FEATURE_GROUPS)[number]) => f.subarray(FEATURE_GROUPS.indexOf(g) * BAND_COUNT, (FEATURE_GROUPS.indexOf(g) + 1) * BAND_COUNT);
const lowGroup = (f: Float32Array, g: (typeof LOW_FEATURE_GROUPS)[number]) => {
  const start = BAND_FEATURE_COUNT + LOW_FEATURE_GROUPS.indexOf(g) * LOW_BIN_COUNT;
  return f.subarray(start, start + LOW_BIN_COUNT);
};

describe('reference features', () => {
  it('do not depend on the recording level (real recordings are uncalibrated)', () => {
    const x = noise(1).map((v) => v * 0.01);
    const a = referenceFeatures(x);
    const b = referenceFeatures(x.map((v) => v * 30));
    expect(a).toHaveLength(FEATURE_COUNT);
    for (let i = 0; i < FEATURE_COUNT; i++) expect(b[i], `feature ${i}`).toBeCloseTo(a[i]!, 3);
  });

  it('tell a tone from hiss in its band (sflat) and a burst from steady noise (tflat)', () => {
    const { centresHz } = bandFilterbank();
    const band = centresHz.findIndex((c) => c > 600);
    const hz = centresHz[band]!;
    const hiss = noise(2).map((v) => v * 0.01);
    const tone = hiss.map((v, i) => v + 0.2 * Math.sin((2 * Math.PI * hz * i) / MODEL_SAMPLE_RATE_HZ));
    expect(group(referenceFeatures(tone), 'sflat')[band]!).toBeGreaterThan(group(referenceFeatures(hiss), 'sflat')[band]! + 1);
    const burst = hiss.map((v, i) => (i > 1800 && i < 2200 ? v * 100 : v));
    expect(group(referenceFeatures(burst), 'tflat')[band]!).toBeGreaterThan(group(referenceFeatures(hiss), 'tflat')[band]! + 1);
  });

  it('resolve a low tone to its own 7.8 Hz bin of the low-frequency block, and a rumble that comes and goes by its spread', () => {
    // 117 Hz: 15 bins of 7.8 Hz, between two of the ERB bands' 15.6 Hz bins.
    const binHz = MODEL_SAMPLE_RATE_HZ / LOW_FRAME_SAMPLES;
    const j = 15 - LOW_FIRST_BIN;
    const hiss = noise(3).map((v) => v * 0.01);
    const tone = hiss.map((v, i) => v + 0.05 * Math.sin((2 * Math.PI * 15 * binHz * i) / MODEL_SAMPLE_RATE_HZ));
    const withTone = lowGroup(referenceFeatures(tone), 'lowMedian');
    const without = lowGroup(referenceFeatures(hiss), 'lowMedian');
    expect(withTone[j]! - without[j]!).toBeGreaterThan(3);
    // Two bins away the tone's Hann leakage is down by > 30 dB.
    expect(withTone[j + 2]! - without[j + 2]!).toBeLessThan(1);
    const rumble = hiss.map((v, i) => v + (i > 1500 && i < 2500 ? 0.1 * Math.sin((2 * Math.PI * 15 * binHz * i) / MODEL_SAMPLE_RATE_HZ) : 0));
    expect(lowGroup(referenceFeatures(rumble), 'lowStd')[j]!).toBeGreaterThan(lowGroup(referenceFeatures(tone), 'lowStd')[j]! + 1);
  });
});
