import { describe, expect, it } from 'vitest';
import { buildLeakModelGraph } from './onnx-graph.ts';
import { readLeakModelWeights } from './onnx-weights.ts';
import { randomContextWeights } from './sensor-context.fixtures.ts';

const META = { version: 'w', threshold: '0.5', sample_rate_hz: '4000', window_samples: '4000' };

describe('weights read back from a model file', () => {
  it('are the weights it was built from: standardisation, every head, and the context flag', () => {
    const base = randomContextWeights(61);
    const weights = { ...base, moreHeads: [randomContextWeights(62).layers, randomContextWeights(63).layers] };
    const read = readLeakModelWeights(buildLeakModelGraph(weights, META));
    expect(read.context).toBe(true);
    expect(read.featureMean).toEqual(weights.featureMean);
    expect(read.featureStd).toEqual(weights.featureStd);
    expect(read.layers).toEqual(weights.layers);
    expect(read.moreHeads).toEqual(weights.moreHeads);

    const { context: _, ...plain } = randomContextWeights(64);
    const width = 258;
    const oneWindow = { ...plain, featureMean: plain.featureMean.slice(0, width), featureStd: plain.featureStd.slice(0, width), layers: [{ inputs: width, units: 1, kernel: new Float32Array(width).fill(0.5), bias: Float32Array.of(0.25) }] };
    const back = readLeakModelWeights(buildLeakModelGraph(oneWindow, META));
    expect(back.context).toBeUndefined();
    expect(back.moreHeads).toBeUndefined();
    expect(back.layers).toEqual(oneWindow.layers);
  });

  it('refuses a file that is not a leak model', () => {
    expect(() => readLeakModelWeights(new Uint8Array([1, 2, 3]))).toThrow();
  });
});
