import { seededRandom } from '../training/seeded-random.ts';
import { MODEL_SAMPLE_RATE_HZ, WINDOW_SAMPLES } from './feature-spec.ts';
import type { LeakModelWeights } from './onnx-graph.ts';
import { CONTEXT_FEATURE_COUNT } from './sensor-context.ts';

/** Test fixtures for context models: random heads and windows that score apart. */
export function randomContextWeights(seed: number): LeakModelWeights {
  const r = seededRandom(seed);
  const dense = (inputs: number, units: number) => ({
    inputs,
    units,
    kernel: Float32Array.from({ length: inputs * units }, () => (r() - 0.5) * 0.3),
    bias: Float32Array.from({ length: units }, () => (r() - 0.5) * 0.2),
  });
  return {
    context: true,
    featureMean: Float32Array.from({ length: CONTEXT_FEATURE_COUNT }, () => (r() - 0.5) * 2),
    featureStd: Float32Array.from({ length: CONTEXT_FEATURE_COUNT }, () => 0.5 + r()),
    layers: [dense(CONTEXT_FEATURE_COUNT, 16), dense(16, 1)],
  };
}

/** Hiss at a level and colour set by the seed, with a transient in some. */
export function contextWindow(seed: number): Float32Array {
  const r = seededRandom(seed);
  const level = 0.002 + r() * 0.05;
  const hum = r() * 0.2;
  const burst = r() < 0.3;
  let last = 0;
  return Float32Array.from({ length: WINDOW_SAMPLES }, (_, i) => {
    last = 0.6 * last + (r() - 0.5) * level;
    return last + hum * Math.sin((2 * Math.PI * 60 * i) / MODEL_SAMPLE_RATE_HZ) + (burst && i > 1000 && i < 1400 ? (r() - 0.5) * 0.8 : 0);
  });
}

