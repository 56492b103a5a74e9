import { FEATURE_COUNT, MODEL_SAMPLE_RATE_HZ, WINDOW_SAMPLES } from '../model/feature-spec.ts';
import type { LeakModel } from '../model/leak-model.ts';
import { CONTEXT_ROWS, CONTEXT_SPACING_MS, contextRows, joinsContext } from '../model/sensor-context.ts';
import { DEFAULT_MAX_BATCH, meanOfParts, scoreWindows } from './window-scorer.ts';
import type { Window } from './windower.ts';

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

interface History {
  readonly rows: Float32Array[];
  lastJoinedMs: number | undefined;
}

/**
 * Each sensor's last CONTEXT_ROWS window features, for a context model
 * (model/sensor-context.ts). Inputs are scored in the order given per
 * sensor, each one after the one before it joined the history, in rounds of
 * at most one input per sensor batched across sensors through the one
 * session. A window joins the history only if it is spaced from the last one
 * that joined (joinsContext): a contiguous recording's context spans half a
 * minute of it, not its last eleven seconds. The streaming detector, the WAV
 * scoring CLI and training's evaluation all score through here, so a context
 * means the same everywhere.
 */
export class SensorHistories {
  private readonly model: LeakModel;
  private readonly maxBatch: number;
  private readonly rows = new Map<string, History>();

  private readonly spacingMs: number;

  /**
   * spacingMs: CONTEXT_SPACING_MS for recordings (score-wav, training's
   * evaluation). The live detector passes 0 for now: a logger's frames are
   * minutes apart, and with spacing the multi-process topology test raised
   * a false alert on its borderline quiet PVC sensor in 3 of 5 full-suite
   * runs (cause not found; issue 3's session-11 note).
   */
  constructor(model: LeakModel, maxBatch = DEFAULT_MAX_BATCH, spacingMs = CONTEXT_SPACING_MS) {
    this.spacingMs = spacingMs;
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

  /** Scores every input; each joins its sensor's history after it is scored, if it is spaced from the last that did. */
  async score(inputs: readonly SensorInput[]): Promise<Float32Array> {
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
      for (let at = 0; at < round.length; at += this.maxBatch) await this.scoreRound(inputs, round.slice(at, at + this.maxBatch), scores);
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

  /** Inputs of distinct sensors: one run (two for sensors without a history: their own features first). */
  private async scoreRound(inputs: readonly SensorInput[], batch: readonly number[], scores: Float32Array): Promise<void> {
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
      const history = this.rows.get(inputs[i]!.sensorId)?.rows ?? [];
      contextRows(history, own.get(i) ?? new Float32Array(FEATURE_COUNT)).forEach((row, r) => context.set(row, (k * CONTEXT_ROWS + r) * FEATURE_COUNT));
    });
    const out = await this.model.scoreInContext(pcm, context);
    batch.forEach((i, k) => {
      scores[i] = out.scores[k]!;
      const { sensorId, startMs } = inputs[i]!;
      const history = this.rows.get(sensorId) ?? { rows: [], lastJoinedMs: undefined };
      this.rows.set(sensorId, history);
      if (!joinsContext(history.lastJoinedMs, startMs, this.spacingMs)) return;
      history.rows.push(out.features.slice(k * FEATURE_COUNT, (k + 1) * FEATURE_COUNT));
      history.lastJoinedMs = startMs;
      if (history.rows.length > CONTEXT_ROWS) history.rows.shift();
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
