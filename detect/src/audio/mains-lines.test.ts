import { describe, expect, it } from 'vitest';
import { MODEL_SAMPLE_RATE_HZ } from '../model/feature-spec.ts';
import { Windower } from '../stream/windower.ts';
import { removeMainsLines } from './mains-lines.ts';

const RATE = MODEL_SAMPLE_RATE_HZ;
/** Gaussian noise from a fixed seed (Box–Muller over a small LCG), so each run hears the same hiss. */
function noise(n: number, rms: number, seed = 7): Float32Array {
  let state = seed;
  const uniform = () => ((state = (state * 1664525 + 1013904223) >>> 0) + 0.5) / 2 ** 32;
  return Float32Array.from({ length: n }, () => rms * Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform()));
}
const tone = (hz: number, rms: number, phase = 0.3) => Float32Array.from({ length: RATE }, (_, i) => Math.SQRT2 * rms * Math.sin(phase + (2 * Math.PI * hz * i) / RATE));
const sum = (...xs: Float32Array[]) => Float32Array.from(xs[0]!, (_, i) => xs.reduce((s, x) => s + x[i]!, 0));
const power = (x: Float32Array) => x.reduce((s, v) => s + v * v, 0) / x.length;
const difference = (a: Float32Array, b: Float32Array) => Float32Array.from(a, (v, i) => v - b[i]!);

describe('removeMainsLines', () => {
  it('takes out a loud hum off its nominal frequency and its harmonic, and leaves the hiss beside them', () => {
    const hiss = noise(RATE, 0.05);
    // A grid 0.07 Hz fast: the lines sit at 60.07 and 180.21 Hz, three times and once the hiss's RMS.
    const heard = sum(hiss, tone(60.07, 0.15), tone(180.21, 0.05, 1.1));
    const { samples, lines } = removeMainsLines(heard, RATE);
    expect(lines.map((l) => Math.round(l.hz * 10) / 10)).toEqual([60.1, 180.2]);
    expect(lines[0]!.share).toBeGreaterThan(0.8);
    // What is left is the hiss: the residual hum is under 1 % of its power (−20 dB).
    expect(power(difference(samples, hiss)) / power(hiss)).toBeLessThan(0.01);
  });

  it('finds 50 Hz lines as well, up to its 12th harmonic', () => {
    const hiss = noise(RATE, 0.05, 11);
    const heard = sum(hiss, tone(49.92, 0.1), tone(599.04, 0.1, 2));
    const { samples, lines } = removeMainsLines(heard, RATE);
    expect(lines.map((l) => Math.round(l.hz))).toEqual(expect.arrayContaining([50, 599]));
    expect(power(difference(samples, hiss)) / power(hiss)).toBeLessThan(0.01);
  });

  it('leaves a window without a strong mains line as it was: hiss, a weak hum, a tone off the grid', () => {
    const hiss = noise(RATE, 0.05, 3);
    for (const window of [hiss, sum(hiss, tone(120, 0.01)), sum(hiss, tone(137, 0.2)), new Float32Array(RATE)]) {
      const { samples, lines } = removeMainsLines(window, RATE);
      expect(lines).toEqual([]);
      expect(samples).toEqual(window);
      expect(samples).not.toBe(window);
    }
  });

  it('takes a weaker line when asked to, and refuses a share outside (0, 1]', () => {
    const heard = sum(noise(RATE, 0.05, 5), tone(120, 0.015));
    expect(removeMainsLines(heard, RATE).lines).toEqual([]);
    expect(removeMainsLines(heard, RATE, 0.05).lines.map((l) => Math.round(l.hz))).toEqual([120]);
    expect(() => removeMainsLines(heard, RATE, 0)).toThrow(RangeError);
    expect(() => removeMainsLines(heard, RATE, 1.5)).toThrow(RangeError);
  });

  it('is in the windows the windower cuts for a model whose front end says so, in each 1 s part, and not for a plain one', () => {
    // Two seconds at 8 kHz, as a field sensor sends them; the windower resamples to the model's rate.
    const hiss = noise(2 * 8000, 0.05, 13);
    const heard = Float32Array.from(hiss, (v, i) => v + 0.15 * Math.SQRT2 * Math.sin((2 * Math.PI * 59.95 * i) / 8000));
    const cut = (minLineShare: number) => {
      const windows = new Windower({ windowSeconds: 2, hopSeconds: 2 }, { minLineShare }).push({ startMs: 0, sampleRateHz: 8000, samples: heard });
      if (typeof windows === 'string') throw new Error(windows);
      return windows[0]!.parts;
    };
    const [plain, lines] = [cut(0), cut(0.1)];
    expect(plain).toHaveLength(2);
    for (const [p, part] of lines.entries()) {
      // The hum held 90 % of each part's power; without it what is left is the hiss's (resampled to 4 kHz: half its band, half its power).
      expect(power(part) / power(plain[p]!)).toBeLessThan(0.1);
      expect(power(part)).toBeCloseTo(0.05 ** 2 / 2, 3);
    }
    expect(() => new Windower(undefined, { minLineShare: 2 })).toThrow(RangeError);
  });
});
