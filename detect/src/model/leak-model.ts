import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { PIPE_MATERIALS, SENSOR_SITES } from '@suido/ingest';
import { FEATURE_COUNT, PLAIN_FRONT_END, WINDOW_SAMPLES, type FrontEnd } from './feature-spec.ts';
import { CONTEXT_ROWS, CONTEXT_WINDOWS } from './sensor-context.ts';
import type { Thresholds } from './operating-point.ts';
import { parseLevelVerdict, type LevelVerdict } from './level-history.ts';
import { parseRecordingStage, type RecordingStage } from './recording-stage.ts';

/** What the model file says about itself (ONNX metadata_props). */
export interface LeakModelInfo {
  readonly version: string;
  /** Score at or above which a window counts as "leak" (chosen on the validation split): `thresholds.default`. */
  readonly threshold: number;
  /** With the sites' and materials' own (metadata `site_thresholds`, `material_thresholds`; empty: one threshold for all). */
  readonly thresholds: Thresholds;
  readonly sampleRateHz: number;
  readonly windowSamples: number;
  /**
   * What the windower does to the audio before this model sees it (metadata
   * `mains_line_share`); plain (high-pass only) for a file without it.
   */
  readonly frontEnd: FrontEnd;
  /**
   * The threshold for hand-held recordings (score-wav), chosen on validation
   * recordings, if the file has one (operating-point.ts: recordingThresholds).
   */
  readonly recordingThreshold: number | undefined;
  /** The persistence (K of N windows) the threshold was chosen for, if the file says. */
  readonly persistence: { readonly k: number; readonly n: number } | undefined;
  /**
   * A context model scores a window with the sensor's previous windows
   * (sensor-context.ts): CONTEXT_WINDOWS. A one-window model: 1.
   */
  readonly contextWindows: number;
  /**
   * The night verdict with the sensor's level history (level-history.ts),
   * if the file has one (metadata `level_verdict`): the alert engine raises
   * by it where a sensor has an earlier night (LEAK_LEVEL_VERDICT).
   */
  readonly levelVerdict: LevelVerdict | undefined;
  /** The second stage that judges a hand-held recording as a whole, if the file has one (`recording_stage`). */
  readonly recordingStage: RecordingStage | undefined;
  /**
   * The same stage fitted never told the main's material
   * (`recording_stage_untold`): what judges a recording told its site but
   * not its material (score-wav --site without --material).
   */
  readonly recordingStageUntold: RecordingStage | undefined;
  readonly raw: Readonly<Record<string, string>>;
}

/** A JSON object of name → threshold (0–1), names from `allowed`; absent: none. A string says what is wrong. */
function parseThresholdMap<K extends string>(text: string | undefined, allowed: readonly K[]): Partial<Record<K, number>> | string {
  if (text === undefined) return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'not JSON';
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not an object of name: threshold';
  const out: Partial<Record<K, number>> = {};
  for (const [name, t] of Object.entries(value)) {
    if (!(allowed as readonly string[]).includes(name)) return `'${name}' is not one of ${allowed.join(', ')}`;
    if (typeof t !== 'number' || !(t >= 0 && t <= 1)) return `${name}: ${JSON.stringify(t)} is not a threshold from 0 to 1`;
    out[name as K] = t;
  }
  return out;
}

export class ModelError extends Error {
  readonly code: 'MODEL_INVALID' | 'WINDOW_INVALID';
  constructor(code: 'MODEL_INVALID' | 'WINDOW_INVALID', message: string) {
    super(message);
    this.name = 'ModelError';
    this.code = code;
  }
}

/**
 * One ONNX Runtime session for the leak model. Sessions are costly to make and
 * safe to share; callers batch windows from many sensors into one run.
 */
export class LeakModel {
  readonly info: LeakModelInfo;
  private readonly session: ort.InferenceSession;

  private constructor(session: ort.InferenceSession, info: LeakModelInfo) {
    this.session = session;
    this.info = info;
  }

  static async load(source: string | Uint8Array, opts: { threads?: number } = {}): Promise<LeakModel> {
    const bytes = typeof source === 'string' ? await readFile(source) : source;
    const session = await ort.InferenceSession.create(bytes, {
      executionProviders: ['cpu'],
      intraOpNumThreads: opts.threads ?? 1,
      graphOptimizationLevel: 'all',
    });
    const raw = readMetadata(bytes);
    const threshold = Number(raw.threshold);
    const sampleRateHz = Number(raw.sample_rate_hz);
    const windowSamples = Number(raw.window_samples);
    if (!Number.isFinite(threshold) || sampleRateHz <= 0 || windowSamples !== WINDOW_SAMPLES) {
      await session.release();
      throw new ModelError('MODEL_INVALID', `model metadata lacks threshold/sample_rate_hz/window_samples=${WINDOW_SAMPLES}`);
    }
    const siteThresholds = parseThresholdMap(raw.site_thresholds, SENSOR_SITES);
    const materialThresholds = parseThresholdMap(raw.material_thresholds, PIPE_MATERIALS);
    for (const [key, parsed] of [['site_thresholds', siteThresholds], ['material_thresholds', materialThresholds]] as const) {
      if (typeof parsed !== 'string') continue;
      await session.release();
      throw new ModelError('MODEL_INVALID', `model metadata ${key}: ${parsed}`);
    }
    const recordingThreshold = raw.recording_threshold === undefined ? undefined : Number(raw.recording_threshold);
    if (recordingThreshold !== undefined && !(recordingThreshold >= 0 && recordingThreshold <= 1)) {
      await session.release();
      throw new ModelError('MODEL_INVALID', `model metadata recording_threshold: '${raw.recording_threshold}' is not a threshold from 0 to 1`);
    }
    // The verdict and the recording stage are JSON of their own, each parsed and checked by its module.
    const parsedJson = async <T>(text: string | undefined, parse: (text: string) => T): Promise<T | undefined> => {
      try {
        return text === undefined ? undefined : parse(text);
      } catch (err) {
        await session.release();
        throw new ModelError('MODEL_INVALID', `model metadata ${(err as Error).message}`);
      }
    };
    const levelVerdict = await parsedJson(raw.level_verdict, parseLevelVerdict);
    const recordingStage = await parsedJson(raw.recording_stage, parseRecordingStage);
    const recordingStageUntold = await parsedJson(raw.recording_stage_untold, parseRecordingStage);
    const minLineShare = raw.mains_line_share === undefined ? PLAIN_FRONT_END.minLineShare : Number(raw.mains_line_share);
    if (!(minLineShare >= 0 && minLineShare <= 1)) {
      await session.release();
      throw new ModelError('MODEL_INVALID', `model metadata mains_line_share: '${raw.mains_line_share}' is not a share from 0 to 1`);
    }
    const k = Number(raw.persistence_k);
    const n = Number(raw.persistence_n);
    const persistence = Number.isInteger(k) && Number.isInteger(n) && k >= 1 && k <= n ? { k, n } : undefined;
    const context = session.inputNames.includes('context');
    if (context && (Number(raw.context_windows) !== CONTEXT_WINDOWS || !session.outputNames.includes('features'))) {
      await session.release();
      throw new ModelError('MODEL_INVALID', `a context model must say context_windows=${CONTEXT_WINDOWS} and give its features back; this build scores ${CONTEXT_WINDOWS}-window contexts`);
    }
    return new LeakModel(session, {
      version: raw.version ?? 'unknown',
      thresholds: { default: threshold, bySite: siteThresholds as Thresholds['bySite'], byMaterial: materialThresholds as Thresholds['byMaterial'] },
      threshold,
      recordingThreshold,
      sampleRateHz, windowSamples, frontEnd: { minLineShare }, persistence, contextWindows: context ? CONTEXT_WINDOWS : 1, levelVerdict, recordingStage, recordingStageUntold, raw });
  }

  /**
   * Leak probability for each window (each WINDOW_SAMPLES long, at the
   * model's rate, full scale ±1) of a one-window model. A context model needs
   * each window's sensor history: score through SensorHistories
   * (stream/sensor-histories.ts), which calls `scoreInContext`.
   */
  async score(windows: readonly Float32Array[]): Promise<Float32Array> {
    if (this.info.contextWindows > 1) throw new ModelError('WINDOW_INVALID', `model ${this.info.version} scores a window with its sensor's previous windows: use SensorHistories`);
    if (windows.length === 0) return new Float32Array(0);
    const out = await this.session.run({ pcm: this.pcmTensor(windows) });
    return Float32Array.from(out.score!.data as Float32Array);
  }

  /**
   * A context model's scores and each window's own features. `context` holds,
   * per window, CONTEXT_ROWS rows of FEATURE_COUNT features (contextRows in
   * sensor-context.ts), row-major. `bandLevels`: each window's BAND_COUNT
   * band levels (the graph's `band_levels`: mean log power over the frames,
   * natural log, full scale ±1), row-major; undefined for a model file made
   * before that output (2.4.0 and older).
   */
  async scoreInContext(windows: readonly Float32Array[], context: Float32Array): Promise<{ scores: Float32Array; features: Float32Array; bandLevels?: Float32Array | undefined }> {
    if (this.info.contextWindows === 1) throw new ModelError('WINDOW_INVALID', `model ${this.info.version} takes no context`);
    if (context.length !== windows.length * CONTEXT_ROWS * FEATURE_COUNT) {
      throw new ModelError('WINDOW_INVALID', `context holds ${context.length} values, not ${windows.length} x ${CONTEXT_ROWS} x ${FEATURE_COUNT}`);
    }
    if (windows.length === 0) return { scores: new Float32Array(0), features: new Float32Array(0) };
    const out = await this.session.run({ pcm: this.pcmTensor(windows), context: new ort.Tensor('float32', context, [windows.length, CONTEXT_ROWS, FEATURE_COUNT]) });
    return {
      scores: Float32Array.from(out.score!.data as Float32Array),
      features: Float32Array.from(out.features!.data as Float32Array),
      bandLevels: out.band_levels ? Float32Array.from(out.band_levels.data as Float32Array) : undefined,
    };
  }

  private pcmTensor(windows: readonly Float32Array[]): ort.Tensor {
    const batch = new Float32Array(windows.length * WINDOW_SAMPLES);
    windows.forEach((w, i) => {
      if (w.length !== WINDOW_SAMPLES) throw new ModelError('WINDOW_INVALID', `window ${i} holds ${w.length} samples, not ${WINDOW_SAMPLES}`);
      batch.set(w, i * WINDOW_SAMPLES);
    });
    return new ort.Tensor('float32', batch, [windows.length, WINDOW_SAMPLES]);
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

/** ONNX Runtime's JS API does not expose metadata_props; read them from the protobuf. */
function readMetadata(bytes: Uint8Array): Record<string, string> {
  const model = onnxProto.onnx.ModelProto.decode(bytes);
  return Object.fromEntries(model.metadataProps.map((p) => [p.key, p.value]));
}
