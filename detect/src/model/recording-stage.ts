import { FEATURE_COUNT } from './feature-spec.ts';
import { verdictProbability } from './level-history.ts';
import { isPlasticMain, logit } from './log-odds.ts';

/**
 * The second stage that judges a hand-held recording as a whole
 * (detect/README.md, "A lead for the next session"): a logistic regression
 * on the heads' K-of-N clip score (its logit), the site, whether the main
 * is plastic (with the score's logit once more on plastic), and the
 * recording's median window features along their leading principal
 * components (once more on plastic). Why: the heads judge a second with its
 * context and never learn what the main is made of, and a steep
 * low-frequency spectrum is a leak on PVC but a pump or a tram on ductile
 * iron. Fitted by training/second-stage.ts; carried in the model file as
 * `recording_stage` (LeakModel.info.recordingStage).
 */
export interface RecordingStage {
  readonly inputs: typeof RECORDING_STAGE_INPUTS;
  /** Per feature, the mean and standard deviation the features were standardised with. */
  readonly featureMean: readonly number[];
  readonly featureStd: readonly number[];
  /** Principal components of the standardised features: unit vectors of FEATURE_COUNT. */
  readonly components: readonly (readonly number[])[];
  readonly inputMean: readonly number[];
  readonly inputStd: readonly number[];
  readonly weights: readonly number[];
  readonly bias: number;
  /** Sites with a term of their own. */
  readonly sites: readonly string[];
  /** Thresholds on the stage's probability: per site in `sites`, and `default` for every other. */
  readonly thresholds: Readonly<Record<string, number>>;
}

/** The layout of the stage's inputs (`recording_stage.inputs`); a model with another is refused. */
export const RECORDING_STAGE_INPUTS = 'score-sites-plastic-components/1';

/** What the stage judges of a recording. */
export interface StagedRecording {
  /** The heads' K-of-N clip score. */
  readonly score: number;
  /** The median over the counted windows of each window's own features (FEATURE_COUNT). */
  readonly features: ArrayLike<number>;
  /** The main's material; unknown counts as a metal main, as the level verdict counts it. */
  readonly material?: string | undefined;
  readonly site?: string | undefined;
}

const SCORE_FLOOR = 1e-6;

export function stageInputCount(sites: number, components: number): number {
  return 1 + sites + 2 + 2 * components;
}

/** The stage's inputs for a recording, in RECORDING_STAGE_INPUTS' layout. */
export function stageInputs(
  stage: Pick<RecordingStage, 'featureMean' | 'featureStd' | 'components' | 'sites'>,
  r: StagedRecording,
): Float64Array {
  const z = logit(r.score, SCORE_FLOOR);
  const plastic = isPlasticMain(r.material) ? 1 : 0;
  const k = stage.components.length;
  const x = new Float64Array(stageInputCount(stage.sites.length, k));
  x[0] = z;
  stage.sites.forEach((s, i) => (x[1 + i] = r.site === s ? 1 : 0));
  const at = 1 + stage.sites.length;
  x[at] = plastic;
  x[at + 1] = plastic * z;
  stage.components.forEach((u, c) => {
    let s = 0;
    for (let j = 0; j < u.length; j++) s += u[j]! * ((r.features[j]! - stage.featureMean[j]!) / stage.featureStd[j]!);
    x[at + 2 + c] = s;
    x[at + 2 + k + c] = plastic * s;
  });
  return x;
}

/** The stage's probability of a leak, and its verdict at the recording's site's threshold. */
export function judgeRecording(stage: RecordingStage, r: StagedRecording): { probability: number; threshold: number; leak: boolean } {
  const probability = verdictProbability(stage, stageInputs(stage, r));
  const threshold = (r.site !== undefined && stage.sites.includes(r.site) ? stage.thresholds[r.site] : undefined) ?? stage.thresholds.default!;
  return { probability, threshold, leak: probability >= threshold };
}

export function parseRecordingStage(text: string): RecordingStage {
  const v = JSON.parse(text) as Partial<RecordingStage>;
  const numbers = (a: unknown, length: number) => Array.isArray(a) && a.length === length && a.every((x) => typeof x === 'number' && Number.isFinite(x));
  if (v.inputs !== RECORDING_STAGE_INPUTS) throw new Error(`recording_stage: inputs '${v.inputs}' are not this build's ${RECORDING_STAGE_INPUTS}`);
  if (!numbers(v.featureMean, FEATURE_COUNT) || !numbers(v.featureStd, FEATURE_COUNT)) throw new Error(`recording_stage: featureMean and featureStd must each hold ${FEATURE_COUNT} numbers`);
  const components = v.components;
  if (!Array.isArray(components) || components.length === 0 || !components.every((u) => numbers(u, FEATURE_COUNT))) {
    throw new Error(`recording_stage: components must be a list of vectors of ${FEATURE_COUNT} numbers`);
  }
  const sites = v.sites;
  if (!Array.isArray(sites) || !sites.every((s) => typeof s === 'string')) throw new Error('recording_stage: sites must be a list of names');
  const d = stageInputCount(sites.length, components.length);
  if (!numbers(v.inputMean, d) || !numbers(v.inputStd, d) || !numbers(v.weights, d)) throw new Error(`recording_stage: inputMean, inputStd and weights must each hold ${d} numbers`);
  if (![...v.inputStd!, ...v.featureStd!].every((s) => s > 0)) throw new Error('recording_stage: standard deviations must be positive');
  if (typeof v.bias !== 'number' || !Number.isFinite(v.bias)) throw new Error('recording_stage: bias must be a number');
  const t = v.thresholds;
  const threshold = (x: unknown) => typeof x === 'number' && x >= 0 && x <= 1;
  if (!t || typeof t !== 'object' || !threshold(t.default) || !sites.every((s) => threshold(t[s]))) {
    throw new Error(`recording_stage: thresholds from 0 to 1 for default and each of ${sites.join(', ') || 'no site'}`);
  }
  return v as RecordingStage;
}
