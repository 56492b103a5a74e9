import { describe, expect, it } from 'vitest';
import { KNOWN_SOURCE_M, judgePair, knownSourceLags } from './pair-verdict.ts';

describe('knownSourceLags', () => {
  it("leaves out the stretch's edges and a mapped source's place, each KNOWN_SOURCE_M wide", () => {
    // 200 m at 1,000 m/s: a sensor's place is lag ±0.2 s; 10 m from it, ±0.18 s.
    const [upper, lower, valve] = knownSourceLags(200, 1000, [50]);
    expect(upper).toEqual([0.18, Number.POSITIVE_INFINITY]);
    expect(lower).toEqual([Number.NEGATIVE_INFINITY, -0.18]);
    // A valve 50 m from a peaks at (200 − 100)/1000 = 0.1 s; ±10 m is ±0.02 s.
    expect(valve![0]).toBeCloseTo(0.08, 12);
    expect(valve![1]).toBeCloseTo(0.12, 12);
    // One beyond a sensor is at its edge.
    expect(knownSourceLags(200, 1000, [-30])[2]![0]).toBeCloseTo(0.2 - (2 * KNOWN_SOURCE_M) / 1000, 12);
  });
});

describe('judgePair', () => {
  it('refuses a spacing its own edges would swallow, and a wave speed that is not one', () => {
    const x = new Float32Array(4000);
    expect(() => judgePair(x, x, 4000, { spacingM: 20, material: 'steel', waveSpeedMs: 1300 })).toThrow(/more than 20 m apart/);
    expect(() => judgePair(x, x, 4000, { spacingM: 100, material: 'steel', waveSpeedMs: 0 })).toThrow(/wave speed must be positive/);
  });

  it("places a delayed copy and says how near: the lag's step and 5 % of the wave speed", () => {
    let s = 3;
    const source = Float32Array.from({ length: 12_000 }, () => ((s = (s * 69069 + 1) >>> 0) / 2 ** 32) - 0.5);
    const a = source.subarray(100, 8100);
    // b hears it 40 samples (10 ms at 4 kHz) earlier than a: the source is nearer b.
    const b = source.subarray(140, 8140);
    const v = judgePair(a, b, 4000, { spacingM: 100, material: 'steel', waveSpeedMs: 1000 });
    expect(v.lagS).toBeCloseTo(-0.01, 12);
    expect(v.fromAM).toBeCloseTo(55, 9);
    expect(v.fromBM).toBeCloseTo(45, 9);
    expect(v.withinM).toBeCloseTo(1000 / 8000 + (0.05 * 1000 * 0.01) / 2, 12);
    expect(v.leak).toBe(true);
  });
});
