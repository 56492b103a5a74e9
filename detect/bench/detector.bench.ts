/**
 * Windows scored per second by the detector's path (int16 frames at 8 kHz →
 * resample → windows → batched ONNX Runtime), beside the same path scoring
 * one window per run (no batching), measured in the same run; and the ratio
 * to the frame rate of a 2,000-sensor fleet (one 1 s frame per sensor every
 * 10 minutes during the night window, the demo scenario's cadence). A
 * context model is measured with its sensor histories (SensorHistories),
 * and windows are cut with the model's own front end. Beside them, the cost
 * of a front end that takes mains lines out (audio/mains-lines.ts) against
 * the plain one, on the same frames and on frames that all hum.
 *
 *   npm run bench -w detect       (BENCH_WINDOWS, BENCH_RUNS, BENCH_THREADS, BENCH_MODEL to change)
 */
import { existsSync } from 'node:fs';
import { median, printReport } from '@suido/infra/bench';
import { FEATURE_COUNT, PLAIN_FRONT_END, type FrontEnd } from '../src/model/feature-spec.ts';
import { DEFAULT_MIN_LINE_SHARE } from '../src/audio/mains-lines.ts';
import { DEFAULT_MODEL_PATH } from '../src/model/default-model.ts';
import { LeakModel } from '../src/model/leak-model.ts';
import { buildLeakModelGraph } from '../src/model/onnx-graph.ts';
import { SensorHistories } from '../src/stream/sensor-histories.ts';
import { DEFAULT_MAX_BATCH, scoreWindows } from '../src/stream/window-scorer.ts';
import { Windower, type Window } from '../src/stream/windower.ts';

const WINDOWS = Number(process.env.BENCH_WINDOWS ?? 2000);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const THREADS = Number(process.env.BENCH_THREADS ?? 1);
/** Another model file to measure (e.g. a candidate beside the shipped one). */
const MODEL_PATH = process.env.BENCH_MODEL ?? DEFAULT_MODEL_PATH;
const FLEET_SENSORS = 2000;
const FRAME_INTERVAL_S = 600;
const GOAL = 20;

function frames(n: number): Int16Array[] {
  let s = 1;
  const r = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32) - 0.5;
  return Array.from({ length: n }, () => Int16Array.from({ length: 8000 }, () => Math.round(r() * 4000)));
}

async function loadModel(): Promise<{ model: LeakModel; which: string }> {
  if (existsSync(MODEL_PATH)) return { model: await LeakModel.load(MODEL_PATH, { threads: THREADS }), which: MODEL_PATH };
  // Same graph shape as the trained model (the features dominate the cost).
  const dense = (inputs: number, units: number) => ({ inputs, units, kernel: new Float32Array(inputs * units).fill(0.01), bias: new Float32Array(units) });
  const bytes = buildLeakModelGraph(
    { featureMean: new Float32Array(FEATURE_COUNT), featureStd: new Float32Array(FEATURE_COUNT).fill(1), layers: [dense(FEATURE_COUNT, 32), dense(32, 16), dense(16, 1)] },
    { version: 'bench', threshold: '0.5', sample_rate_hz: '4000', window_samples: '4000' },
  );
  return { model: await LeakModel.load(bytes, { threads: THREADS }), which: 'an untrained model of the same shape (no trained model found)' };
}

const { model, which } = await loadModel();
const input = frames(WINDOWS);
/** The same frames with a transformer's 100 Hz at twice their RMS: every window has a line to fit and take out. */
const humming = input.map((pcm) => Int16Array.from(pcm, (v, n) => v + Math.round(2 * 1155 * Math.SQRT2 * Math.sin((2 * Math.PI * 100.04 * n) / 8000))));
const cutWith = (frontEnd: FrontEnd, source: Int16Array[] = input): Window[] =>
  source.flatMap((pcm, i) => {
    const w = new Windower(undefined, frontEnd).push({ startMs: i * 600_000, sampleRateHz: 8000, samples: pcm });
    return typeof w === 'string' ? [] : w;
  });
const cut = () => cutWith(model.info.frontEnd);

/**
 * A context model scores each window with its sensor's history: the windows
 * are spread over the fleet's sensors (one per sensor per pass, as frames
 * arrive), and each path keeps its histories across runs, as the detector
 * does, so only the warm-up meets a sensor for the first time.
 */
const context = model.info.contextWindows > 1;
const historiesFor = (maxBatch: number) => (context ? new SensorHistories(model, maxBatch) : undefined);
const histories = { batched: historiesFor(DEFAULT_MAX_BATCH), single: historiesFor(1) };
/** `first`: the fleet position of the first window (one sensor per position). */
const score = (ws: Window[], maxBatch: number, h: SensorHistories | undefined, first = 0) =>
  h ? h.scoreWindows(ws.map((window, i) => ({ sensorId: `S-${(first + i) % FLEET_SENSORS}`, window }))) : scoreWindows(model, ws, maxBatch);
await score(cut(), DEFAULT_MAX_BATCH, histories.batched); // warm-up
await score(cut().slice(0, Math.max(50, Math.floor(WINDOWS / 10))), 1, histories.single);
const batched: number[] = [];
const single: number[] = [];
const onnxOnly: number[] = [];
for (let run = 0; run < RUNS; run++) {
  let t0 = performance.now();
  const ws = cut();
  await score(ws, DEFAULT_MAX_BATCH, histories.batched);
  batched.push((performance.now() - t0) / 1000);

  const prepared = cut();
  t0 = performance.now();
  await score(prepared, DEFAULT_MAX_BATCH, histories.batched);
  onnxOnly.push((performance.now() - t0) / 1000);

  const few = cut().slice(0, Math.max(50, Math.floor(WINDOWS / 10)));
  t0 = performance.now();
  for (const [i, w] of few.entries()) await score([w], 1, histories.single, i);
  single.push(((performance.now() - t0) / 1000) * (WINDOWS / few.length));
}
await model.close();
const lines: FrontEnd = { minLineShare: DEFAULT_MIN_LINE_SHARE };
const windowing = { plain: [] as number[], lines: [] as number[], humming: [] as number[] };
for (let run = 0; run < RUNS; run++) {
  for (const [key, frontEnd, source] of [['plain', PLAIN_FRONT_END, input], ['lines', lines, input], ['humming', lines, humming]] as const) {
    const t0 = performance.now();
    cutWith(frontEnd, source);
    windowing[key].push((performance.now() - t0) / 1000);
  }
}
const rate = (s: number[]) => WINDOWS / median(s);
const fleetRate = FLEET_SENSORS / FRAME_INTERVAL_S;
printReport({
  bench: 'detector',
  title: 'Leak detector: windows scored per second',
  params: { windows: WINDOWS, runs: RUNS, batch: DEFAULT_MAX_BATCH, onnxThreads: THREADS, model: which, contextWindows: model.info.contextWindows, fleetSensors: FLEET_SENSORS, frameEveryS: FRAME_INTERVAL_S },
  figures: [
    {
      name: 'detector path, batched (resample + window + ONNX)',
      value: rate(batched),
      unit: 'windows/s',
      baseline: { name: `fleet of ${FLEET_SENSORS} sensors' frame rate`, value: fleetRate },
      goal: { on: 'ratio', op: '>=', target: GOAL, source: 'issue 3' },
    },
    { name: 'ONNX Runtime alone, batched', value: rate(onnxOnly), unit: 'windows/s', baseline: { name: 'one window per run', value: rate(single) } },
    { name: `windowing with mains lines taken out (share ${DEFAULT_MIN_LINE_SHARE}), hiss alone`, value: rate(windowing.lines), unit: 'windows/s', baseline: { name: 'plain windowing (resample + high-pass)', value: rate(windowing.plain) } },
    { name: 'windowing with mains lines taken out, every window humming', value: rate(windowing.humming), unit: 'windows/s', baseline: { name: 'plain windowing (resample + high-pass)', value: rate(windowing.plain) } },
  ],
  notes: [`windows cut with the model's front end: ${model.info.frontEnd.minLineShare > 0 ? `mains lines of ${model.info.frontEnd.minLineShare} of a window's power or more taken out` : 'plain'}`, `the fleet sends one 1 s frame per sensor every ${FRAME_INTERVAL_S} s during the night window: ${fleetRate.toFixed(2)} windows/s`],
});
