import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { LeakScore, Store } from '@suido/ingest';
import { cursorState, loadFeedPosition } from '../feeds/consumer-cursor.ts';
import { FeedConsumer } from '../feeds/feed-consumer.ts';
import type { LeakModel } from '../model/leak-model.ts';
import { CONTEXT_ROWS, CONTEXT_SPACING_MS, spacedTail } from '../model/sensor-context.ts';
import { SensorHistories, scoreSensorWindows, windowInputs, type SensorInput } from './sensor-histories.ts';
import { DEFAULT_WINDOWING, Windower, type Window, type WindowingConfig } from './windower.ts';

/**
 * How far back a context model's history is looked for when the scorer
 * first meets a sensor (a restart, a partition taken over): spans before
 * the sensor's first new frame, nearest first, until the context is full.
 */
const HISTORY_SPANS_MS = [3_600_000, 6 * 3_600_000, 24 * 3_600_000, 72 * 3_600_000];
const HISTORY_FRAMES_PER_PAGE = 64;
/**
 * Stored frames a restart reads back per sensor: a logger's last CONTEXT_ROWS
 * would do; a streaming sensor's 1 s frames need CONTEXT_SPACING_MS / 1 s
 * times as many for CONTEXT_ROWS spaced windows.
 */
const RECALL_FRAMES = CONTEXT_ROWS * Math.ceil(CONTEXT_SPACING_MS / 1000);

export interface LeakScorerOptions {
  readonly store: Store;
  readonly model: LeakModel;
  readonly log: Logger;
  readonly registry?: Registry | undefined;
  readonly windowing?: WindowingConfig | undefined;
  /** Its consumer state's name (the frames cursor). Default `leak-scorer`. */
  readonly consumerName?: string | undefined;
  /** Frames taken per pass. Default 256. */
  readonly batchFrames?: number | undefined;
  readonly pollMs?: number | undefined;
  /** Told after each pass that stored scores (e.g. to nudge the alert engine). */
  readonly onScores?: ((count: number) => void) | undefined;
  /**
   * The sensors this scorer scores (a detect worker's partition, README:
   * Scaling out); frames of others are passed over. Default: every sensor.
   */
  readonly owns?: ((sensorId: string) => boolean) | undefined;
}

export interface LeakScorerPass {
  readonly frames: number;
  readonly windows: number;
  readonly skipped: Readonly<Record<string, number>>;
  readonly more: boolean;
}

/**
 * The streaming detector: reads acoustic frames from the store's feed in the
 * order they were stored, cuts each sensor's audio into windows, scores all
 * windows of a pass in batches through one ONNX Runtime session, and stores
 * the scores as a time series. The cursor is written after the scores; a
 * crash between the two re-scores some frames, and the store keeps the first
 * score of a (sensor, window, model), so nothing is lost or doubled.
 *
 * Why the store and not a broker subscription: the store holds exactly what
 * devices were acknowledged for, survives restarts of both sides, and serves
 * a detector that was down for a night without any broker session state.
 */
export class LeakScorer extends FeedConsumer<LeakScorerPass> {
  private readonly opts: LeakScorerOptions;
  private readonly consumerName: string;
  private readonly batchFrames: number;
  private readonly windowing: WindowingConfig;
  private readonly windowers = new Map<string, Windower>();
  /** A context model's per-sensor history (model/sensor-context.ts); none for a one-window model. */
  private readonly histories: SensorHistories | undefined;
  private readonly metrics: { frames: Counter<'outcome'>; windows: Counter; lag: Gauge } | undefined;

  constructor(opts: LeakScorerOptions) {
    super({ log: opts.log, idleMs: opts.pollMs ?? 1000, what: 'leak scoring pass' });
    this.opts = opts;
    this.consumerName = opts.consumerName ?? 'leak-scorer';
    this.batchFrames = opts.batchFrames ?? 256;
    this.windowing = opts.windowing ?? DEFAULT_WINDOWING;
    this.histories = opts.model.info.contextWindows > 1 ? new SensorHistories(opts.model) : undefined;
    if (opts.registry) {
      const registers = [opts.registry];
      // A partitioned worker runs one scorer per partition it holds: they share the metrics.
      const existing = <T,>(name: string) => opts.registry!.getSingleMetric(name) as T | undefined;
      this.metrics = {
        frames:
          existing<Counter<'outcome'>>('suido_detect_frames_total') ??
          new Counter({ name: 'suido_detect_frames_total', help: 'Acoustic frames taken by the detector, by outcome', labelNames: ['outcome'], registers }),
        windows: existing<Counter>('suido_detect_windows_scored_total') ?? new Counter({ name: 'suido_detect_windows_scored_total', help: 'Windows scored by the leak model', registers }),
        lag:
          existing<Gauge>('suido_detect_lag_seconds') ??
          new Gauge({ name: 'suido_detect_lag_seconds', help: 'Age of the newest frame scored, at the time it was scored', registers }),
      };
    }
  }

  protected async pass(): Promise<LeakScorerPass> {
    const { store, model } = this.opts;
    const position = this.position ?? (await loadFeedPosition(store, this.consumerName));
    const page = await store.framesAfter(position.cursor, this.batchFrames);
    if (page.frames.length === 0) return { frames: 0, windows: 0, skipped: {}, more: false };

    const skipped: Record<string, number> = {};
    const windows: { sensorId: string; window: Window }[] = [];
    // Frames of one sensor in time order, whatever order they arrived in.
    const owns = this.opts.owns;
    const mine = owns ? page.frames.filter((f) => owns(f.sensorId)) : page.frames;
    const frames = [...mine].sort((a, b) => (a.sensorId === b.sensorId ? a.startMs - b.startMs : a.sensorId < b.sensorId ? -1 : 1));
    for (const f of frames) {
      if (!f.samples) {
        skipped.PCM_PRUNED = (skipped.PCM_PRUNED ?? 0) + 1;
        continue;
      }
      let windower = this.windowers.get(f.sensorId);
      if (!windower) {
        this.windowers.set(f.sensorId, (windower = new Windower(this.windowing, this.opts.model.info.frontEnd)));
        if (this.histories) await this.recallHistory(f.sensorId, f.startMs);
      }
      const result = windower.push({ startMs: f.startMs, sampleRateHz: f.sampleRateHz, samples: f.samples });
      if (typeof result === 'string') skipped[result] = (skipped[result] ?? 0) + 1;
      else for (const window of result) windows.push({ sensorId: f.sensorId, window });
    }

    // A context model's graph also gives each window's band levels, stored with its score (a sensor's noise per band, night by night).
    const { scores, bandLevelsDb } = this.histories
      ? await this.histories.scoreWindowsWithLevels(windows)
      : { scores: await scoreSensorWindows(model, undefined, windows), bandLevelsDb: [] };
    const rows: LeakScore[] = windows.map((w, i) => ({
      sensorId: w.sensorId,
      windowStartMs: Math.round(w.window.startMs),
      windowEndMs: Math.round(w.window.endMs),
      score: scores[i]!,
      modelVersion: model.info.version,
      ...(bandLevelsDb[i] && { bandLevelsDb: bandLevelsDb[i] }),
    }));
    if (rows.length > 0) await store.appendScores(rows);
    const version = await store.putConsumerState(this.consumerName, cursorState(page.cursor), position.version);
    this.position = { cursor: page.cursor, version };

    const skippedCount = Object.values(skipped).reduce((a, b) => a + b, 0);
    if (this.metrics) {
      this.metrics.frames.inc({ outcome: 'scored' }, frames.length - skippedCount);
      for (const [reason, n] of Object.entries(skipped)) this.metrics.frames.inc({ outcome: reason }, n);
      this.metrics.windows.inc(rows.length);
      if (frames.length > 0) this.metrics.lag.set((Date.now() - Math.max(...frames.map((f) => f.receivedAtMs))) / 1000);
    }
    if (skippedCount > 0) this.opts.log.debug({ skipped }, 'frames not scored');
    if (rows.length > 0) this.opts.onScores?.(rows.length);
    return { frames: frames.length, windows: rows.length, skipped, more: page.frames.length === this.batchFrames };
  }

  /**
   * A context model scores a window with its sensor's previous windows: when
   * this scorer first meets a sensor, it rebuilds that history from the
   * sensor's stored frames before `beforeMs`, so a restart scores the next
   * window as an uninterrupted detector would have. Frames whose PCM was
   * pruned cannot count; a sensor with none starts from its own windows.
   */
  private async recallHistory(sensorId: string, beforeMs: number): Promise<void> {
    const earlier: Awaited<ReturnType<Store['framesInRange']>> = [];
    let to = beforeMs;
    for (const span of HISTORY_SPANS_MS) {
      const from = beforeMs - span;
      // Pages come oldest first: page on to the span's newest frames.
      const found: typeof earlier = [];
      for (let at = from; ; ) {
        const page = await this.opts.store.framesInRange(sensorId, at, to, HISTORY_FRAMES_PER_PAGE);
        found.push(...page.filter((f) => f.samples));
        if (page.length < HISTORY_FRAMES_PER_PAGE) break;
        at = page[page.length - 1]!.startMs + 1;
        found.splice(0, Math.max(0, found.length - RECALL_FRAMES));
      }
      earlier.unshift(...found);
      to = from;
      // Enough once the frames hold CONTEXT_ROWS spaced windows: a logger's last 11, a stream's last ~31.
      if (spacedTail(earlier.map((f) => f.startMs), CONTEXT_ROWS).length >= CONTEXT_ROWS) break;
    }
    const windower = new Windower(this.windowing, this.opts.model.info.frontEnd);
    const parts: SensorInput[] = [];
    for (const f of earlier) {
      const result = windower.push({ startMs: f.startMs, sampleRateHz: f.sampleRateHz, samples: f.samples! });
      if (typeof result !== 'string') for (const w of result) parts.push(...windowInputs(sensorId, w));
    }
    // Only the features join the history; these windows were scored before. A logger's last CONTEXT_ROWS,
    // a streaming sensor's last CONTEXT_ROWS spaced ones.
    const tail = spacedTail(parts.map((p) => p.startMs), CONTEXT_ROWS);
    if (tail.length > 0) await this.histories!.score(tail.map((i) => parts[i]!));
  }
}
