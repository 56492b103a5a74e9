import type { DenseLayer, LeakModelWeights } from './onnx-graph.ts';

/** The dense part of the model in plain TypeScript: standardise, ReLU layers, sigmoid; the mean over heads. */
export function denseForward(weights: LeakModelWeights, features: Float32Array): number {
  const x0 = Float64Array.from(features, (v, i) => (v - weights.featureMean[i]!) / weights.featureStd[i]!);
  const head = (layers: readonly DenseLayer[]) => {
    let x = x0;
    layers.forEach((layer, li) => {
      const y = new Float64Array(layer.units);
      for (let u = 0; u < layer.units; u++) {
        let acc = layer.bias[u]!;
        for (let i = 0; i < layer.inputs; i++) acc += x[i]! * layer.kernel[i * layer.units + u]!;
        y[u] = li === layers.length - 1 ? acc : Math.max(0, acc);
      }
      x = y;
    });
    return 1 / (1 + Math.exp(-x[0]!));
  };
  const heads = [weights.layers, ...(weights.moreHeads ?? [])];
  return heads.reduce((sum, layers) => sum + head(layers), 0) / heads.length;
}
