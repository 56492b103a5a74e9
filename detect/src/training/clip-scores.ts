import { fromPcm16 } from '../audio/pcm16.ts';
import type { LeakModel } from '../model/leak-model.ts';
import { recordingThresholds, thresholdFor } from '../model/operating-point.ts';
import { RecordingError, judgeRecordingAudio, kthHighest } from '../recording/judge-recording.ts';
import { DEFAULT_WINDOWING } from '../stream/windower.ts';
import { framePcm, type FrameMeta, type SplitData } from './dataset.ts';
import { kindOf } from './evaluation.ts';
import { rocAuc } from './metrics.ts';

/** A recording of a data set: one long frame of one sensor (a hand-held clip). */
export interface Clip {
  readonly data: SplitData;
  readonly meta: FrameMeta;
}

/**
 * Recordings scored as `score-wav` scores them, summed up: the window and
 * clip ROC-AUC (audible leak against no leak; a clip's score is the K-th
 * highest of the windows its verdict counts, K of the model's rule), the
 * mean no-leak window score, and how many clips of each kind `score-wav
 * --site S --material M` would call a leak.
 */
export interface ClipReport {
  readonly leakClips: number;
  readonly noLeakClips: number;
  readonly windowAuc: number;
  readonly clipAuc: number;
  readonly meanNoLeakWindowScore: number;
  readonly leakClipsCalled: number;
  readonly noLeakClipsCalled: number;
}

/** The clips a report takes: audible leaks and no leaks (an inaudible leak is background, reported apart in the card). */
export function reportedClips(data: SplitData): Clip[] {
  return data.frames.filter((f) => kindOf(f) !== 'inaudible').map((meta) => ({ data, meta }));
}

/** One recording as `score-wav` scores it: the scores of the windows its verdict counts, its clip score and its verdict. */
export interface ScoredClip {
  readonly counted: readonly number[];
  /** The K-th highest of `counted` (K of the model's rule): what the clip ROC-AUC ranks. */
  readonly score: number;
  /** `score-wav --site S --material M`'s verdict, at the model's recording thresholds for the clip's site and material. */
  readonly called: boolean;
}

/**
 * Scores one clip by score-wav's own code (recording/judge-recording.ts:
 * the streaming detector's windower and batch scorer, the clip's earlier
 * windows as a context model's context), told the clip's site and
 * material, with `change` applied to its samples first (a robustness
 * variant). Undefined for a clip too short for one window.
 */
export async function scoreClip(model: LeakModel, clip: Clip, change?: (samples: Float32Array, sampleRateHz: number) => Float32Array): Promise<ScoredClip | undefined> {
  return (await scoreClipWindows(model, clip, change, false))?.scored;
}

/**
 * scoreClip, with the clip's features: per feature, the median over the
 * windows its verdict counts of each window's own features (the graph's
 * `features` output, as a context model's later windows take them). For a
 * second stage that judges a recording as a whole (second-stage.ts).
 */
export async function scoreClipWithFeatures(model: LeakModel, clip: Clip): Promise<{ scored: ScoredClip; features: Float32Array } | undefined> {
  const r = await scoreClipWindows(model, clip, undefined, true);
  return r && { scored: r.scored, features: r.features! };
}

async function scoreClipWindows(
  model: LeakModel,
  { data, meta }: Clip,
  change: ((samples: Float32Array, sampleRateHz: number) => Float32Array) | undefined,
  withFeatures: boolean,
): Promise<{ scored: ScoredClip; features: Float32Array | undefined } | undefined> {
  const recorded = fromPcm16(framePcm(data, meta));
  const samples = change ? change(recorded, meta.sampleRateHz) : recorded;
  const threshold = thresholdFor(recordingThresholds(model.info.thresholds, model.info.recordingThreshold), { site: meta.environment, material: meta.material });
  let j;
  try {
    // Judged as score-wav judges a recording told its site and material, by the same code; the stage is judged apart (second-stage.ts).
    j = await judgeRecordingAudio(model, {
      key: meta.id,
      sampleRateHz: meta.sampleRateHz,
      samples,
      startMs: meta.startMs,
      ...DEFAULT_WINDOWING,
      threshold,
      material: meta.material,
      site: meta.environment,
      judgeStage: false,
      features: withFeatures,
    });
  } catch (err) {
    if (err instanceof RecordingError) return undefined; // too short for a window, or below the model's rate
    throw err;
  }
  const counted = j.counted.map((i) => j.windows[i]!.score);
  const r = j.rule;
  // A model without a K of N rule judges each window alone (K = N = 1); a clip too short for the rule is ranked by its K-th highest window and not called, as score-wav gives it no verdict.
  const scored =
    r.leak !== null
      ? { counted, score: r.score, called: r.leak }
      : r.reason === 'no rule'
        ? { counted, score: kthHighest(counted, 1), called: j.counted.some((i) => j.windows[i]!.leak) }
        : { counted, score: kthHighest(counted, r.k ?? 1), called: false };
  return { scored, features: j.features };
}

/**
 * Scores each clip as scoreClip does and sums them up as a ClipReport.
 */
export async function scoreClips(
  model: LeakModel,
  clips: readonly Clip[],
  opts: {
    change?: (samples: Float32Array, sampleRateHz: number) => Float32Array;
    onProgress?: (done: number) => void;
    /** Each clip as scored, by its index in `clips` (a clip too short for a window is not). */
    onClip?: (index: number, scored: ScoredClip) => void;
  } = {},
): Promise<ClipReport> {
  const windowScores: number[] = [];
  const windowLabels: number[] = [];
  const clipScores: number[] = [];
  const clipLabels: number[] = [];
  let leakClipsCalled = 0;
  let noLeakClipsCalled = 0;
  for (const [i, clip] of clips.entries()) {
    const scored = await scoreClip(model, clip, opts.change);
    if (!scored) continue;
    opts.onClip?.(i, scored);
    const label = clip.meta.leak ? 1 : 0;
    for (const score of scored.counted) {
      windowScores.push(score);
      windowLabels.push(label);
    }
    clipScores.push(scored.score);
    clipLabels.push(label);
    if (scored.called) {
      if (clip.meta.leak) leakClipsCalled++;
      else noLeakClipsCalled++;
    }
    opts.onProgress?.(i + 1);
  }
  const quiet = windowScores.filter((_, j) => windowLabels[j] === 0);
  const leakClips = clipLabels.filter((l) => l === 1).length;
  return {
    leakClips,
    noLeakClips: clipLabels.length - leakClips,
    windowAuc: rocAuc(windowScores, windowLabels),
    clipAuc: rocAuc(clipScores, clipLabels),
    meanNoLeakWindowScore: quiet.reduce((a, b) => a + b, 0) / Math.max(1, quiet.length),
    leakClipsCalled,
    noLeakClipsCalled,
  };
}
