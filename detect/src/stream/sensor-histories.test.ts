import { describe, expect, it } from 'vitest';
import { denseForward } from '../model/dense-forward.ts';
import { LeakModel } from '../model/leak-model.ts';
import { buildLeakModelGraph } from '../model/onnx-graph.ts';
import { referenceFeatures } from '../model/reference-features.ts';
import { CONTEXT_SPACING_MS, contextRows, referenceContextFeatures } from '../model/sensor-context.ts';
import { contextWindow, randomContextWeights } from '../model/sensor-context.fixtures.ts';
import { SensorHistories } from './sensor-histories.ts';

const META = { version: 'ctx-test', threshold: '0.5', sample_rate_hz: '4000', window_samples: '4000' };

describe('sensor histories', () => {
  it('scores each window with its own sensor\'s previous windows, whatever else is in the batch', async () => {
    const weights = randomContextWeights(31);
    const model = await LeakModel.load(buildLeakModelGraph(weights, META));
    try {
      // Two sensors, 15 windows each (past a full context), interleaved unevenly; batches of 4.
      const a = Array.from({ length: 15 }, (_, i) => contextWindow(200 + i));
      const b = Array.from({ length: 15 }, (_, i) => contextWindow(300 + i));
      // A logger's frames: 10 minutes apart.
      const at = (k: number) => k * 600_000;
      const inputs = [
        ...a.slice(0, 10).map((pcm, k) => ({ sensorId: 'A', startMs: at(k), pcm })),
        ...b.map((pcm, k) => ({ sensorId: 'B', startMs: at(k), pcm })),
        ...a.slice(10).map((pcm, k) => ({ sensorId: 'A', startMs: at(10 + k), pcm })),
      ];
      const histories = new SensorHistories(model, 4);
      const scores = await histories.score(inputs);

      const expectedFor = (windows: Float32Array[]) => {
        const feats = windows.map((w) => referenceFeatures(w));
        return feats.map((f, i) => denseForward(weights, referenceContextFeatures([f, ...contextRows(feats.slice(0, i), f)])));
      };
      const expA = expectedFor(a);
      const expB = expectedFor(b);
      inputs.forEach((x, i) => {
        const k = (x.sensorId === 'A' ? a : b).indexOf(x.pcm);
        expect(scores[i], `${x.sensorId} window ${k}`).toBeCloseTo((x.sensorId === 'A' ? expA : expB)[k]!, 3);
      });
      expect(histories.size).toBe(2);

      // Scoring in two calls is scoring in one: the history carries over.
      const split = new SensorHistories(model, 4);
      const first = await split.score(inputs.slice(0, 12));
      const rest = await split.score(inputs.slice(12));
      expect([...first, ...rest].map((s) => s.toFixed(5))).toEqual([...scores].map((s) => s.toFixed(5)));
    } finally {
      await model.close();
    }
  });

  it('lets only spaced windows of a contiguous recording join the context', async () => {
    const weights = randomContextWeights(32);
    const model = await LeakModel.load(buildLeakModelGraph(weights, META));
    try {
      // 40 contiguous 1 s windows: with CONTEXT_SPACING_MS of 3 s, windows 0, 3, 6, … join.
      expect(CONTEXT_SPACING_MS).toBe(3000);
      const windows = Array.from({ length: 40 }, (_, i) => contextWindow(400 + i));
      const scores = await new SensorHistories(model, 8).score(windows.map((pcm, k) => ({ sensorId: 'clip', startMs: k * 1000, pcm })));
      const feats = windows.map((w) => referenceFeatures(w));
      feats.forEach((f, k) => {
        const joined = feats.slice(0, k).filter((_, j) => j % 3 === 0);
        const expected = denseForward(weights, referenceContextFeatures([f, ...contextRows(joined, f)]));
        expect(scores[k], `window ${k}`).toBeCloseTo(expected, 3);
      });
      // Not the same as the last eleven windows, which is what spacing is for.
      const unspaced = denseForward(weights, referenceContextFeatures([feats[39]!, ...contextRows(feats.slice(28, 39), feats[39]!)]));
      expect(Math.abs(scores[39]! - unspaced)).toBeGreaterThan(1e-4);
    } finally {
      await model.close();
    }
  });

  it('scores a late window with the windows beside it in time, and later windows as if none had been late', async () => {
    const weights = randomContextWeights(33);
    const model = await LeakModel.load(buildLeakModelGraph(weights, META));
    try {
      const windows = Array.from({ length: 17 }, (_, i) => contextWindow(500 + i));
      const feats = windows.map((w) => referenceFeatures(w));
      const at = (k: number) => k * 600_000;
      // Windows 5 and 9 arrive after window 12, in separate calls as a detector's pages would bring them.
      const order = [0, 1, 2, 3, 4, 6, 7, 8, 10, 11, 12, 5, 9, 13, 14];
      const histories = new SensorHistories(model, 4);
      const scores = new Map<number, number>();
      for (const k of order) scores.set(k, (await histories.score([{ sensorId: 'A', startMs: at(k), pcm: windows[k]! }]))[0]!);
      const score = (k: number, context: number[]) => denseForward(weights, referenceContextFeatures([feats[k]!, ...contextRows(context.map((j) => feats[j]!), feats[k]!)]));
      // Window 5: the five before it, topped up with the nearest six after it that had arrived.
      expect(scores.get(5)).toBeCloseTo(score(5, [12, 11, 10, 8, 7, 6, 0, 1, 2, 3, 4]), 3);
      // Window 9: the eight before it (5 among them now), then 10, 11, 12.
      expect(scores.get(9)).toBeCloseTo(score(9, [12, 11, 10, 1, 2, 3, 4, 5, 6, 7, 8]), 3);
      // Windows 13 and 14 score as in time order: the eleven windows before each.
      const range = (from: number, to: number) => Array.from({ length: to - from }, (_, j) => from + j);
      expect(scores.get(13)).toBeCloseTo(score(13, range(2, 13)), 3);
      expect(scores.get(14)).toBeCloseTo(score(14, range(3, 14)), 3);

      // A frame from days back (store-and-forward), older than the whole history: scored with the eleven nearest
      // windows, and it leaves the history at once, so window 15 still sees windows 4 to 14.
      const old = 16;
      const lateScore = (await histories.score([{ sensorId: 'A', startMs: at(1) + 300_000, pcm: windows[old]! }]))[0]!;
      expect(lateScore).toBeCloseTo(score(old, range(4, 15)), 3);
      const next = (await histories.score([{ sensorId: 'A', startMs: at(15), pcm: windows[15]! }]))[0]!;
      expect(next).toBeCloseTo(score(15, range(4, 15)), 3);
      // Joined at the end, as in arrival order, it would have pushed window 4 out.
      expect(Math.abs(next - score(15, [...range(5, 15), old]))).toBeGreaterThan(1e-4);
    } finally {
      await model.close();
    }
  });

  it('refuses a one-window model', async () => {
    const { context: _, ...plain } = randomContextWeights(1);
    expect(plain.featureMean.length).toBeGreaterThan(0);
    const model = await LeakModel.load(buildLeakModelGraph({ ...plain, featureMean: plain.featureMean.slice(0, 258), featureStd: plain.featureStd.slice(0, 258), layers: [{ inputs: 258, units: 1, kernel: new Float32Array(258), bias: new Float32Array(1) }] }, META));
    try {
      expect(model.info.contextWindows).toBe(1);
      expect(() => new SensorHistories(model)).toThrow(RangeError);
    } finally {
      await model.close();
    }
  });
});
