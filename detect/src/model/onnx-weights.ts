import onnxProto from 'onnx-proto';
import type { DenseLayer, LeakModelWeights } from './onnx-graph.ts';

/**
 * The weights back out of a leak model file built by buildLeakModelGraph:
 * standardisation, each head's dense layers, and whether it is a context
 * model. Training uses it to re-choose the operating point of a model it
 * trained before (`train.ts --reuse-model`) without training it again.
 */
export function readLeakModelWeights(bytes: Uint8Array): LeakModelWeights {
  const model = onnxProto.onnx.ModelProto.decode(bytes);
  const graph = model.graph;
  if (!graph) throw new Error('not an ONNX model: no graph');
  const tensors = new Map<string, { dims: number[]; data: Float32Array }>();
  for (const t of graph.initializer ?? []) {
    if (t.dataType !== onnxProto.onnx.TensorProto.DataType.FLOAT || !t.rawData || !t.name) continue;
    const raw = t.rawData;
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    tensors.set(t.name, { dims: (t.dims ?? []).map(Number), data: Float32Array.from({ length: raw.byteLength / 4 }, (_, i) => view.getFloat32(i * 4, true)) });
  }
  const need = (name: string) => {
    const t = tensors.get(name);
    if (!t) throw new Error(`model has no ${name}: not built by buildLeakModelGraph`);
    return t;
  };
  const head = (prefix: string): DenseLayer[] => {
    const layers: DenseLayer[] = [];
    for (let i = 0; tensors.has(`${prefix}dense${i}_kernel`); i++) {
      const kernel = need(`${prefix}dense${i}_kernel`);
      layers.push({ inputs: kernel.dims[0]!, units: kernel.dims[1]!, kernel: kernel.data, bias: need(`${prefix}dense${i}_bias`).data });
    }
    return layers;
  };
  const layers = head('');
  if (layers.length === 0) throw new Error('model has no dense layers: not built by buildLeakModelGraph');
  const moreHeads: DenseLayer[][] = [];
  for (let h = 1; tensors.has(`head${h}_dense0_kernel`); h++) moreHeads.push(head(`head${h}_`));
  const context = (graph.input ?? []).some((i) => i.name === 'context');
  return {
    ...(context ? { context: true } : {}),
    featureMean: need('feature_mean').data,
    featureStd: need('feature_std').data,
    layers,
    ...(moreHeads.length > 0 ? { moreHeads } : {}),
  };
}
