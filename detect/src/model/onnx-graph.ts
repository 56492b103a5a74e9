import onnxProto from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';
import {
  BAND_COUNT,
  FEATURE_COUNT,
  FEATURE_GROUPS,
  FRAME_SAMPLES,
  MEDIAN_RANK,
  P10_RANK,
  RELATIVE_FLOOR,
  type FeatureGroup,
  LOG_FLOOR,
  SPECTRUM_BINS,
  STD_FLOOR,
  WINDOW_SAMPLES,
  LOW_BIN_COUNT,
  LOW_FEATURE_GROUPS,
  LOW_FRAME_SAMPLES,
  LOW_MEDIAN_RANK,
  LOW_P10_RANK,
  type LowFeatureGroup,
  bandFilterbank,
  dftMatrices,
  frameStarts,
  hannWindow,
  lowDftMatrices,
  lowFrameStarts,
  lowHannWindow,
} from './feature-spec.ts';
import { CONTEXT_FEATURE_COUNT, CONTEXT_MEDIAN_RANK, CONTEXT_P20_RANK, CONTEXT_ROWS, CONTEXT_WINDOWS } from './sensor-context.ts';

const { onnx } = onnxProto;

/** A dense layer as trained: kernel [inputs x units] row-major, bias [units]. */
export interface DenseLayer {
  readonly kernel: Float32Array;
  readonly bias: Float32Array;
  readonly inputs: number;
  readonly units: number;
}

export interface LeakModelWeights {
  /**
   * A context model (sensor-context.ts): the graph takes the sensor's previous
   * windows' features as a second input, `context`, gives the window's own
   * features back as a second output, `features`, and the heads see the
   * CONTEXT_FEATURE_COUNT order statistics over the stack.
   */
  readonly context?: boolean;
  /** Standardisation of the heads' inputs (FEATURE_COUNT window features, or CONTEXT_FEATURE_COUNT for a context model), from the training split. */
  readonly featureMean: Float32Array;
  readonly featureStd: Float32Array;
  /** Hidden layers use ReLU; the last layer has one unit and a sigmoid. */
  readonly layers: readonly DenseLayer[];
  /**
   * Further heads of the same shape on the same features, trained with other
   * seeds: the score is the mean of all heads' probabilities (an ensemble
   * evens out where each head's early stopping happened to land).
   */
  readonly moreHeads?: readonly (readonly DenseLayer[])[];
}

/**
 * ONNX opset 17 (IR 8): every op used here (ReduceMean/ReduceMax with axes
 * as an attribute, TopK, Gather, MatMul, Gemm, Log, Sqrt, Concat, Add, Mul, Sigmoid) is in the core
 * set that every ONNX Runtime build and most other runtimes implement. DFT
 * and STFT exist from opset 17 too, but a DFT as a constant MatMul is
 * supported everywhere and costs ~4 MFLOP per window.
 */
const OPSET = 17;
const IR_VERSION = 8;

/**
 * The whole detector as one ONNX graph: raw PCM window in (float32 [batch,
 * 4000], 4 kHz, full scale ±1), leak probability out (float32 [batch, 1]).
 * Putting the features in the graph means the artifact alone defines the
 * model: our detector, the WAV scoring CLI or another team's runtime feed it
 * PCM and cannot drift from the features it was trained on.
 */
export function buildLeakModelGraph(weights: LeakModelWeights, metadata: Record<string, string>): Uint8Array {
  const init: OnnxTypes.ITensorProto[] = [];
  const nodes: OnnxTypes.INodeProto[] = [];
  const constF = (name: string, dims: number[], data: Float32Array) => {
    init.push({ name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: bytesOf(data) });
    return name;
  };
  const constI64 = (name: string, dims: number[], data: number[]) => {
    init.push({ name, dims, dataType: onnx.TensorProto.DataType.INT64, rawData: bytesOf(BigInt64Array.from(data.map(BigInt))) });
    return name;
  };
  const node = (opType: string, inputs: string[], output: string, attrs: OnnxTypes.IAttributeProto[] = []) => {
    nodes.push({ opType, input: inputs, output: [output], name: output, attribute: attrs });
    return output;
  };
  const ints = (name: string, values: number[]): OnnxTypes.IAttributeProto => ({ name, type: onnx.AttributeProto.AttributeType.INTS, ints: values });
  const int = (name: string, value: number): OnnxTypes.IAttributeProto => ({ name, type: onnx.AttributeProto.AttributeType.INT, i: value });

  const frameIndex = frameStarts().flatMap((s) => Array.from({ length: FRAME_SAMPLES }, (_, n) => s + n));
  const { cos, sin } = dftMatrices();

  // Spectral features (see feature-spec.ts and reference-features.ts).
  const dc = node('ReduceMean', ['pcm'], 'dc', [ints('axes', [1]), int('keepdims', 1)]);
  const centred = node('Sub', ['pcm', dc], 'centred');
  const frames = node('Gather', [centred, constI64('frame_index', [frameStarts().length, FRAME_SAMPLES], frameIndex)], 'frames', [int('axis', 1)]);
  const windowed = node('Mul', [frames, constF('hann', [FRAME_SAMPLES], hannWindow())], 'windowed');
  const re = node('MatMul', [windowed, constF('dft_cos', [FRAME_SAMPLES, SPECTRUM_BINS], cos)], 're');
  const im = node('MatMul', [windowed, constF('dft_sin', [FRAME_SAMPLES, SPECTRUM_BINS], sin)], 'im');
  const power = node('Add', [node('Mul', [re, re], 're2'), node('Mul', [im, im], 'im2')], 'power');
  // Floor relative to the window's mean bin power (see RELATIVE_FLOOR).
  const meanPower = node('ReduceMean', [power], 'mean_power', [ints('axes', [1, 2]), int('keepdims', 1)]);
  const logFloor = constF('log_floor', [], Float32Array.of(LOG_FLOOR));
  const floor = node('Add', [node('Mul', [meanPower, constF('relative_floor', [], Float32Array.of(RELATIVE_FLOOR))], 'floor_rel'), logFloor], 'floor');
  const filterbank = constF('filterbank', [SPECTRUM_BINS, BAND_COUNT], bandFilterbank().weights);
  const bands = node('MatMul', [power, filterbank], 'bands');
  const logBands = node('Log', [node('Add', [bands, floor], 'bands_floored')], 'log_bands');
  const level = node('ReduceMean', [logBands], 'level', [ints('axes', [1, 2]), int('keepdims', 1)]);
  // The bands' own levels, before the shape is taken: a sensor's history of them (model/band-levels.ts)
  // tells a leak that began from the steady background it replaced, which the shape alone cannot.
  node('ReduceMean', [logBands], 'band_levels', [ints('axes', [1]), int('keepdims', 0)]);
  const shape = node('Sub', [logBands, level], 'shape');
  const bandMeanK = node('ReduceMean', [shape], 'band_mean_k', [ints('axes', [1]), int('keepdims', 1)]);
  const dev = node('Sub', [shape, bandMeanK], 'dev');
  const variance = node('ReduceMean', [node('Mul', [dev, dev], 'dev2')], 'variance', [ints('axes', [1]), int('keepdims', 0)]);
  // k-th smallest over frames: the largest of the k smallest (TopK, largest = 0).
  const kthSmallest = (rank: number, name: string) =>
    node('ReduceMax', [topK(shape, constI64(`${name}_k`, [1], [rank + 1]), name)], name, [ints('axes', [1]), int('keepdims', 0)]);
  const topK = (x: string, k: string, name: string) => {
    nodes.push({ opType: 'TopK', input: [x, k], output: [`${name}_values`, `${name}_indices`], name: `${name}_topk`, attribute: [int('axis', 1), int('largest', 0), int('sorted', 1)] });
    return `${name}_values`;
  };
  const build: Record<FeatureGroup, () => string> = {
    mean: () => node('ReduceMean', [shape], 'band_mean', [ints('axes', [1]), int('keepdims', 0)]),
    std: () => node('Sqrt', [node('Add', [variance, constF('std_floor', [], Float32Array.of(STD_FLOOR))], 'variance_floored')], 'band_std'),
    p10: () => kthSmallest(P10_RANK, 'band_p10'),
    median: () => kthSmallest(MEDIAN_RANK, 'band_median'),
    sflat: () => {
      // Arithmetic minus geometric mean of the band's bins, in logs.
      const logPower = node('Log', [node('Add', [power, floor], 'power_floored')], 'log_power');
      const meanLog = node('MatMul', [logPower, filterbank], 'band_mean_log');
      return node('ReduceMean', [node('Sub', [logBands, meanLog], 'sflat_frames')], 'band_sflat', [ints('axes', [1]), int('keepdims', 0)]);
    },
    tflat: () => {
      const meanBandPower = node('ReduceMean', [bands], 'mean_band_power', [ints('axes', [1]), int('keepdims', 0)]);
      const floor2 = node('ReduceMean', [floor], 'floor_2d', [ints('axes', [2]), int('keepdims', 0)]);
      const logMean = node('Log', [node('Add', [meanBandPower, floor2], 'mean_band_power_floored')], 'log_mean_band_power');
      const meanLog = node('ReduceMean', [logBands], 'mean_log_band', [ints('axes', [1]), int('keepdims', 0)]);
      return node('Sub', [logMean, meanLog], 'band_tflat');
    },
  };

  // The low-frequency block: longer frames, single bins, the same level and floor.
  const lowIndex = lowFrameStarts().flatMap((s) => Array.from({ length: LOW_FRAME_SAMPLES }, (_, n) => s + n));
  const lowDft = lowDftMatrices();
  const lowFrames = node('Gather', [centred, constI64('low_frame_index', [lowFrameStarts().length, LOW_FRAME_SAMPLES], lowIndex)], 'low_frames', [int('axis', 1)]);
  const lowWindowed = node('Mul', [lowFrames, constF('low_hann', [LOW_FRAME_SAMPLES], lowHannWindow())], 'low_windowed');
  const lowRe = node('MatMul', [lowWindowed, constF('low_dft_cos', [LOW_FRAME_SAMPLES, LOW_BIN_COUNT], lowDft.cos)], 'low_re');
  const lowIm = node('MatMul', [lowWindowed, constF('low_dft_sin', [LOW_FRAME_SAMPLES, LOW_BIN_COUNT], lowDft.sin)], 'low_im');
  const lowPower = node('Add', [node('Mul', [lowRe, lowRe], 'low_re2'), node('Mul', [lowIm, lowIm], 'low_im2')], 'low_power');
  const lowLevel = node('Log', [node('Add', [meanPower, logFloor], 'mean_power_floored')], 'low_level');
  const lowShape = node('Sub', [node('Log', [node('Add', [lowPower, floor], 'low_power_floored')], 'low_log_power'), lowLevel], 'low_shape');
  const lowMean = node('ReduceMean', [lowShape], 'low_mean', [ints('axes', [1]), int('keepdims', 1)]);
  const lowDev = node('Sub', [lowShape, lowMean], 'low_dev');
  const lowVariance = node('ReduceMean', [node('Mul', [lowDev, lowDev], 'low_dev2')], 'low_variance', [ints('axes', [1]), int('keepdims', 0)]);
  const lowKth = (rank: number, name: string) =>
    node('ReduceMax', [topK(lowShape, constI64(`${name}_k`, [1], [rank + 1]), name)], name, [ints('axes', [1]), int('keepdims', 0)]);
  const buildLow: Record<LowFeatureGroup, () => string> = {
    lowMedian: () => lowKth(LOW_MEDIAN_RANK, 'low_median'),
    lowP10: () => lowKth(LOW_P10_RANK, 'low_p10'),
    lowStd: () => node('Sqrt', [node('Add', [lowVariance, constF('low_std_floor', [], Float32Array.of(STD_FLOOR))], 'low_variance_floored')], 'low_std'),
  };
  const bandFeatures = FEATURE_GROUPS.map((g) => build[g]());
  const lowFeatures = LOW_FEATURE_GROUPS.map((g) => buildLow[g]());
  const features = node('Concat', [...bandFeatures, ...lowFeatures], 'features', [int('axis', 1)]);

  // A context model: order statistics of each feature over this window and the sensor's previous ones.
  let headInput = features;
  let width = FEATURE_COUNT;
  if (weights.context) {
    const row = node('Unsqueeze', [features, constI64('row_axis', [1], [1])], 'features_row');
    const stack = node('Concat', [row, 'context'], 'context_stack', [int('axis', 1)]);
    const stackKth = (rank: number, name: string) =>
      node('ReduceMax', [topK(stack, constI64(`${name}_k`, [1], [rank + 1]), name)], name, [ints('axes', [1]), int('keepdims', 0)]);
    const stackMean = node('ReduceMean', [stack], 'context_mean', [ints('axes', [1]), int('keepdims', 1)]);
    const stackDev = node('Sub', [stack, stackMean], 'context_dev');
    const stackVariance = node('ReduceMean', [node('Mul', [stackDev, stackDev], 'context_dev2')], 'context_variance', [ints('axes', [1]), int('keepdims', 0)]);
    const stackStd = node('Sqrt', [node('Add', [stackVariance, constF('context_std_floor', [], Float32Array.of(STD_FLOOR))], 'context_variance_floored')], 'context_std');
    headInput = node('Concat', [stackKth(CONTEXT_MEDIAN_RANK, 'context_median'), stackKth(CONTEXT_P20_RANK, 'context_p20'), stackStd], 'context_features', [int('axis', 1)]);
    width = CONTEXT_FEATURE_COUNT;
  }
  if (weights.featureMean.length !== width || weights.featureStd.length !== width) {
    throw new Error(`standardisation holds ${weights.featureMean.length} means and ${weights.featureStd.length} deviations; the heads take ${width} inputs`);
  }

  // Standardise, then the dense layers of each head; the score is the mean of the heads' probabilities.
  const x0 = node(
    'Div',
    [node('Sub', [headInput, constF('feature_mean', [width], weights.featureMean)], 'features_centred'), constF('feature_std', [width], weights.featureStd)],
    'features_std',
  );
  const heads = [weights.layers, ...(weights.moreHeads ?? [])];
  const probabilities = heads.map((layers, h) => {
    const p = h === 0 ? '' : `head${h}_`;
    let x = x0;
    layers.forEach((layer, i) => {
      const last = i === layers.length - 1;
      const gemm = node('Gemm', [x, constF(`${p}dense${i}_kernel`, [layer.inputs, layer.units], layer.kernel), constF(`${p}dense${i}_bias`, [layer.units], layer.bias)], `${p}dense${i}`);
      x = node(last ? 'Sigmoid' : 'Relu', [gemm], last ? (heads.length === 1 ? 'score' : `${p}probability`) : `${p}dense${i}_relu`);
    });
    return x;
  });
  if (heads.length > 1) {
    // Sum, then times 1/heads: plain Add and Mul, as the TypeScript reference computes it.
    const sum = probabilities.slice(1).reduce((acc, p, i) => node('Add', [acc, p], `head_sum${i + 1}`), probabilities[0]!);
    node('Mul', [sum, constF('head_share', [], Float32Array.of(1 / heads.length))], 'score');
  }

  const tensorType = (dims: (number | string)[]): OnnxTypes.ITypeProto => ({
    tensorType: {
      elemType: onnx.TensorProto.DataType.FLOAT,
      shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
    },
  });
  const model: OnnxTypes.IModelProto = {
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: OPSET }],
    producerName: 'suido-detect',
    producerVersion: metadata.version ?? '0',
    graph: {
      name: 'suido_leak_detector',
      node: nodes,
      initializer: init,
      input: [
        { name: 'pcm', type: tensorType(['batch', WINDOW_SAMPLES]) },
        ...(weights.context ? [{ name: 'context', type: tensorType(['batch', CONTEXT_ROWS, FEATURE_COUNT]) }] : []),
      ],
      output: [
        { name: 'score', type: tensorType(['batch', 1]) },
        ...(weights.context ? [{ name: 'features', type: tensorType(['batch', FEATURE_COUNT]) }] : []),
        { name: 'band_levels', type: tensorType(['batch', BAND_COUNT]) },
      ],
    },
    metadataProps: Object.entries({ ...metadata, ...(weights.context ? { context_windows: String(CONTEXT_WINDOWS) } : {}) }).map(([key, value]) => ({ key, value })),
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}

/** Little-endian bytes of a typed array (ONNX raw_data is little-endian). */
function bytesOf(data: Float32Array | BigInt64Array): Uint8Array {
  const out = new Uint8Array(data.byteLength);
  const view = new DataView(out.buffer);
  if (data instanceof Float32Array) data.forEach((v, i) => view.setFloat32(i * 4, v, true));
  else data.forEach((v, i) => view.setBigInt64(i * 8, v, true));
  return out;
}
