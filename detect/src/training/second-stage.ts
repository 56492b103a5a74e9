import type { LeakModel } from '../model/leak-model.ts';
import { fitVerdictWeights } from '../model/level-history.ts';
import { RECORDING_STAGE_INPUTS, judgeRecording, stageInputs, type RecordingStage, type StagedRecording } from '../model/recording-stage.ts';
import { scoreClipWithFeatures, type Clip } from './clip-scores.ts';
import type { FrameMeta } from './dataset.ts';
import { chooseThreshold, kindOf, type NightOutcome } from './evaluation.ts';
import { pairedAucDifference } from './paired-auc.ts';
import { principalComponents } from './principal-components.ts';

/**
 * Fits the second stage that judges a recording as a whole
 * (model/recording-stage.ts says what it weighs and why).
 */
export interface SecondStageExample extends StagedRecording {
  readonly leak: boolean;
}

export interface SecondStageOptions {
  /** Principal components of the features taken (default 30). */
  readonly components?: number;
  /** Whether the stage is told the main's material (default true); untold, every main counts as metal. */
  readonly materialAware?: boolean;
  /** Sites with a term and a threshold of their own (default: near_prv, near_pump, the sites with thresholds of their own). */
  readonly sites?: readonly string[];
}

/** A recording as a stage judges it: untold, without its material (every main counts as metal), as it was fitted. */
const asJudged = (e: SecondStageExample, materialAware: boolean): SecondStageExample => (materialAware ? e : { ...e, material: undefined });

/** The stage fitted, before its thresholds are chosen (every one 0.5 until then). */
export function fitSecondStage(examples: readonly SecondStageExample[], opts: SecondStageOptions = {}): RecordingStage {
  const { components = 30, materialAware = true, sites = ['near_prv', 'near_pump'] } = opts;
  const leaks = examples.filter((e) => e.leak).length;
  if (leaks === 0 || leaks === examples.length) throw new Error(`a second stage needs leak and no-leak recordings, got ${leaks} and ${examples.length - leaks}`);
  const pc = principalComponents(examples.map((e) => e.features), components);
  const shape = { featureMean: [...pc.mean], featureStd: [...pc.std], components: pc.components.map((u) => [...u]), sites: [...sites] };
  const weights = fitVerdictWeights(
    examples.map((e) => stageInputs(shape, asJudged(e, materialAware))),
    examples.map((e) => (e.leak ? 1 : 0)),
    { l2: 1e-3, iterations: 4000, rate: 0.2 },
  );
  return {
    inputs: RECORDING_STAGE_INPUTS,
    ...shape,
    inputMean: [...weights.inputMean],
    inputStd: [...weights.inputStd],
    weights: [...weights.weights],
    bias: weights.bias,
    thresholds: Object.fromEntries(['default', ...sites].map((g) => [g, 0.5])),
  };
}

/** The probability of a leak the stage gives a recording. */
export function secondStageProbability(stage: RecordingStage, e: StagedRecording): number {
  return judgeRecording(stage, e).probability;
}

/**
 * Per site group (each of `sites`, and `default` for every other), the
 * threshold on recordings' scores at the budget of false calls per 100
 * no-leak recordings (chooseThreshold, recordings as nights).
 */
export function chooseStageThresholds(sites: readonly string[], metas: readonly FrameMeta[], scores: readonly number[], maxFalsePer100: number): Record<string, number> {
  const groupOf = (site: string) => (sites.includes(site) ? site : 'default');
  const outcomes = metas.map((meta, i): NightOutcome => ({ key: meta.id, kind: kindOf(meta), meta, score: scores[i]! }));
  return Object.fromEntries(['default', ...sites].map((g) => [g, chooseThreshold(outcomes.filter((o) => groupOf(o.meta.environment) === g), maxFalsePer100)]));
}

/** What the card reports of the stage: its fit, and the test recordings judged by the heads and by it. */
export interface RecordingStageReport {
  readonly components: number;
  readonly fittedOn: { readonly leak: number; readonly noLeak: number };
  /** No-leak recordings the thresholds were chosen on: the fitting ones and any more given. */
  readonly thresholdsChosenOn: number;
  readonly thresholds: Readonly<Record<string, number>>;
  readonly test: {
    readonly leak: number;
    readonly noLeak: number;
    readonly headsAuc: number;
    readonly stageAuc: number;
    /** stageAuc − headsAuc with its 95 % paired bootstrap interval over the recordings. */
    readonly difference: { readonly value: number; readonly low: number; readonly high: number };
    readonly heads: { readonly leakCalled: number; readonly noLeakCalled: number };
    readonly stage: { readonly leakCalled: number; readonly noLeakCalled: number };
  };
}

/**
 * The stage for a model, fitted on recordings no test uses (`fitting`: a
 * hand-held data set's train and val splits), each scored through `model`
 * as `score-wav` scores it; its thresholds, per site group, on its
 * probability at the budget of false calls per 100 no-leak fitting
 * recordings (chooseThreshold); and `testing` judged by the heads (the
 * model's recording threshold and K of N) and by it.
 */
export async function fitRecordingStage(
  model: LeakModel,
  fitting: readonly Clip[],
  testing: readonly Clip[],
  maxFalsePer100: number,
  opts: SecondStageOptions & {
    /** More recordings the thresholds are chosen on, beside `fitting` (a budget held on the few no-leak recordings it is fitted on did not hold on new ones: detect/README.md, "2.4.6"). */
    readonly choosing?: readonly Clip[];
    /**
     * Fit, from the same scored recordings, a second stage never told the
     * material too: what `score-wav` judges a recording with when told its
     * site but not its main (detect/README.md, "A recording given alone",
     * "2.4.9 told the site").
     */
    readonly untold?: boolean;
  } = {},
): Promise<{ stage: RecordingStage; report: RecordingStageReport; untold?: { stage: RecordingStage; report: RecordingStageReport } }> {
  const scoreAll = async (clips: readonly Clip[]) => {
    const out: { clip: Clip; example: SecondStageExample; called: boolean }[] = [];
    for (const clip of clips) {
      const r = await scoreClipWithFeatures(model, clip);
      if (r) out.push({ clip, called: r.scored.called, example: { score: r.scored.score, features: r.features, material: clip.meta.material, site: clip.meta.environment, leak: clip.meta.leak } });
    }
    return out;
  };
  const fit = await scoreAll(fitting);
  const chosenOn = [...fit, ...(await scoreAll(opts.choosing ?? []))];
  const test = await scoreAll(testing);
  const labels = test.map((t) => (t.example.leak ? 1 : 0));
  const heads = test.map((t) => t.example.score);
  const count = (called: (i: number) => boolean, leak: boolean) => test.filter((t, i) => t.example.leak === leak && called(i)).length;
  const fitOne = (materialAware: boolean): { stage: RecordingStage; report: RecordingStageReport } => {
    const fitted = fitSecondStage(fit.map((f) => f.example), { ...opts, materialAware });
    const thresholds = chooseStageThresholds(
      fitted.sites,
      chosenOn.map((f) => f.clip.meta),
      chosenOn.map((f) => secondStageProbability(fitted, asJudged(f.example, materialAware))),
      maxFalsePer100,
    );
    const stage: RecordingStage = { ...fitted, thresholds };
    const judged = test.map((t) => judgeRecording(stage, asJudged(t.example, materialAware)));
    const p = pairedAucDifference(judged.map((j) => j.probability), heads, labels);
    return {
      stage,
      report: {
        components: stage.components.length,
        fittedOn: { leak: fit.filter((f) => f.example.leak).length, noLeak: fit.filter((f) => !f.example.leak).length },
        thresholdsChosenOn: chosenOn.filter((f) => !f.example.leak).length,
        thresholds,
        test: {
          leak: labels.filter((l) => l === 1).length,
          noLeak: labels.filter((l) => l === 0).length,
          headsAuc: p.aucB,
          stageAuc: p.aucA,
          difference: { value: p.difference, low: p.low, high: p.high },
          heads: { leakCalled: count((i) => test[i]!.called, true), noLeakCalled: count((i) => test[i]!.called, false) },
          stage: { leakCalled: count((i) => judged[i]!.leak, true), noLeakCalled: count((i) => judged[i]!.leak, false) },
        },
      },
    };
  };
  const told = fitOne(opts.materialAware ?? true);
  return opts.untold ? { ...told, untold: fitOne(false) } : told;
}
