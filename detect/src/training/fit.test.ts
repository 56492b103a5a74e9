import '@tensorflow/tfjs-backend-wasm';
import { describe, expect, it } from 'vitest';
import { LeakModel } from '../model/leak-model.ts';
import { buildLeakModelGraph } from '../model/onnx-graph.ts';
import { scoreWindows } from '../stream/window-scorer.ts';
import { DEFAULT_WINDOWING } from '../stream/windower.ts';
import type { FrameMeta, SplitData } from './dataset.ts';
import { buildExamples } from './examples.ts';
import { DEFAULT_FIT, fitLeakModel } from './fit.ts';
import { mergeHeads } from './merge-heads.ts';
import { rocAuc } from './metrics.ts';

/** A tiny in-memory split: hiss in 300–1,000 Hz (leak) or rumble and hum (none), at 8 kHz. */
function tinySplit(seed: number, frames: number): SplitData {
  let s = seed;
  const rand = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32) - 0.5;
  const metas: FrameMeta[] = [];
  const chunks: Buffer[] = [];
  let offset = 0;
  for (let i = 0; i < frames; i++) {
    const leak = i % 2 === 0;
    const pcm = new Int16Array(8000);
    let low = 0;
    let band1 = 0;
    let band2 = 0;
    for (let n = 0; n < pcm.length; n++) {
      low = 0.98 * low + rand() * 0.2; // rumble
      band1 = 0.6 * band1 + rand(); // crude band-pass: two one-pole stages
      band2 = band1 - 0.5 * band2;
      const hum = 0.05 * Math.sin((2 * Math.PI * 60 * n) / 8000);
      const x = (leak ? 0.05 * band2 : 0) + 0.3 * low + hum + 0.002 * rand();
      pcm[n] = Math.max(-32768, Math.min(32767, Math.round(x * 8000 * (1 + (i % 5)))));
    }
    const buf = Buffer.from(pcm.buffer);
    metas.push({
      id: `f${i}`, sensorId: `S-${i}`, night: 0, frame: 0, startMs: i * 60_000, sampleRateHz: 8000, samples: pcm.length, offsetBytes: offset,
      gainDb: 0, material: leak ? 'steel' : 'pvc', sensorType: 'accelerometer', environment: 'quiet', daytime: false, leak, audible: leak ? true : null, sensorAudible: leak ? true : null,
      leakSizeLps: leak ? 0.3 : null, distanceM: leak ? 20 : null, snrDb: leak ? 10 : null, confounders: [], clipped: false,
    });
    chunks.push(buf);
    offset += buf.length;
  }
  return { split: 'train', frames: metas, pcm: Buffer.concat(chunks) };
}

describe('training', () => {
  it('learns a separable set, and the exported ONNX model (an ensemble of heads) reproduces TensorFlow.js', async () => {
    const train = buildExamples(tinySplit(1, 60), DEFAULT_WINDOWING, { keepPcm: true });
    const val = buildExamples(tinySplit(2, 20), DEFAULT_WINDOWING, { keepPcm: true });
    const fitted = await fitLeakModel(train, val, { ...DEFAULT_FIT, epochs: 25, patience: 25, heads: 3 });
    const tfScores = fitted.predict(val.features, val.examples.length);
    fitted.dispose();
    const model = await LeakModel.load(buildLeakModelGraph(fitted.weights, { version: 't', threshold: '0.5', sample_rate_hz: '4000', window_samples: '4000' }));
    const ortScores = await scoreWindows(model, val.examples.map((e) => ({ startMs: 0, endMs: 1000, parts: [e.pcm!] })));
    await model.close();
    for (let i = 0; i < ortScores.length; i++) expect(ortScores[i]).toBeCloseTo(tfScores[i]!, 4);
    expect(rocAuc(ortScores, val.labels)).toBeGreaterThan(0.9);
  }, 60_000);

  it.each(['cpu', 'wasm'] as const)('gives the same model for the same seed (%s backend)', async (backend) => {
    const train = buildExamples(tinySplit(3, 30), DEFAULT_WINDOWING);
    const val = buildExamples(tinySplit(4, 10), DEFAULT_WINDOWING);
    const fit = async () => {
      const f = await fitLeakModel(train, val, { ...DEFAULT_FIT, epochs: 4, patience: 4, backend });
      f.dispose();
      return f.weights.layers.map((l) => Array.from(l.kernel));
    };
    expect(await fit()).toEqual(await fit());
  }, 60_000);

  it('trains the same ensemble when two runs share out its heads (--first-head) and their heads are merged', async () => {
    const train = buildExamples(tinySplit(5, 30), DEFAULT_WINDOWING);
    const val = buildExamples(tinySplit(6, 10), DEFAULT_WINDOWING);
    const fit = async (firstHead: number, heads: number) => {
      const f = await fitLeakModel(train, val, { ...DEFAULT_FIT, epochs: 3, patience: 3, backend: 'wasm', heads, firstHead });
      f.dispose();
      return f.weights;
    };
    const together = await fit(0, 3);
    const merged = mergeHeads([
      { name: 'a', weights: await fit(0, 2), headSeeds: [1, 2] },
      { name: 'b', weights: await fit(2, 1), headSeeds: [3] },
    ]);
    expect(merged.headSeeds).toEqual([1, 2, 3]);
    const kernels = (w: typeof together) => [w.layers, ...(w.moreHeads ?? [])].map((head) => head.map((l) => Array.from(l.kernel)));
    expect(kernels(merged.weights)).toEqual(kernels(together));
    expect(Array.from(merged.weights.featureStd)).toEqual(Array.from(together.featureStd));
  }, 60_000);
});
