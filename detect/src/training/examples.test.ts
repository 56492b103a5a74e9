import { describe, expect, it } from 'vitest';
import { FEATURE_COUNT } from '../model/feature-spec.ts';
import { DEFAULT_WINDOWING } from '../stream/windower.ts';
import type { FrameMeta, SplitData } from './dataset.ts';
import { buildExamples, subsetExamples } from './examples.ts';

/** Frames of white noise at 4 kHz, one 1 s window each. */
function noiseSplit(frames: number): SplitData {
  let s = 9;
  const pcm = new Int16Array(frames * 4000).map(() => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32 - 0.5) * 4000);
  const metas = Array.from({ length: frames }, (_, i) => ({
    id: `f${i}`,
    sensorId: `S-${i % 2}`,
    sensorType: i % 2 === 0 ? 'accelerometer' : 'hydrophone',
    startMs: i * 600_000,
    sampleRateHz: 4000,
    samples: 4000,
    offsetBytes: i * 8000,
    leak: false,
    audible: null,
  })) as unknown as FrameMeta[];
  return { split: 'train', frames: metas, pcm: Buffer.from(pcm.buffer) };
}

const rowsEqual = (a: Float32Array, b: Float32Array, row: number) =>
  a.subarray(row * FEATURE_COUNT, (row + 1) * FEATURE_COUNT).every((v, f) => v === b[row * FEATURE_COUNT + f]);

describe('training examples', () => {
  const data = noiseSplit(40);
  const plain = buildExamples(data, DEFAULT_WINDOWING);

  it('colours about the share of windows asked for, the same ones for the same seed', () => {
    const a = buildExamples(data, DEFAULT_WINDOWING, { colouring: { share: 0.5, seed: 3 } });
    const b = buildExamples(data, DEFAULT_WINDOWING, { colouring: { share: 0.5, seed: 3 } });
    expect(b.features).toEqual(a.features);
    const coloured = plain.examples.filter((_, i) => !rowsEqual(plain.features, a.features, i)).length;
    expect(coloured).toBeGreaterThan(10);
    expect(coloured).toBeLessThan(30);
    const other = buildExamples(data, DEFAULT_WINDOWING, { colouring: { share: 0.5, seed: 4 } });
    expect(other.features).not.toEqual(a.features);
  });

  it('leaves every window as recorded without colouring, or at share 0', () => {
    expect(buildExamples(data, DEFAULT_WINDOWING, { colouring: { share: 0, seed: 3 } }).features).toEqual(plain.features);
  });

  it("adds mains hum to a sensor's windows per sensor, apart from the colouring, which stays as it was", () => {
    const coloured = buildExamples(data, DEFAULT_WINDOWING, { colouring: { share: 0.5, seed: 3, perSensor: true } });
    const humOn = (seed: number) => buildExamples(data, DEFAULT_WINDOWING, { hum: { share: 0.5, seed, perSensor: true } });
    // Two sensors: over a few seeds, each is humming in some and quiet in others, all its windows alike.
    const changed = [1, 2, 3, 4, 5, 6].map((seed) => {
      const set = humOn(seed);
      return ['S-0', 'S-1'].map((id) => {
        const rows = plain.examples.flatMap((e, i) => (e.meta.sensorId === id ? [!rowsEqual(plain.features, set.features, i)] : []));
        expect(new Set(rows).size).toBe(1);
        return rows[0]!;
      });
    });
    expect(new Set(changed.flat())).toEqual(new Set([true, false]));
    expect(humOn(2).features).toEqual(humOn(2).features);
    // Hum drawn from its own stream: the colouring's draws, and so which sensors it colours, do not move.
    const both = buildExamples(data, DEFAULT_WINDOWING, { colouring: { share: 0.5, seed: 3, perSensor: true }, hum: { share: 0, seed: 1, perSensor: true } });
    expect(both.features).toEqual(coloured.features);
  });

  it('takes the hum it added out again with a front end that takes mains lines out, as the detector would', () => {
    const lines = { minLineShare: 0.1 };
    // White noise holds no line: the front end leaves it as it was.
    expect(buildExamples(data, DEFAULT_WINDOWING, { frontEnd: lines }).features).toEqual(plain.features);
    const hum = { share: 1, seed: 5, perSensor: true };
    const distance = (set: { features: Float32Array }) => set.features.reduce((sum, v, i) => sum + Math.abs(v - plain.features[i]!), 0);
    const heard = distance(buildExamples(data, DEFAULT_WINDOWING, { hum }));
    const served = distance(buildExamples(data, DEFAULT_WINDOWING, { hum, frontEnd: lines }));
    expect(heard).toBeGreaterThan(0);
    // Lines under a tenth of what is left of the window's power stay (a quiet hum, a weak harmonic), so not all of it goes.
    expect(served).toBeLessThan(0.7 * heard);
  });

  it('takes a subset with its own features and labels', () => {
    const hydro = subsetExamples(plain, (e) => e.meta.sensorType === 'hydrophone');
    expect(hydro.examples).toHaveLength(20);
    expect(hydro.features).toHaveLength(20 * FEATURE_COUNT);
    expect(Array.from(hydro.features.subarray(0, FEATURE_COUNT))).toEqual(Array.from(plain.features.subarray(FEATURE_COUNT, 2 * FEATURE_COUNT)));
  });
});
