import { describe, expect, it } from 'vitest';
import { MODEL_SAMPLE_RATE_HZ, WINDOW_SAMPLES } from '../model/feature-spec.ts';
import { addHum, drawHum } from './mains-hum.ts';
import { seededRandom } from './seeded-random.ts';

/** Power of `x` at `hz` (one DFT bin of a whole-second window: 1 Hz apart), per sample. */
function powerAt(x: Float32Array, hz: number): number {
  let re = 0;
  let im = 0;
  for (let i = 0; i < x.length; i++) {
    const a = (2 * Math.PI * hz * i) / MODEL_SAMPLE_RATE_HZ;
    re += x[i]! * Math.cos(a);
    im -= x[i]! * Math.sin(a);
  }
  return (2 * (re * re + im * im)) / (x.length * x.length);
}
const rms = (x: Float32Array) => Math.sqrt(x.reduce((a, v) => a + v * v, 0) / x.length);

describe('training-time mains hum', () => {
  it('draws 50 and 60 Hz grids, transformer and pickup series, and levels from −20 to +15 dB, the lines summing to the whole', () => {
    const random = seededRandom(7);
    const hums = Array.from({ length: 400 }, () => drawHum(random));
    const grids = hums.map((h) => Math.round(h.gridHz));
    expect(new Set(grids)).toEqual(new Set([50, 60]));
    expect(grids.filter((g) => g === 50).length).toBeGreaterThan(150);
    for (const h of hums) {
      expect(Math.abs(h.gridHz - Math.round(h.gridHz))).toBeLessThanOrEqual(0.1);
      expect(h.levelDb).toBeGreaterThanOrEqual(-20);
      expect(h.levelDb).toBeLessThanOrEqual(15);
      expect(h.lines.reduce((s, l) => s + l.share, 0)).toBeCloseTo(1, 9);
    }
    // A transformer's strongest line is twice the grid frequency; pickup's is the grid frequency, with odd harmonics only.
    const strongest = (h: (typeof hums)[number]) => h.lines.reduce((a, b) => (b.share > a.share ? b : a)).multiple;
    expect(new Set(hums.map(strongest))).toEqual(new Set([1, 2]));
    for (const h of hums.filter((x) => strongest(x) === 1)) expect(h.lines.every((l) => l.multiple % 2 === 1)).toBe(true);
  });

  it("adds the lines at the drawn level against the window's RMS, and nothing between them", () => {
    const random = seededRandom(3);
    const noise = Float32Array.from({ length: WINDOW_SAMPLES }, () => 0.01 * (random() - 0.5));
    const hum = { gridHz: 50, lines: [{ multiple: 2, share: 0.8 }, { multiple: 3, share: 0.2 }], levelDb: 6 };
    const before = Float32Array.from(noise);
    const heard = addHum(noise, hum, random);
    const added = Float32Array.from(heard, (v, i) => v - noise[i]!);
    // ±2 dB of wander around +6 dB.
    const db = 20 * Math.log10(rms(added) / rms(noise));
    expect(db).toBeGreaterThan(3.9);
    expect(db).toBeLessThan(8.1);
    expect(powerAt(added, 100) / powerAt(added, 150)).toBeCloseTo(4, 1);
    expect(powerAt(added, 125)).toBeLessThan(1e-9 * powerAt(added, 100));
    expect(noise).toEqual(before); // the input is left alone
  });
});
