import { MODEL_SAMPLE_RATE_HZ } from '../model/feature-spec.ts';
import type { LeakModel } from '../model/leak-model.ts';
import { countsAsLeak } from '../model/operating-point.ts';
import { judgeRecording as judgeByStage, type RecordingStage } from '../model/recording-stage.ts';
import { verdictWindows } from '../model/sensor-context.ts';
import { SensorHistories, medianFeatures, scoreSensorWindows, scoreWindowsWithFeatures } from '../stream/sensor-histories.ts';
import { Windower, type Window } from '../stream/windower.ts';
import { persists } from '../training/metrics.ts';

/**
 * A recording judged as `score-wav` judges it (cli/score-wav.ts): cut and
 * scored by the streaming detector's own Windower and batch scorer (a
 * context model scores each window with the recording's earlier windows,
 * spaced as the live detector spaces a sensor's), then judged as a whole
 * by the model's K of N rule and, where the model carries one and is told
 * enough, by its second stage.
 */
export interface RecordingRequest {
  /** Names the recording's windows in the scorer (each recording is scored with histories of its own: none joins another's context). */
  readonly key: string;
  readonly sampleRateHz: number;
  readonly samples: Float32Array;
  /** When the recording began (ms since the epoch); windows start from 0 without it. */
  readonly startMs?: number | undefined;
  readonly windowSeconds: number;
  readonly hopSeconds: number;
  /** The window threshold the verdict and each window's `leak` are judged at. */
  readonly threshold: number;
  readonly material?: string | undefined;
  readonly site?: string | undefined;
  /** Whether the second stage judges, where the model carries one and is told enough (default true). */
  readonly judgeStage?: boolean;
  /** Whether the judgement carries the counted windows' median features (a context model's only). */
  readonly features?: boolean;
}

export interface JudgedWindow {
  readonly startMs: number;
  readonly endMs: number;
  readonly score: number;
  readonly leak: boolean;
}

/** The K of N rule's verdict over the recording's consecutive windows, or why there is none. */
export type RuleVerdict =
  | { readonly leak: boolean; readonly k: number; readonly n: number; readonly score: number; readonly counted: 'every window' | 'settled' | 'every window, too short to settle' }
  | { readonly leak: null; readonly reason: 'no rule' | 'too few windows'; readonly k?: number; readonly n?: number };

/** The second stage's verdict on the recording as a whole, or why it gives none. */
export type StageVerdict =
  | { readonly leak: boolean; readonly probability: number; readonly threshold: number; readonly told: 'material' | 'site' }
  | { readonly leak: null; readonly reason: 'not told' };

export interface RecordingJudgement {
  readonly windows: readonly JudgedWindow[];
  readonly threshold: number;
  /** The windows (indices) a verdict counts: for a context model those from CONTEXT_SETTLED_MS on, where there are N of them (N of the rule, 1 without one); else every one. */
  readonly counted: readonly number[];
  /** Per feature, the median over the counted windows of each window's own features, where asked for (`features`) or a stage judged. */
  readonly features?: Float32Array;
  /** Windows whose mains hum the model's front end took out, and its loudest line. */
  readonly hum?: { readonly windows: number; readonly loudest: { readonly hz: number; readonly share: number } };
  readonly rule: RuleVerdict;
  /** Undefined where the model carries no second stage (or the rule gives no verdict). */
  readonly stage?: StageVerdict;
}

export type RecordingErrorCode = 'SAMPLE_RATE_BELOW_MODEL' | 'RECORDING_TOO_SHORT';

export class RecordingError extends Error {
  readonly code: RecordingErrorCode;
  constructor(code: RecordingErrorCode, message: string) {
    super(message);
    this.name = 'RecordingError';
    this.code = code;
  }
}

/**
 * The stage that judges a recording told `material` and `site`: told the
 * material, the model's stage; told the site alone, its stage fitted never
 * told the material, where it carries one; told neither, none (no stage
 * ranks a recording given alone above the heads: detect/README.md, "2.4.9
 * told the site").
 */
export function judgingStage(model: LeakModel, told: { material?: string | undefined; site?: string | undefined }): { stage: RecordingStage; told: 'material' | 'site' } | undefined {
  const stage = model.info.contextWindows > 1 ? model.info.recordingStage : undefined;
  if (!stage) return undefined;
  if (told.material !== undefined) return { stage, told: 'material' };
  const untold = model.info.recordingStageUntold;
  return told.site !== undefined && untold ? { stage: untold, told: 'site' } : undefined;
}

export async function judgeRecordingAudio(model: LeakModel, r: RecordingRequest): Promise<RecordingJudgement> {
  if (r.sampleRateHz < MODEL_SAMPLE_RATE_HZ) {
    throw new RecordingError('SAMPLE_RATE_BELOW_MODEL', `recorded at ${r.sampleRateHz} Hz; the model needs at least ${MODEL_SAMPLE_RATE_HZ} Hz`);
  }
  const windower = new Windower({ windowSeconds: r.windowSeconds, hopSeconds: r.hopSeconds }, model.info.frontEnd);
  const cut = windower.push({ startMs: r.startMs ?? 0, sampleRateHz: r.sampleRateHz, samples: r.samples });
  if (typeof cut === 'string') throw new RecordingError('SAMPLE_RATE_BELOW_MODEL', cut);
  if (cut.length === 0) throw new RecordingError('RECORDING_TOO_SHORT', `shorter than one ${r.windowSeconds} s window (${(r.samples.length / r.sampleRateHz).toFixed(2)} s)`);

  const histories = model.info.contextWindows > 1 ? new SensorHistories(model) : undefined;
  if (r.features && !histories) throw new RangeError(`model ${model.info.version} gives no features: it takes no context`);
  const judging = r.judgeStage === false ? undefined : judgingStage(model, r);
  // The windows' own features only where a stage will judge them or they are asked for.
  const withFeatures = (judging || r.features) && histories ? await scoreWindowsWithFeatures(histories, r.key, cut) : undefined;
  const scores = withFeatures?.scores ?? (await scoreSensorWindows(model, histories, cut.map((window) => ({ sensorId: r.key, window }))));
  const windows = cut.map((w, i): JudgedWindow => ({ startMs: w.startMs, endMs: w.endMs, score: scores[i]!, leak: countsAsLeak(scores[i]!, r.threshold) }));
  // A context model's verdict counts the windows whose context has settled, where there are enough of them.
  const { indices: counted, settled } = histories ? verdictWindows(cut.map((w) => w.startMs), model.info.persistence?.n ?? 1) : { indices: scores.map((_, i) => i), settled: undefined };
  const features = withFeatures && medianFeatures(withFeatures.features, counted);

  const rule = ruleVerdict(model, counted, scores, r.threshold, settled);
  const hasStage = histories !== undefined && model.info.recordingStage !== undefined && r.judgeStage !== false;
  const stage: StageVerdict | undefined =
    !hasStage || rule.leak === null ? undefined : judging && features ? stageVerdict(judging, rule, features, r) : { leak: null, reason: 'not told' };
  return { windows, threshold: r.threshold, counted, ...(features && { features }), ...humOf(cut), rule, ...(stage && { stage }) };
}

/**
 * The alert rule the model was chosen with (K of N windows above the
 * threshold), over the recording's consecutive windows: for a context model
 * the windows whose context has settled (CONTEXT_SETTLED_MS), where there
 * are N of them. The live detector applies it to a sensor's windows across
 * the night, minutes apart; this is the same rule over a shorter stretch.
 */
function ruleVerdict(model: LeakModel, counted: readonly number[], scores: readonly number[], threshold: number, settled: boolean | undefined): RuleVerdict {
  const rule = model.info.persistence;
  if (rule === undefined) return { leak: null, reason: 'no rule' };
  if (scores.length < rule.n) return { leak: null, reason: 'too few windows', k: rule.k, n: rule.n };
  const countedScores = counted.map((i) => scores[i]!);
  return {
    leak: persists(countedScores, threshold, rule.k, rule.n),
    k: rule.k,
    n: rule.n,
    score: kthHighest(countedScores, rule.k),
    counted: settled === undefined ? 'every window' : settled ? 'settled' : 'every window, too short to settle',
  };
}

/** The K-th highest of scores (the highest where there are fewer): a recording's clip score, what a clip ROC-AUC ranks. */
export function kthHighest(scores: readonly number[], k: number): number {
  const sorted = [...scores].sort((a, b) => b - a);
  return sorted[Math.min(k, sorted.length) - 1]!;
}

/** The second stage on the K-th highest counted score and those windows' median features (model/recording-stage.ts). */
function stageVerdict(judging: { stage: RecordingStage; told: 'material' | 'site' }, rule: Extract<RuleVerdict, { score: number }>, features: Float32Array, r: RecordingRequest): StageVerdict {
  const j = judgeByStage(judging.stage, { score: rule.score, features, material: r.material, site: r.site });
  return { leak: j.leak, probability: j.probability, threshold: j.threshold, told: judging.told };
}

function humOf(cut: readonly Window[]): Pick<RecordingJudgement, 'hum'> {
  const humming = cut.filter((w) => (w.mainsLines?.length ?? 0) > 0);
  if (humming.length === 0) return {};
  const loudest = humming.flatMap((w) => w.mainsLines!).reduce((a, b) => (b.share > a.share ? b : a));
  return { hum: { windows: humming.length, loudest: { hz: loudest.hz, share: loudest.share } } };
}
