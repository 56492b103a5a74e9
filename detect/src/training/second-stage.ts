import { fitVerdictWeights, verdictProbability, type LevelVerdict } from '../model/level-history.ts';
import { principalComponents, project, type PrincipalComponents } from './principal-components.ts';

/**
 * A second stage that judges a recording as a whole (detect/README.md, "A
 * lead for the next session"): a logistic regression on the heads' K-of-N
 * score (its logit), the site, and the recording's median window features
 * along their leading principal components — and, where the main's
 * material is known, whether it is plastic, with the score and the
 * components once more on plastic mains. Why: the heads judge a second with
 * its context and never learn what the main is made of, and a steep
 * low-frequency spectrum is a leak on PVC but a pump or a tram on ductile
 * iron. Measured only (training/second-stage-probe.ts); nothing serves it.
 */
export interface SecondStageExample {
  /** The heads' K-of-N score of the recording (clip-scores.ts ScoredClip.score). */
  readonly score: number;
  /** Its median window features (clip-scores.ts scoreClipWithFeatures). */
  readonly features: ArrayLike<number>;
  readonly material: string;
  readonly site: string;
  readonly leak: boolean;
}

export interface SecondStageOptions {
  /** Principal components of the features taken (default 30). */
  readonly components?: number;
  /** Whether the stage is told the main's material (default true). */
  readonly materialAware?: boolean;
  /** Sites with a term of their own (default: near_prv, near_pump, the sites with thresholds of their own). */
  readonly sites?: readonly string[];
}

export interface SecondStage {
  readonly pc: PrincipalComponents;
  readonly weights: Pick<LevelVerdict, 'inputMean' | 'inputStd' | 'weights' | 'bias'>;
  readonly sites: readonly string[];
  readonly materialAware: boolean;
}

const PLASTIC: readonly string[] = ['pvc', 'pe'];
const SCORE_FLOOR = 1e-6;

function logit(p: number): number {
  const q = Math.min(1 - SCORE_FLOOR, Math.max(SCORE_FLOOR, p));
  return Math.log(q / (1 - q));
}

function inputs(e: Omit<SecondStageExample, 'leak'>, pc: PrincipalComponents, sites: readonly string[], materialAware: boolean): Float64Array {
  const z = logit(e.score);
  const pcs = project(pc, e.features);
  const plastic = PLASTIC.includes(e.material) ? 1 : 0;
  const head = [z, ...sites.map((s) => (e.site === s ? 1 : 0)), ...(materialAware ? [plastic, plastic * z] : [])];
  return Float64Array.from([...head, ...pcs, ...(materialAware ? [...pcs].map((v) => plastic * v) : [])]);
}

export function fitSecondStage(examples: readonly SecondStageExample[], opts: SecondStageOptions = {}): SecondStage {
  const { components = 30, materialAware = true, sites = ['near_prv', 'near_pump'] } = opts;
  const leaks = examples.filter((e) => e.leak).length;
  if (leaks === 0 || leaks === examples.length) throw new Error(`a second stage needs leak and no-leak recordings, got ${leaks} and ${examples.length - leaks}`);
  const pc = principalComponents(examples.map((e) => e.features), components);
  const weights = fitVerdictWeights(
    examples.map((e) => inputs(e, pc, sites, materialAware)),
    examples.map((e) => (e.leak ? 1 : 0)),
    { l2: 1e-3, iterations: 4000, rate: 0.2 },
  );
  return { pc, weights, sites: [...sites], materialAware };
}

/** The probability of a leak the stage gives a recording. */
export function secondStageProbability(stage: SecondStage, e: Omit<SecondStageExample, 'leak'>): number {
  return verdictProbability(stage.weights, inputs(e, stage.pc, stage.sites, stage.materialAware));
}
