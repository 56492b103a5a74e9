import { describe, expect, it } from 'vitest';
import { denseForward } from './dense-forward.ts';
import { BAND_COUNT, FEATURE_COUNT, FRAME_SAMPLES, LOG_FLOOR, RELATIVE_FLOOR, SPECTRUM_BINS, STD_FLOOR, WINDOW_SAMPLES, bandFilterbank, dftMatrices, frameStarts, hannWindow } from './feature-spec.ts';
import { LeakModel } from './leak-model.ts';
import { buildLeakModelGraph } from './onnx-graph.ts';
import { contextWindow, randomContextWeights } from './sensor-context.fixtures.ts';
import { referenceFeatures } from './reference-features.ts';
import { CONTEXT_ROWS, CONTEXT_SPACING_MS, CONTEXT_WINDOWS, contextRows, joinsContext, referenceContextFeatures, spacedTail } from './sensor-context.ts';

const META = { version: 'ctx-test', threshold: '0.5', sample_rate_hz: '4000', window_samples: '4000' };
const row = (v: number) => new Float32Array(FEATURE_COUNT).fill(v);

/**
 * The graph's band levels computed the long way (a DFT per frame from
 * feature-spec.ts's matrices): the reference features take the level away
 * and do not give it back.
 */
function bandLevelsByDft(window: Float32Array): Float64Array {
  const { cos, sin } = dftMatrices();
  const hann = hannWindow();
  const { weights } = bandFilterbank();
  const dc = window.reduce((a, b) => a + b, 0) / WINDOW_SAMPLES;
  const powers = frameStarts().map((start) => {
    const p = new Float64Array(SPECTRUM_BINS);
    for (let k = 0; k < SPECTRUM_BINS; k++) {
      let re = 0;
      let im = 0;
      for (let n = 0; n < FRAME_SAMPLES; n++) {
        const x = (window[start + n]! - dc) * hann[n]!;
        re += x * cos[n * SPECTRUM_BINS + k]!;
        im += x * sin[n * SPECTRUM_BINS + k]!;
      }
      p[k] = re * re + im * im;
    }
    return p;
  });
  const meanPower = powers.reduce((a, p) => a + p.reduce((x, y) => x + y, 0), 0) / (powers.length * SPECTRUM_BINS);
  const floor = RELATIVE_FLOOR * meanPower + LOG_FLOOR;
  const levels = new Float64Array(BAND_COUNT);
  for (const p of powers) {
    for (let b = 0; b < BAND_COUNT; b++) {
      let band = 0;
      for (let k = 0; k < SPECTRUM_BINS; k++) band += p[k]! * weights[k * BAND_COUNT + b]!;
      levels[b]! += Math.log(band + floor) / powers.length;
    }
  }
  return levels;
}

describe('a sensor context', () => {
  it("a restart's history: a logger's last windows, a stream's last spaced ones", () => {
    const logger = Array.from({ length: 20 }, (_, i) => i * 600_000);
    expect(spacedTail(logger, CONTEXT_ROWS)).toEqual(Array.from({ length: CONTEXT_ROWS }, (_, i) => 9 + i));
    const stream = Array.from({ length: 60 }, (_, i) => i * 1000);
    expect(spacedTail(stream, CONTEXT_ROWS, 3000)).toEqual(Array.from({ length: CONTEXT_ROWS }, (_, i) => 29 + 3 * i));
    expect(spacedTail(stream.slice(0, 5), CONTEXT_ROWS, 3000)).toEqual([1, 4]);
    expect(spacedTail([], CONTEXT_ROWS)).toEqual([]);
  });

  it('fills its rows from the history: the last rows, a short history repeated newest first, none at all by the window itself', () => {
    const current = row(-1);
    expect(contextRows([], current)).toEqual(Array.from({ length: CONTEXT_ROWS }, () => current));
    const two = [row(1), row(2)];
    expect(contextRows(two, current).map((r) => r[0])).toEqual(Array.from({ length: CONTEXT_ROWS }, (_, i) => (i % 2 === 0 ? 2 : 1)));
    const long = Array.from({ length: 20 }, (_, i) => row(i));
    expect(contextRows(long, current).map((r) => r[0])).toEqual(Array.from({ length: CONTEXT_ROWS }, (_, i) => 19 - i));
  });

  it('lets a window join only 3 s or more from the last that joined, either way in time (a late frame minutes away still joins)', () => {
    expect(CONTEXT_SPACING_MS).toBe(3000);
    expect(joinsContext(undefined, 5)).toBe(true);
    expect(joinsContext(10_000, 12_999)).toBe(false);
    expect(joinsContext(10_000, 13_000)).toBe(true);
    expect(joinsContext(10_000, 8_000)).toBe(false);
    expect(joinsContext(1_200_000, 600_000)).toBe(true);
  });

  it('takes per feature the lower median, the 20th percentile and the deviation over the stack', () => {
    // Feature 0 runs 0..11 in a shuffled order; feature 1 is constant.
    const values = [7, 3, 11, 0, 5, 9, 1, 10, 2, 8, 4, 6];
    const stack = values.map((v) => {
      const r = row(2.5);
      r[0] = v;
      return r;
    });
    const out = referenceContextFeatures(stack);
    expect(out[0]).toBe(5);
    expect(out[FEATURE_COUNT]).toBe(2);
    expect(out[2 * FEATURE_COUNT]).toBeCloseTo(Math.sqrt(143 / 12), 5);
    expect(out[1]).toBe(2.5);
    expect(out[2 * FEATURE_COUNT + 1]).toBeCloseTo(Math.sqrt(STD_FLOOR), 6);
    expect(() => referenceContextFeatures(stack.slice(1))).toThrow(/12 rows/);
  });

  it('is computed in ONNX Runtime as in TypeScript, and the graph gives the window its own features back', async () => {
    const weights = randomContextWeights(21);
    const model = await LeakModel.load(buildLeakModelGraph(weights, META));
    try {
      expect(model.info.contextWindows).toBe(CONTEXT_WINDOWS);
      const windows = [contextWindow(1), contextWindow(2), contextWindow(3)];
      const history = Array.from({ length: 5 }, (_, i) => referenceFeatures(contextWindow(100 + i)));
      const contexts = [contextRows(history, new Float32Array(0)), contextRows(history.slice(0, 1), new Float32Array(0)), contextRows([], referenceFeatures(windows[2]!))];
      const packed = new Float32Array(windows.length * CONTEXT_ROWS * FEATURE_COUNT);
      contexts.forEach((rows, k) => rows.forEach((r, j) => packed.set(r, (k * CONTEXT_ROWS + j) * FEATURE_COUNT)));
      const { scores, features, bandLevels } = await model.scoreInContext(windows, packed);
      const expected = windows.map((w, k) => denseForward(weights, referenceContextFeatures([referenceFeatures(w), ...contexts[k]!])));
      for (let k = 0; k < windows.length; k++) {
        expect(scores[k], `window ${k}`).toBeCloseTo(expected[k]!, 3);
        const own = referenceFeatures(windows[k]!);
        for (let f = 0; f < FEATURE_COUNT; f++) expect(Math.abs(features[k * FEATURE_COUNT + f]! - own[f]!), `window ${k} feature ${f}`).toBeLessThan(2e-3);
        // And its band levels before the level is taken away, which differ between windows as loud as each other's shape.
        const levels = bandLevelsByDft(windows[k]!);
        for (let b = 0; b < BAND_COUNT; b++) expect(Math.abs(bandLevels![k * BAND_COUNT + b]! - levels[b]!), `window ${k} band level ${b}`).toBeLessThan(2e-3);
      }
      expect(Math.abs(bandLevels![0]! - bandLevels![BAND_COUNT]!), 'the windows must differ in level, or the check proves little').toBeGreaterThan(0.1);
      expect(new Set(expected.map((e) => e.toFixed(3))).size, 'the contexts must score apart, or the check proves little').toBe(3);
      // A context model cannot be scored one window at a time, and a context must be whole.
      await expect(model.score(windows)).rejects.toMatchObject({ code: 'WINDOW_INVALID' });
      await expect(model.scoreInContext(windows, packed.subarray(1))).rejects.toMatchObject({ code: 'WINDOW_INVALID' });
    } finally {
      await model.close();
    }
  });
});
