import { BAND_COUNT, FEATURE_COUNT, MODEL_SAMPLE_RATE_HZ, WINDOW_SAMPLES } from '../model/feature-spec.ts';
import type { LeakModel } from '../model/leak-model.ts';
import { CONTEXT_ROWS, contextRows, joinsContext } from '../model/sensor-context.ts';
import { DEFAULT_MAX_BATCH, meanOfParts, scoreWindows } from './window-scorer.ts';
import type { Window } from './windower.ts';
import { toDb } from '../model/level-history.ts';

/** How long one of a window's parts (one model input) lasts. */
const PART_MS = (WINDOW_SAMPLES / MODEL_SAMPLE_RATE_HZ) * 1000;

/** A window's parts as model inputs of its sensor, each with its own start. */
export function windowInputs(sensorId: string, window: Window): SensorInput[] {
  return window.parts.map((pcm, p) => ({ sensorId, startMs: window.startMs + p * PART_MS, pcm }));
}

/** A 1 s model input, the sensor it came from and when it starts (for the context's spacing). */
export interface SensorInput {
  readonly sensorId: string;
  readonly startMs: number;
  readonly pcm: Float32Array;
}

/** A joined window's features and when it started. */
interface Row {
  readonly startMs: number;
  readonly features: Float32Array;
}

/**
 * The rows a window at startMs is scored with: the last CONTEXT_ROWS that
 * started before it, topped up with the nearest after it when fewer did (a
 * late frame older than most of the history). Those before it come last,
 * oldest first, so a short history's fill (contextRows) repeats the nearest
 * of them first. For windows scored in time order this is the history's
 * last CONTEXT_ROWS rows.
 */
function rowsAround(history: readonly Row[], startMs: number): Float32Array[] {
  const at = firstAfterOrAt(history, startMs);
  const before = history.slice(Math.max(0, at - CONTEXT_ROWS), at);
  let after = at;
  while (after < history.length && history[after]!.startMs === startMs) after++;
  const later = history.slice(after, after + CONTEXT_ROWS - before.length);
  return [...later.reverse(), ...before].map((r) => r.features);
}

/** The index of the first row starting at or after startMs (rows are in time order). */
function firstAfterOrAt(history: readonly Row[], startMs: number): number {
  let lo = 0;
  let hi = history.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (history[mid]!.startMs < startMs) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Each sensor's last CONTEXT_ROWS window features, for a context model
 * (model/sensor-context.ts). Inputs are scored in the order given per
 * sensor, each one after the one before it joined the history, in rounds of
 * at most one input per sensor batched across sensors through the one
 * session. A window joins the history only if it is spaced from the windows
 * beside it in time (joinsContext): a contiguous recording's context spans
 * half a minute of it, not its last eleven seconds. The streaming detector,
 * the WAV scoring CLI and training's evaluation all score through here, so a
 * context means the same everywhere.
 *
 * The history is kept in time order, not arrival order: a frame that comes
 * late (store-and-forward, QoS 1 redelivery over another connection, a
 * detector catching up page by page) is scored with the windows before it
 * and joins in its place, so a sensor's scores depend on which frames it
 * sent, not on the order the broker delivered them in.
 */
export class SensorHistories {
  private readonly model: LeakModel;
  private readonly maxBatch: number;
  private readonly rows = new Map<string, Row[]>();

  constructor(model: LeakModel, maxBatch = DEFAULT_MAX_BATCH) {
    if (model.info.contextWindows === 1) throw new RangeError(`model ${model.info.version} takes no context`);
    this.model = model;
    this.maxBatch = maxBatch;
  }

  /** Sensors with a history. */
  get size(): number {
    return this.rows.size;
  }

  has(sensorId: string): boolean {
    return this.rows.has(sensorId);
  }

  /**
   * Scores every input; each joins its sensor's history after it is scored, if it is spaced from the last that did.
   * `bandLevels` (inputs × BAND_COUNT), if given, receives each input's band levels where the model gives them;
   * `features` (inputs × FEATURE_COUNT), each input's own features (what its sensor's later windows take as context).
   */
  async score(inputs: readonly SensorInput[], bandLevels?: Float32Array, features?: Float32Array): Promise<Float32Array> {
    const scores = new Float32Array(inputs.length);
    const bySensor = new Map<string, number[]>();
    inputs.forEach((x, i) => {
      const q = bySensor.get(x.sensorId);
      if (q) q.push(i);
      else bySensor.set(x.sensorId, [i]);
    });
    const queues = [...bySensor.values()];
    // Round r takes each sensor's r-th input.
    for (let r = 0; ; r++) {
      const round = queues.filter((q) => r < q.length).map((q) => q[r]!);
      if (round.length === 0) break;
      for (let at = 0; at < round.length; at += this.maxBatch) await this.scoreRound(inputs, round.slice(at, at + this.maxBatch), scores, bandLevels, features);
    }
    return scores;
  }

  /** Windows (of any number of 1 s parts) of many sensors; a window's score is the mean of its parts'. */
  async scoreWindows(windows: readonly { sensorId: string; window: Window }[]): Promise<number[]> {
    const inputs = windows.flatMap((w) => windowInputs(w.sensorId, w.window));
    return meanOfParts(
      windows.map((w) => w.window),
      await this.score(inputs),
    );
  }

  /**
   * scoreWindows, with each window's band levels in dB re full scale (the
   * mean of its parts'), or undefined where the model gives none.
   */
  async scoreWindowsWithLevels(windows: readonly { sensorId: string; window: Window }[]): Promise<{ scores: number[]; bandLevelsDb: (number[] | undefined)[] }> {
    const inputs = windows.flatMap((w) => windowInputs(w.sensorId, w.window));
    const levels = new Float32Array(inputs.length * BAND_COUNT).fill(Number.NaN);
    const scores = meanOfParts(
      windows.map((w) => w.window),
      await this.score(inputs, levels),
    );
    let p = 0;
    const bandLevelsDb = windows.map((w) => {
      const parts = w.window.parts.length;
      const first = p;
      p += parts;
      if (Number.isNaN(levels[first * BAND_COUNT]!)) return undefined;
      return Array.from({ length: BAND_COUNT }, (_, b) => {
        let sum = 0;
        for (let i = first; i < first + parts; i++) sum += levels[i * BAND_COUNT + b]!;
        return toDb(sum / parts);
      });
    });
    return { scores, bandLevelsDb };
  }

  /** Inputs of distinct sensors: one run (two for sensors without a history: their own features first). */
  private async scoreRound(inputs: readonly SensorInput[], batch: readonly number[], scores: Float32Array, bandLevels: Float32Array | undefined, features: Float32Array | undefined): Promise<void> {
    const pcm = batch.map((i) => inputs[i]!.pcm);
    const fresh = batch.filter((i) => !this.rows.has(inputs[i]!.sensorId));
    const own = new Map<number, Float32Array>();
    if (fresh.length > 0) {
      // Any context gives a window's own features; the score of this run is not used.
      const { features } = await this.model.scoreInContext(
        fresh.map((i) => inputs[i]!.pcm),
        new Float32Array(fresh.length * CONTEXT_ROWS * FEATURE_COUNT),
      );
      fresh.forEach((i, k) => own.set(i, features.slice(k * FEATURE_COUNT, (k + 1) * FEATURE_COUNT)));
    }
    const context = new Float32Array(batch.length * CONTEXT_ROWS * FEATURE_COUNT);
    batch.forEach((i, k) => {
      const { sensorId, startMs } = inputs[i]!;
      contextRows(rowsAround(this.rows.get(sensorId) ?? [], startMs), own.get(i) ?? new Float32Array(FEATURE_COUNT)).forEach((row, r) => context.set(row, (k * CONTEXT_ROWS + r) * FEATURE_COUNT));
    });
    const out = await this.model.scoreInContext(pcm, context);
    batch.forEach((i, k) => {
      scores[i] = out.scores[k]!;
      if (bandLevels && out.bandLevels) bandLevels.set(out.bandLevels.subarray(k * BAND_COUNT, (k + 1) * BAND_COUNT), i * BAND_COUNT);
      features?.set(out.features.subarray(k * FEATURE_COUNT, (k + 1) * FEATURE_COUNT), i * FEATURE_COUNT);
      const { sensorId, startMs } = inputs[i]!;
      const history = this.rows.get(sensorId) ?? [];
      this.rows.set(sensorId, history);
      const at = firstAfterOrAt(history, startMs);
      const spaced = joinsContext(history[at - 1]?.startMs, startMs) && joinsContext(history[at]?.startMs, startMs);
      if (!spaced) return;
      history.splice(at, 0, { startMs, features: out.features.slice(k * FEATURE_COUNT, (k + 1) * FEATURE_COUNT) });
      // The newest CONTEXT_ROWS stay: a window older than all of them leaves again at once.
      if (history.length > CONTEXT_ROWS) history.shift();
    });
  }
}

/**
 * Scores windows of many sensors with whichever model is loaded: a context
 * model through `histories`, a one-window model window by window.
 */
export async function scoreSensorWindows(model: LeakModel, histories: SensorHistories | undefined, windows: readonly { sensorId: string; window: Window }[]): Promise<number[]> {
  if (model.info.contextWindows === 1) return scoreWindows(model, windows.map((w) => w.window));
  if (!histories) throw new RangeError(`model ${model.info.version} needs its sensors' histories`);
  return histories.scoreWindows(windows);
}

/**
 * One sensor's windows scored in its history, with each window's own
 * features (the graph's `features` output, the mean over the window's
 * parts): what a second stage judging a recording as a whole takes
 * (model/recording-stage.ts).
 */
export async function scoreWindowsWithFeatures(histories: SensorHistories, sensorId: string, windows: readonly Window[]): Promise<{ scores: number[]; features: Float32Array[] }> {
  const inputs = windows.flatMap((w) => windowInputs(sensorId, w));
  const partFeatures = new Float32Array(inputs.length * FEATURE_COUNT);
  const scores = meanOfParts(windows, await histories.score(inputs, undefined, partFeatures));
  let p = 0;
  const features = windows.map((w) => {
    const mean = new Float32Array(FEATURE_COUNT);
    for (let i = 0; i < w.parts.length; i++, p++) for (let f = 0; f < FEATURE_COUNT; f++) mean[f]! += partFeatures[p * FEATURE_COUNT + f]! / w.parts.length;
    return mean;
  });
  return { scores, features };
}

/** Per feature, the median over the windows `indices` names. */
export function medianFeatures(features: readonly Float32Array[], indices: readonly number[]): Float32Array {
  const out = new Float32Array(FEATURE_COUNT);
  const values = new Float64Array(indices.length);
  for (let f = 0; f < FEATURE_COUNT; f++) {
    indices.forEach((j, c) => (values[c] = features[j]![f]!));
    values.sort();
    const mid = values.length >> 1;
    out[f] = values.length % 2 === 1 ? values[mid]! : (values[mid - 1]! + values[mid]!) / 2;
  }
  return out;
}
