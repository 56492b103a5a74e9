import type { LeakModelWeights } from './onnx-graph.ts';

/** The dense part of the model in plain TypeScript: standardise, ReLU layers, sigmoid. */
export function denseForward(weights: LeakModelWeights, features: Float32Array): number {
  let x = Float64Array.from(features, (v, i) => (v - weights.featureMean[i]!) / weights.featureStd[i]!);
  weights.layers.forEach((layer, li) => {
    const y = new Float64Array(layer.units);
    for (let u = 0; u < layer.units; u++) {
      let acc = layer.bias[u]!;
      for (let i = 0; i < layer.inputs; i++) acc += x[i]! * layer.kernel[i * layer.units + u]!;
      y[u] = li === weights.layers.length - 1 ? acc : Math.max(0, acc);
    }
    x = y;
  });
  return 1 / (1 + Math.exp(-x[0]!));
}
