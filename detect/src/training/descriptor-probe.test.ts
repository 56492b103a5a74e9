import { describe, expect, it } from 'vitest';
import type { FrameMeta } from './dataset.ts';
import { DESCRIPTOR_COLUMNS, probeDescriptors, withDescriptors } from './descriptor-probe.ts';
import type { Example, ExampleSet } from './examples.ts';
import { DEFAULT_FIT, fitLeakModel } from './fit.ts';
import { seededRandom } from './seeded-random.ts';

const WIDTH = 4;
const DAY = 86_400_000;

/**
 * Sensors of two nights, twelve windows a night, four features a window.
 * Feature 0 means opposite things on the two materials: a leak lifts it on
 * PVC and lowers it on ductile iron (a steep low spectrum is a leak on one,
 * a pump on the other). Alone it cannot tell; told the material, a head can.
 */
function set(seed: number, sensors: number): ExampleSet {
  const r = seededRandom(seed);
  const examples: Example[] = [];
  const features: number[] = [];
  for (let s = 0; s < sensors; s++) {
    const leak = s % 3 === 0;
    const material = s % 2 === 0 ? 'pvc' : 'ductile_iron';
    const sign = material === 'pvc' ? 1 : -1;
    for (let night = 0; night < 2; night++) {
      const meta = { id: `S-${s}/n${night}`, sensorId: `S-${s}`, night, daytime: false, leak, audible: leak ? true : null, sensorAudible: leak ? true : null, material, sensorType: s % 4 < 2 ? 'hydrophone' : 'accelerometer', environment: 'quiet_residential', leakSizeLps: leak ? 0.2 : null } as unknown as FrameMeta;
      for (let w = 0; w < 12; w++) {
        examples.push({ meta, windowStartMs: night * DAY + w * 600_000 });
        features.push((leak ? sign : -sign) * 1.5 + (r() - 0.5), r() - 0.5, r() - 0.5, r() - 0.5);
      }
    }
  }
  const labels = Float32Array.from(examples, (e) => (e.meta.leak ? 1 : 0));
  return { examples, features: Float32Array.from(features), labels, weights: new Float32Array(examples.length).fill(1), skipped: {} };
}

describe('the descriptor probe', () => {
  it("appends each window's material, one-hot, and whether the sensor is a hydrophone", () => {
    const s = set(1, 4);
    const d = withDescriptors(s);
    const width = WIDTH + DESCRIPTOR_COLUMNS.length;
    expect(d.features).toHaveLength(s.examples.length * width);
    const row = (i: number) => [...d.features.subarray(i * width, (i + 1) * width)];
    // Sensor 0: PVC, hydrophone. Sensor 1: ductile iron, hydrophone. Sensor 2: PVC, accelerometer.
    const at = (sensor: number) => s.examples.findIndex((e) => e.meta.sensorId === `S-${sensor}`);
    expect(row(at(0)).slice(0, WIDTH)).toEqual([...s.features.subarray(at(0) * WIDTH, (at(0) + 1) * WIDTH)]);
    const tail = (sensor: number) => Object.fromEntries(DESCRIPTOR_COLUMNS.map((c, j) => [c, row(at(sensor))[WIDTH + j]]).filter(([, v]) => v !== 0));
    expect(tail(0)).toEqual({ 'material:pvc': 1, 'sensorType:hydrophone': 1 });
    expect(tail(1)).toEqual({ 'material:ductile_iron': 1, 'sensorType:hydrophone': 1 });
    expect(tail(2)).toEqual({ 'material:pvc': 1 });
    expect(d.labels).toBe(s.labels);
  });

  it('finds what a head told the material learns that one not told cannot', async () => {
    const train = set(2, 120);
    const val = set(3, 60);
    const test = set(4, 60);
    const fit = { ...DEFAULT_FIT, hidden: [8], epochs: 40, patience: 40, heads: 1 };
    const plain = await fitLeakModel(train, val, fit);
    try {
      const probe = await probeDescriptors({ train, stopping: val, val, test }, (s) => plain.predict(s.features, s.examples.length), fit, { k: 8, n: 12 }, 1, {});
      expect(probe.columns).toEqual(DESCRIPTOR_COLUMNS);
      expect(probe.plain.windowAuc).toBeLessThan(0.7);
      expect(probe.described.windowAuc).toBeGreaterThan(0.95);
      expect(probe.described.windowAucByMaterial.pvc).toBeGreaterThan(0.95);
      expect(probe.described.recall).toBeGreaterThan(probe.plain.recall);
    } finally {
      plain.dispose();
    }
  }, 60_000);
});
