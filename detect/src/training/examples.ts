import { removeMainsLines } from '../audio/mains-lines.ts';
import { FEATURE_COUNT, MODEL_SAMPLE_RATE_HZ, PLAIN_FRONT_END, type FrontEnd } from '../model/feature-spec.ts';
import { referenceFeatures } from '../model/reference-features.ts';
import { Windower, type WindowingConfig } from '../stream/windower.ts';
import { framePcm, type FrameMeta, type SplitData } from './dataset.ts';
import { colour, drawColouring } from './device-colouring.ts';
import { addHum, drawHum } from './mains-hum.ts';
import { seededRandom } from './seeded-random.ts';

/**
 * Device colouring for training windows (device-colouring.ts): `share` of the
 * windows, drawn with `seed`, get their features from the window passed
 * through a random device response instead of from the window as recorded.
 */
export interface ColouringOption {
  readonly share: number;
  readonly seed: number;
  /**
   * Draw once per sensor (whether it is coloured, and its response) instead
   * of once per window: a device keeps its response, and a context model
   * (model/sensor-context.ts) sees a sensor's windows together.
   */
  readonly perSensor?: boolean;
}

/** One model input (a 1 s window part) with the frame it came from. */
export interface Example {
  readonly meta: FrameMeta;
  readonly windowStartMs: number;
  /** The window itself, when asked for (to score it through ONNX Runtime). */
  readonly pcm?: Float32Array;
}

export interface ExampleSet {
  readonly examples: readonly Example[];
  /** [examples x FEATURE_COUNT], row-major. */
  readonly features: Float32Array;
  /** 1 for an audible leak, 0 for no leak. */
  readonly labels: Float32Array;
  /**
   * 0 for windows of inaudible leaks: physically they are background, and
   * teaching the model that background is a leak would only teach it false
   * alarms. They are evaluated and reported on their own.
   */
  readonly weights: Float32Array;
  /** Frames skipped, by reason (e.g. a sample rate below the model's). */
  readonly skipped: Record<string, number>;
}

/** What buildExamples is asked for beyond the windowing. */
export interface ExampleOptions {
  readonly keepPcm?: boolean;
  readonly colouring?: ColouringOption;
  readonly hum?: ColouringOption;
  /** The front end the model is trained with and will be served with (model/feature-spec.ts); plain without. */
  readonly frontEnd?: FrontEnd;
  readonly onProgress?: (done: number, total: number) => void;
}

/** Cuts every frame into model windows (frameWindows) and computes the reference features. */
export function buildExamples(data: SplitData, windowing: WindowingConfig, opts: ExampleOptions = {}): ExampleSet {
  const frontEnd = opts.frontEnd ?? PLAIN_FRONT_END;
  const examples: Example[] = [];
  const colouring = drawsFor(opts.colouring, drawColouring);
  // Mains hum (mains-hum.ts), drawn as the colouring is but from a stream of its own, so adding it leaves every colouring as it was.
  const hum = drawsFor(opts.hum, drawHum);
  const rows: Float32Array[] = [];
  const skipped: Record<string, number> = {};
  for (const w of frameWindows(data, windowing, skipped, { frontEnd, onProgress: opts.onProgress })) {
    examples.push(opts.keepPcm ? { meta: w.meta, windowStartMs: w.startMs, pcm: w.pcm } : { meta: w.meta, windowStartMs: w.startMs });
    const response = colouring.drawFor(w.meta.sensorId);
    const site = hum.drawFor(w.meta.sensorId);
    // Hum reaches the sensor beside the pipe's sound, through the same device: added first, then coloured.
    const heard = site ? addHum(w.pcm, site, hum.random!) : w.pcm;
    const recorded = response ? colour(heard, response) : heard;
    // What the detector's front end would make of that recording: its strong mains lines out again
    // (a hum just added, a weak line a resonance lifted), as they were out of the window as cut.
    const served = recorded !== w.pcm && frontEnd.minLineShare > 0 ? removeMainsLines(recorded, MODEL_SAMPLE_RATE_HZ, frontEnd.minLineShare).samples : recorded;
    rows.push(referenceFeatures(served));
  }
  const features = new Float32Array(rows.length * FEATURE_COUNT);
  rows.forEach((r, i) => features.set(r, i * FEATURE_COUNT));
  return { examples, features, ...windowLabels(examples), skipped };
}

/**
 * A training-time draw (a device response, a hum) for `option.share` of the
 * windows, or of the sensors with `perSensor` (each keeping its draw), from
 * the option's own seeded stream; undefined for the rest and without an
 * option. `random` is that stream, for what the draw still takes per window.
 */
function drawsFor<T>(option: ColouringOption | undefined, draw: (random: () => number) => T): { random: (() => number) | undefined; drawFor: (sensorId: string) => T | undefined } {
  const random = option && option.share > 0 ? seededRandom(option.seed) : undefined;
  const bySensor = new Map<string, T | undefined>();
  const once = (r: () => number) => (r() < option!.share ? draw(r) : undefined);
  const drawFor = (sensorId: string): T | undefined => {
    if (!random) return undefined;
    if (!option!.perSensor) return once(random);
    if (!bySensor.has(sensorId)) bySensor.set(sensorId, once(random));
    return bySensor.get(sensorId);
  };
  return { random, drawFor };
}

/** One window of a frame, as the detector's Windower cuts it. */
export interface FrameWindow {
  readonly frameIndex: number;
  readonly meta: FrameMeta;
  readonly startMs: number;
  readonly pcm: Float32Array;
}

/**
 * Every frame cut into model windows with the detector's own Windower, in
 * frame order, one at a time (a training split's windows would not fit in
 * memory at once). Frames are independent recordings here (minutes apart),
 * so each gets a fresh Windower (with the model's front end); a frame it
 * refuses is counted in `skipped` by reason.
 */
export function* frameWindows(
  data: SplitData,
  windowing: WindowingConfig,
  skipped: Record<string, number>,
  opts: { frontEnd?: FrontEnd; onProgress?: ((done: number, total: number) => void) | undefined } = {},
): Generator<FrameWindow> {
  const { frontEnd = PLAIN_FRONT_END, onProgress } = opts;
  for (let i = 0; i < data.frames.length; i++) {
    const meta = data.frames[i]!;
    const result = new Windower({ windowSeconds: 1, hopSeconds: windowing.hopSeconds }, frontEnd).push({
      startMs: meta.startMs,
      sampleRateHz: meta.sampleRateHz,
      samples: framePcm(data, meta),
    });
    if (typeof result === 'string') skipped[result] = (skipped[result] ?? 0) + 1;
    else for (const w of result) yield { frameIndex: i, meta, startMs: w.startMs, pcm: w.parts[0]! };
    if (onProgress && (i + 1) % 500 === 0) onProgress(i + 1, data.frames.length);
  }
}

/** A window model's labels: 1 for an audible leak; inaudible leaks weigh 0 (see ExampleSet). */
export function windowLabels(examples: readonly Example[]): { labels: Float32Array; weights: Float32Array } {
  return {
    labels: Float32Array.from(examples, (e) => (e.meta.leak && e.meta.audible ? 1 : 0)),
    weights: Float32Array.from(examples, (e) => (e.meta.leak && !e.meta.audible ? 0 : 1)),
  };
}

/** Features per example: FEATURE_COUNT for window features, more for a context model's (context-examples.ts). */
export function featureWidth(set: ExampleSet): number {
  return set.examples.length === 0 ? FEATURE_COUNT : set.features.length / set.examples.length;
}

/** Several example sets as one (e.g. a training split and extra training data), in order. */
export function concatExamples(sets: readonly ExampleSet[]): ExampleSet {
  const cat = (pick: (s: ExampleSet) => Float32Array) => {
    const out = new Float32Array(sets.reduce((n, s) => n + pick(s).length, 0));
    let at = 0;
    for (const s of sets) {
      out.set(pick(s), at);
      at += pick(s).length;
    }
    return out;
  };
  const skipped: Record<string, number> = {};
  for (const s of sets) for (const [k, v] of Object.entries(s.skipped)) skipped[k] = (skipped[k] ?? 0) + v;
  return {
    examples: sets.flatMap((s) => s.examples),
    features: cat((s) => s.features),
    labels: cat((s) => s.labels),
    weights: cat((s) => s.weights),
    skipped,
  };
}

/** The examples of a set that `keep` selects, with their features, labels and weights. */
export function subsetExamples(set: ExampleSet, keep: (e: Example) => boolean): ExampleSet {
  const width = featureWidth(set);
  const ix = set.examples.flatMap((e, i) => (keep(e) ? [i] : []));
  const features = new Float32Array(ix.length * width);
  ix.forEach((src, dst) => features.set(set.features.subarray(src * width, (src + 1) * width), dst * width));
  return {
    examples: ix.map((i) => set.examples[i]!),
    features,
    labels: Float32Array.from(ix, (i) => set.labels[i]!),
    weights: Float32Array.from(ix, (i) => set.weights[i]!),
    skipped: {},
  };
}
