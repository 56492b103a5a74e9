import * as tf from '@tensorflow/tfjs';
import type { DenseLayer, LeakModelWeights } from '../model/onnx-graph.ts';
import { featureWidth, type ExampleSet } from './examples.ts';
import { seededRandom } from './seeded-random.ts';

export interface FitOptions {
  readonly hidden: readonly number[];
  readonly epochs: number;
  readonly batchSize: number;
  readonly learningRate: number;
  /** L2 penalty on kernels: the features are few, the simulator's quirks many. */
  readonly l2: number;
  readonly dropout: number;
  readonly seed: number;
  /**
   * Heads trained on the same features with seeds seed, seed+1, …, averaged in
   * probability: one head overfits the training sensors within a few epochs,
   * so where early stopping lands varies with the seed; the mean of several
   * varies less. The features are shared, so each head costs ~5 k MACs.
   */
  readonly heads: number;
  /**
   * The first head's place in the ensemble: this run trains heads firstHead …
   * firstHead + heads − 1, head h with seed seed + h, so runs that share the
   * heads out (train.ts --first-head, merged by --reuse-model A,B) train the
   * very heads one run would. Default 0.
   */
  readonly firstHead?: number;
  /** Stop after this many epochs without a better validation loss; keep the best. */
  readonly patience: number;
  /**
   * TensorFlow.js backend: 'cpu' (pure JS) or 'wasm' (@tensorflow/tfjs-backend-wasm,
   * imported by the caller that asks for it; train.ts does). Default 'cpu'.
   */
  readonly backend?: 'cpu' | 'wasm';
  /** The sets hold context features (context-examples.ts): the weights say so, and the graph takes a context. */
  readonly context?: boolean;
  readonly onEpoch?: (epoch: number, trainLoss: number, valLoss: number, head: number) => void;
}

export const DEFAULT_FIT: Omit<FitOptions, 'onEpoch'> = {
  hidden: [32, 16],
  epochs: 60,
  batchSize: 128,
  learningRate: 0.002,
  l2: 1e-4,
  dropout: 0.1,
  seed: 1,
  // One head by default: a 5-head ensemble beat single retrained heads on
  // validation (window AUC 0.862 vs 0.830–0.854, night AUC 0.875 vs 0.853–0.882)
  // but not the committed 1.1.0 model (0.863 / 0.896), so `--heads` is opt-in.
  heads: 1,
  patience: 8,
};

/** Mean and standard deviation of each feature over the training windows (weight > 0). */
export function standardisation(set: ExampleSet): { mean: Float32Array; std: Float32Array } {
  const width = featureWidth(set);
  const mean = new Float64Array(width);
  const sq = new Float64Array(width);
  let n = 0;
  for (let i = 0; i < set.examples.length; i++) {
    if (set.weights[i] === 0) continue;
    n++;
    for (let f = 0; f < width; f++) mean[f]! += set.features[i * width + f]!;
  }
  for (let f = 0; f < width; f++) mean[f]! /= n;
  for (let i = 0; i < set.examples.length; i++) {
    if (set.weights[i] === 0) continue;
    for (let f = 0; f < width; f++) sq[f]! += (set.features[i * width + f]! - mean[f]!) ** 2;
  }
  return { mean: Float32Array.from(mean), std: Float32Array.from(sq, (s) => Math.max(Math.sqrt(s / n), 1e-3)) };
}

function tensors(set: ExampleSet, mean: Float32Array, std: Float32Array) {
  const width = mean.length;
  const keep: number[] = [];
  for (let i = 0; i < set.examples.length; i++) if (set.weights[i]! > 0) keep.push(i);
  const x = new Float32Array(keep.length * width);
  const y = new Float32Array(keep.length);
  keep.forEach((src, dst) => {
    for (let f = 0; f < width; f++) x[dst * width + f] = (set.features[src * width + f]! - mean[f]!) / std[f]!;
    y[dst] = set.labels[src]!;
  });
  return { x: tf.tensor2d(x, [keep.length, width]), y: tf.tensor2d(y, [keep.length, 1]), positives: y.reduce((a, b) => a + b, 0), n: keep.length, width };
}

/**
 * Trains the dense head on the reference features with TensorFlow.js (pure
 * JS 'cpu' or 'wasm' backend: each deterministic for a seed, no native
 * install; a test holds each to it) and returns the weights for the ONNX graph.
 */
export interface FittedModel {
  readonly weights: LeakModelWeights;
  /** TensorFlow.js's own prediction on raw (unstandardised) features, for the parity check with ONNX. */
  predict(features: Float32Array, rows: number): Float32Array;
  dispose(): void;
}

export async function fitLeakModel(train: ExampleSet, val: ExampleSet, opts: FitOptions): Promise<FittedModel> {
  await tf.setBackend(opts.backend ?? 'cpu');
  const { mean, std } = standardisation(train);
  const t = tensors(train, mean, std);
  const v = tensors(val, mean, std);
  const heads: { model: tf.Sequential; layers: DenseLayer[] }[] = [];
  try {
    const first = opts.firstHead ?? 0;
    for (let h = first; h < first + Math.max(1, opts.heads); h++) heads.push(await fitHead(t, v, { ...opts, seed: opts.seed + h }, h));
  } finally {
    tf.dispose([t.x, t.y, v.x, v.y]);
  }
  const [first, ...rest] = heads.map((x) => x.layers);
  const weights: LeakModelWeights = {
    ...(opts.context ? { context: true } : {}),
    featureMean: mean,
    featureStd: std,
    layers: first!,
    ...(rest.length > 0 ? { moreHeads: rest } : {}),
  };
  return {
    weights,
    predict(features, rows) {
      return tf.tidy(() => {
        const x = tf.tensor2d(features, [rows, mean.length]).sub(tf.tensor1d(mean)).div(tf.tensor1d(std));
        // The mean of the heads' probabilities, as the ONNX graph computes it.
        const sum = heads.map(({ model }) => predictAll(model, x)).reduce((a, b) => a.add(b));
        return Float32Array.from(sum.div(tf.scalar(heads.length)).dataSync());
      });
    },
    dispose: () => heads.forEach(({ model }) => model.dispose()),
  };
}

type Tensors = ReturnType<typeof tensors>;

async function fitHead(t: Tensors, v: Tensors, opts: FitOptions, head: number): Promise<{ model: tf.Sequential; layers: DenseLayer[] }> {
  // Leaks are the minority; weigh them so the loss does not settle on "never".
  const positiveWeight = (t.n - t.positives) / Math.max(t.positives, 1);
  const model = tf.sequential();
  opts.hidden.forEach((units, i) => {
    model.add(
      tf.layers.dense({
        ...(i === 0 ? { inputShape: [t.width] } : {}),
        units,
        activation: 'relu',
        kernelInitializer: tf.initializers.heNormal({ seed: opts.seed + i }),
        kernelRegularizer: tf.regularizers.l2({ l2: opts.l2 }),
      }),
    );
    if (opts.dropout > 0) model.add(tf.layers.dropout({ rate: opts.dropout, seed: opts.seed + 100 + i }));
  });
  model.add(tf.layers.dense({ units: 1, activation: 'sigmoid', kernelInitializer: tf.initializers.glorotUniform({ seed: opts.seed + 99 }) }));
  model.compile({ optimizer: tf.train.adam(opts.learningRate), loss: 'binaryCrossentropy' });

  let best = { loss: Infinity, weights: [] as tf.Tensor[] };
  let sinceBest = 0;
  for (let epoch = 1; epoch <= opts.epochs; epoch++) {
    // tfjs shuffles with Math.random; shuffle here with the seed instead, so
    // that a seed gives the same model every time.
    const order = tf.tensor1d(seededPermutation(t.n, opts.seed * 1000 + epoch), 'int32');
    const [xs, ys] = [tf.gather(t.x, order), tf.gather(t.y, order)];
    const h = await model.fit(xs, ys, { epochs: 1, batchSize: opts.batchSize, shuffle: false, classWeight: { 0: 1, 1: positiveWeight }, verbose: 0 });
    tf.dispose([order, xs, ys]);
    const valLoss = tf.tidy(() => {
      const p = predictAll(model, v.x).clipByValue(1e-7, 1 - 1e-7);
      const ll = v.y.mul(p.log()).add(tf.scalar(1).sub(v.y).mul(tf.scalar(1).sub(p).log()));
      return -ll.mean().dataSync()[0]!;
    });
    opts.onEpoch?.(epoch, h.history.loss![0] as number, valLoss, head);
    if (valLoss < best.loss - 1e-5) {
      best.weights.forEach((w) => w.dispose());
      best = { loss: valLoss, weights: model.getWeights().map((w) => w.clone()) };
      sinceBest = 0;
    } else if (++sinceBest >= opts.patience) {
      break;
    }
  }
  model.setWeights(best.weights);
  tf.dispose(best.weights);
  const layers: DenseLayer[] = model.layers
    .filter((l) => l.getClassName() === 'Dense')
    .map((l) => {
      const [kernel, bias] = l.getWeights();
      const [inputs, units] = kernel!.shape as [number, number];
      return { inputs, units, kernel: Float32Array.from(kernel!.dataSync()), bias: Float32Array.from(bias!.dataSync()) };
    });
  return { model, layers };
}

/**
 * One batch for every row. model.predict's default batch of 32 slices its
 * input per batch, and the wasm backend's slice copies the whole input out of
 * the heap each time: quadratic in the rows (a 96k-window validation set took
 * over 25 minutes; in one batch, seconds).
 */
function predictAll(model: tf.Sequential, x: tf.Tensor): tf.Tensor {
  return model.predict(x, { batchSize: Math.max(1, x.shape[0]!) }) as tf.Tensor;
}

/** Fisher–Yates with a small seeded generator (mulberry32). */
function seededPermutation(n: number, seed: number): Int32Array {
  const next = seededRandom(seed);
  const order = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}
