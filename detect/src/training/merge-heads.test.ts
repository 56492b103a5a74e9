import { describe, expect, it } from 'vitest';
import type { LeakModelWeights } from '../model/onnx-graph.ts';
import { mergeHeads } from './merge-heads.ts';

const layer = (inputs: number, units: number, fill: number) => ({ inputs, units, kernel: new Float32Array(inputs * units).fill(fill), bias: new Float32Array(units) });
const model = (fill: number, over: Partial<LeakModelWeights> = {}): LeakModelWeights => ({
  featureMean: Float32Array.from([0.5, -1]),
  featureStd: Float32Array.from([1, 2]),
  layers: [layer(2, 3, fill), layer(3, 1, fill)],
  ...over,
});

describe('mergeHeads', () => {
  it('puts every head of every model into one ensemble, in order', () => {
    const { weights, headSeeds } = mergeHeads([
      { name: 'a', weights: model(1, { moreHeads: [[layer(2, 3, 2), layer(3, 1, 2)]] }), headSeeds: [1, 2] },
      { name: 'b', weights: model(3), headSeeds: [3] },
    ]);
    expect(headSeeds).toEqual([1, 2, 3]);
    expect([weights.layers, ...(weights.moreHeads ?? [])].map((h) => h[0]!.kernel[0])).toEqual([1, 2, 3]);
  });

  it('refuses heads standardised differently, of another shape or kind, or trained twice', () => {
    const a = { name: 'a', weights: model(1), headSeeds: [1] };
    expect(() => mergeHeads([a, { name: 'b', weights: model(2, { featureStd: Float32Array.from([1, 2.0001]) }), headSeeds: [2] }])).toThrow(/standardised differently/);
    expect(() => mergeHeads([a, { name: 'b', weights: model(2, { layers: [layer(2, 4, 2), layer(4, 1, 2)] }), headSeeds: [2] }])).toThrow(/layers 2x4,4x1/);
    expect(() => mergeHeads([a, { name: 'b', weights: model(2, { context: true }), headSeeds: [2] }])).toThrow(/context model/);
    expect(() => mergeHeads([a, { name: 'b', weights: model(2), headSeeds: [1] }])).toThrow(/seed 1 already taken/);
    expect(() => mergeHeads([])).toThrow(/no model/);
  });
});
