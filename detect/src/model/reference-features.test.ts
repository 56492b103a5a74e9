import { describe, expect, it } from 'vitest';
import { BAND_COUNT, FEATURE_COUNT, FEATURE_GROUPS, MODEL_SAMPLE_RATE_HZ, WINDOW_SAMPLES, bandFilterbank } from './feature-spec.ts';
import { referenceFeatures } from './reference-features.ts';

function noise(seed: number): Float32Array {
  let s = seed >>> 0;
  const r = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32) - 0.5;
  return Float32Array.from({ length: WINDOW_SAMPLES }, () => r() + r() + r());
}
const group = (f: Float32Array, g: (typeof FEATURE_GROUPS)[number]) => f.subarray(FEATURE_GROUPS.indexOf(g) * BAND_COUNT, (FEATURE_GROUPS.indexOf(g) + 1) * BAND_COUNT);

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
});
