import '@tensorflow/tfjs-backend-wasm';
import { describe, expect, it } from 'vitest';
import { FEATURE_COUNT } from '../model/feature-spec.ts';
import type { FrameMeta } from './dataset.ts';
import type { ExampleSet } from './examples.ts';
import { probeSensorTypes } from './family-probe.ts';
import { DEFAULT_FIT } from './fit.ts';

/**
 * Features where an accelerometer's leak lifts feature 0 and a hydrophone's
 * lifts feature 1: a head trained on one type hears the other's leaks no
 * better than chance.
 */
function set(seed: number, perType: number): ExampleSet {
  let s = seed;
  const gauss = () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    const u = (s + 1) / 2 ** 32;
    s = (s * 1664525 + 1013904223) >>> 0;
    return Math.sqrt(-2 * Math.log(u)) * Math.cos((2 * Math.PI * s) / 2 ** 32);
  };
  const examples = [];
  const rows: number[] = [];
  for (const sensorType of ['accelerometer', 'hydrophone']) {
    for (let i = 0; i < perType; i++) {
      const leak = i % 2 === 0;
      examples.push({ meta: { sensorType, leak, audible: leak ? true : null } as unknown as FrameMeta, windowStartMs: 0 });
      // Two noisy features, the rest silent: the test is of the probe, not of learning.
      const row = Array.from({ length: FEATURE_COUNT }, (_, f) => (f < 2 ? gauss() : 0));
      if (leak) row[sensorType === 'accelerometer' ? 0 : 1]! += 4;
      rows.push(...row);
    }
  }
  return {
    examples,
    features: Float32Array.from(rows),
    labels: Float32Array.from(examples, (e) => (e.meta.leak ? 1 : 0)),
    weights: new Float32Array(examples.length).fill(1),
    skipped: {},
  };
}

describe('sensor-type probe', () => {
  it('scores each type with heads trained on one type alone: high on its own type, chance on the other', async () => {
    const probe = await probeSensorTypes(
      { train: set(1, 400), val: set(2, 100), test: set(3, 200) },
      { ...DEFAULT_FIT, hidden: [8], epochs: 15, batchSize: 32, patience: 4, backend: 'wasm' },
    );
    expect(probe.trainWindows).toEqual({ accelerometer: 400, hydrophone: 400 });
    expect(probe.testWindows).toEqual({ accelerometer: 200, hydrophone: 200 });
    expect(probe.auc.accelerometer!.accelerometer).toBeGreaterThan(0.9);
    expect(probe.auc.hydrophone!.hydrophone).toBeGreaterThan(0.9);
    expect(probe.auc.accelerometer!.hydrophone).toBeLessThan(0.7);
    expect(probe.auc.hydrophone!.accelerometer).toBeLessThan(0.7);
  });
});
