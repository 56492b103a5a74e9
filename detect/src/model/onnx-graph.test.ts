import { describe, expect, it } from 'vitest';
import { denseForward } from './dense-forward.ts';
import { BAND_FEATURE_COUNT, FEATURE_COUNT, LOW_BIN_COUNT, LOW_FEATURE_GROUPS, MODEL_SAMPLE_RATE_HZ, WINDOW_SAMPLES } from './feature-spec.ts';
import { LeakModel } from './leak-model.ts';
import { buildLeakModelGraph, type LeakModelWeights } from './onnx-graph.ts';
import { referenceFeatures } from './reference-features.ts';
import { VERDICT_INPUTS, verdictInputCount } from './level-history.ts';
import { RECORDING_STAGE_INPUTS, stageInputCount } from './recording-stage.ts';
import { seededRandom } from '../training/seeded-random.ts';


function randomWeights(seed: number): LeakModelWeights {
  const r = seededRandom(seed);
  const dense = (inputs: number, units: number) => ({
    inputs,
    units,
    kernel: Float32Array.from({ length: inputs * units }, () => (r() - 0.5) * 0.6),
    bias: Float32Array.from({ length: units }, () => (r() - 0.5) * 0.2),
  });
  return {
    featureMean: Float32Array.from({ length: FEATURE_COUNT }, () => (r() - 0.5) * 2),
    featureStd: Float32Array.from({ length: FEATURE_COUNT }, () => 0.5 + r()),
    layers: [dense(FEATURE_COUNT, 16), dense(16, 8), dense(8, 1)],
  };
}

/** Test windows unlike each other: hiss, hum, a transient, silence, clipping. */
function windows(): Float32Array[] {
  const r = seededRandom(7);
  const t = (i: number) => i / MODEL_SAMPLE_RATE_HZ;
  return [
    Float32Array.from({ length: WINDOW_SAMPLES }, () => (r() - 0.5) * 0.02),
    Float32Array.from({ length: WINDOW_SAMPLES }, (_, i) => 0.3 * Math.sin(2 * Math.PI * 60 * t(i)) + 0.1 * Math.sin(2 * Math.PI * 180 * t(i)) + (r() - 0.5) * 0.001),
    Float32Array.from({ length: WINDOW_SAMPLES }, (_, i) => (i > 1800 && i < 2200 ? (r() - 0.5) * 1.6 : (r() - 0.5) * 0.004)),
    new Float32Array(WINDOW_SAMPLES),
    Float32Array.from({ length: WINDOW_SAMPLES }, (_, i) => Math.max(-1, Math.min(1, 3 * Math.sin(2 * Math.PI * 440 * t(i)) + 0.2))),
  ];
}

describe('the leak model graph', () => {
  it('computes in ONNX Runtime what the reference features and dense layers compute in TypeScript', async () => {
    const weights = randomWeights(3);
    const bytes = buildLeakModelGraph(weights, { version: 'test', threshold: '0.5', sample_rate_hz: '4000', window_samples: '4000' });
    const model = await LeakModel.load(bytes);
    try {
      const ws = windows();
      const scores = await model.score(ws);
      const expected = ws.map((w) => denseForward(weights, referenceFeatures(w)));
      expect(scores).toHaveLength(ws.length);
      for (let i = 0; i < ws.length; i++) expect(scores[i], `window ${i}`).toBeCloseTo(expected[i]!, 3);
      // The windows must differ in score, or the comparison proves little.
      expect(new Set(expected.map((e) => e.toFixed(3))).size).toBeGreaterThan(2);
      expect(model.info).toMatchObject({ version: 'test', threshold: 0.5, sampleRateHz: 4000, windowSamples: 4000 });
    } finally {
      await model.close();
    }
  });

  it.each(LOW_FEATURE_GROUPS.map((g, i) => [g, i] as const))('computes the low-frequency block\'s %s as the reference does', async (_group, g) => {
    // A linear probe on this group's bins alone: a mismatch in any one of
    // them moves the logit, which the mixed random head above could dilute.
    const r = seededRandom(11 + g);
    const kernel = new Float32Array(FEATURE_COUNT);
    for (let j = 0; j < LOW_BIN_COUNT; j++) kernel[BAND_FEATURE_COUNT + g * LOW_BIN_COUNT + j] = (r() - 0.5) * 0.2;
    const weights: LeakModelWeights = {
      featureMean: new Float32Array(FEATURE_COUNT),
      featureStd: new Float32Array(FEATURE_COUNT).fill(1),
      layers: [{ inputs: FEATURE_COUNT, units: 1, kernel, bias: new Float32Array(1) }],
    };
    const model = await LeakModel.load(buildLeakModelGraph(weights, { version: 'test', threshold: '0.5', sample_rate_hz: '4000', window_samples: '4000' }));
    try {
      const ws = windows();
      const scores = await model.score(ws);
      const logit = (p: number) => Math.log(p / (1 - p));
      for (let i = 0; i < ws.length; i++) expect(logit(scores[i]!), `window ${i}`).toBeCloseTo(logit(denseForward(weights, referenceFeatures(ws[i]!))), 2);
    } finally {
      await model.close();
    }
  });

  it('averages the probabilities of an ensemble of heads as the TypeScript reference does', async () => {
    const base = randomWeights(5);
    const weights: LeakModelWeights = { ...base, moreHeads: [randomWeights(6).layers, randomWeights(7).layers] };
    const model = await LeakModel.load(buildLeakModelGraph(weights, { version: 'test', threshold: '0.5', sample_rate_hz: '4000', window_samples: '4000' }));
    try {
      const ws = windows();
      const scores = await model.score(ws);
      for (let i = 0; i < ws.length; i++) {
        const f = referenceFeatures(ws[i]!);
        const single = [base, { ...base, layers: weights.moreHeads![0]! }, { ...base, layers: weights.moreHeads![1]! }].map((w) => denseForward(w, f));
        expect(denseForward(weights, f), `window ${i}`).toBeCloseTo((single[0]! + single[1]! + single[2]!) / 3, 6);
        expect(scores[i], `window ${i}`).toBeCloseTo(denseForward(weights, f), 3);
      }
    } finally {
      await model.close();
    }
  });

  it('refuses a window of the wrong length and a model without metadata', async () => {
    const weights = randomWeights(4);
    const model = await LeakModel.load(buildLeakModelGraph(weights, { version: 't', threshold: '0.5', sample_rate_hz: '4000', window_samples: '4000' }));
    await expect(model.score([new Float32Array(100)])).rejects.toMatchObject({ code: 'WINDOW_INVALID' });
    await model.close();
    await expect(LeakModel.load(buildLeakModelGraph(weights, {}))).rejects.toMatchObject({ code: 'MODEL_INVALID' });
  });

  it('reads per-site and per-material thresholds from the metadata, and refuses unknown names and thresholds out of 0–1', async () => {
    const weights = randomWeights(4);
    const meta = { version: 't', threshold: '0.5', sample_rate_hz: '4000', window_samples: '4000' };
    const plain = await LeakModel.load(buildLeakModelGraph(weights, meta));
    expect(plain.info.thresholds).toEqual({ default: 0.5, bySite: {}, byMaterial: {} });
    await plain.close();
    const grouped = await LeakModel.load(buildLeakModelGraph(weights, { ...meta, site_thresholds: '{"near_prv":0.93}', material_thresholds: '{"pvc":0.41}' }));
    expect(grouped.info).toMatchObject({ threshold: 0.5, thresholds: { default: 0.5, bySite: { near_prv: 0.93 }, byMaterial: { pvc: 0.41 } } });
    await grouped.close();
    for (const bad of ['{"near_river":0.9}', '{"near_prv":1.5}', '[0.9]', 'near_prv=0.9']) {
      await expect(LeakModel.load(buildLeakModelGraph(weights, { ...meta, site_thresholds: bad })), bad).rejects.toMatchObject({ code: 'MODEL_INVALID' });
    }
    await expect(LeakModel.load(buildLeakModelGraph(weights, { ...meta, material_thresholds: '{"copper":0.5}' }))).rejects.toThrow(/material_thresholds: 'copper'/);
  });

  it('reads the front end it was trained with from the metadata (plain without it), and refuses a share outside 0–1', async () => {
    const weights = randomWeights(4);
    const meta = { version: 't', threshold: '0.5', sample_rate_hz: '4000', window_samples: '4000' };
    const plain = await LeakModel.load(buildLeakModelGraph(weights, meta));
    expect(plain.info.frontEnd).toEqual({ minLineShare: 0 });
    await plain.close();
    const lines = await LeakModel.load(buildLeakModelGraph(weights, { ...meta, mains_line_share: '0.1' }));
    expect(lines.info.frontEnd).toEqual({ minLineShare: 0.1 });
    await lines.close();
    for (const bad of ['1.5', '-0.1', 'x']) {
      await expect(LeakModel.load(buildLeakModelGraph(weights, { ...meta, mains_line_share: bad })), bad).rejects.toMatchObject({ code: 'MODEL_INVALID' });
    }
  });

  it('reads the level verdict from the metadata, and refuses one that is not whole', async () => {
    const weights = randomWeights(4);
    const meta = { version: 't', threshold: '0.5', sample_rate_hz: '4000', window_samples: '4000' };
    const d = verdictInputCount(1);
    const verdict = { inputs: VERDICT_INPUTS, sites: ['near_prv'], inputMean: Array(d).fill(0), inputStd: Array(d).fill(1), weights: Array(d).fill(0.1), bias: -1, threshold: 0.6 };
    const withVerdict = await LeakModel.load(buildLeakModelGraph(weights, { ...meta, level_verdict: JSON.stringify(verdict) }));
    expect(withVerdict.info.levelVerdict).toEqual(verdict);
    await withVerdict.close();
    const without = await LeakModel.load(buildLeakModelGraph(weights, meta));
    expect(without.info.levelVerdict).toBeUndefined();
    await without.close();
    for (const bad of [JSON.stringify({ ...verdict, bias: 'x' }), JSON.stringify({ ...verdict, weights: [1] }), 'not json']) {
      await expect(LeakModel.load(buildLeakModelGraph(weights, { ...meta, level_verdict: bad })), bad).rejects.toMatchObject({ code: 'MODEL_INVALID' });
    }
  });

  it('carries a recording stage in its metadata, and refuses a malformed one', async () => {
    const weights = randomWeights(4);
    const meta = { version: 't', threshold: '0.5', sample_rate_hz: '4000', window_samples: '4000' };
    const d = stageInputCount(0, 1);
    const stage = {
      inputs: RECORDING_STAGE_INPUTS,
      featureMean: Array(FEATURE_COUNT).fill(0),
      featureStd: Array(FEATURE_COUNT).fill(1),
      components: [Array.from({ length: FEATURE_COUNT }, (_, j) => (j === 0 ? 1 : 0))],
      inputMean: Array(d).fill(0),
      inputStd: Array(d).fill(1),
      weights: Array(d).fill(0.1),
      bias: -1,
      sites: [],
      thresholds: { default: 0.6 },
    };
    const withStage = await LeakModel.load(buildLeakModelGraph(weights, { ...meta, recording_stage: JSON.stringify(stage) }));
    expect(withStage.info.recordingStage).toEqual(stage);
    await withStage.close();
    for (const bad of [JSON.stringify({ ...stage, bias: 'x' }), JSON.stringify({ ...stage, thresholds: {} }), 'not json']) {
      await expect(LeakModel.load(buildLeakModelGraph(weights, { ...meta, recording_stage: bad })), bad).rejects.toMatchObject({ code: 'MODEL_INVALID' });
    }
  });
});
