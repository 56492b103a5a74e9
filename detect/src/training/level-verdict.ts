import { BAND_COUNT } from '../model/feature-spec.ts';
import {
  BASELINE_AFTER_MS,
  BASELINE_SPAN_MS,
  fitVerdictWeights,
  levelRise,
  verdictInputs,
  verdictProbability,
  VERDICT_INPUTS,
  type LevelVerdict,
} from '../model/level-history.ts';
import { thresholdFor, type Thresholds } from '../model/operating-point.ts';
import { nightKey } from './dataset.ts';
import { chooseThreshold, nights, persistenceScore, type NightOutcome, type Persistence } from './evaluation.ts';
import type { Example } from './examples.ts';

/** A sensor-night as the verdict sees it: the K-of-N night, its sensor's threshold, its bands' rise over earlier nights. */
export interface VerdictNight {
  readonly outcome: NightOutcome;
  readonly threshold: number;
  /** Undefined on a sensor's first night: nothing to compare with. */
  readonly rise: Float64Array | undefined;
}

/**
 * Night-time windows by sensor-night, each night with the K-of-N score of
 * its windows and its bands' rise (model/level-history.ts levelRise) over
 * the sensor's night-time windows from BASELINE_SPAN_MS to
 * BASELINE_AFTER_MS before the night's first window. `bandLevels` holds
 * each example's BAND_COUNT band levels, row-major.
 */
export function verdictNights(
  examples: readonly Example[],
  scores: ArrayLike<number>,
  bandLevels: Float32Array,
  persistence: Persistence,
  thresholds: Thresholds,
): VerdictNight[] {
  if (bandLevels.length !== examples.length * BAND_COUNT) throw new RangeError(`band levels hold ${bandLevels.length} values, not ${examples.length} x ${BAND_COUNT}`);
  const level = (i: number) => bandLevels.subarray(i * BAND_COUNT, (i + 1) * BAND_COUNT);
  const bySensor = new Map<string, number[]>();
  const byNight = new Map<string, number[]>();
  const add = (map: Map<string, number[]>, key: string, i: number) => {
    const list = map.get(key);
    if (list) list.push(i);
    else map.set(key, [i]);
  };
  examples.forEach((e, i) => {
    if (e.meta.daytime) return;
    add(bySensor, e.meta.sensorId, i);
    add(byNight, nightKey(e.meta), i);
  });
  return nights(examples, scores, (s) => persistenceScore(s, persistence)).map((outcome) => {
    const own = byNight.get(outcome.key)!;
    const first = Math.min(...own.map((i) => examples[i]!.windowStartMs));
    const earlier = bySensor.get(outcome.meta.sensorId)!.filter((i) => {
      const age = first - examples[i]!.windowStartMs;
      return age >= BASELINE_AFTER_MS && age <= BASELINE_SPAN_MS;
    });
    return {
      outcome,
      threshold: thresholdFor(thresholds, { site: outcome.meta.environment, material: outcome.meta.material }),
      rise: levelRise(own.map(level), earlier.map(level)),
    };
  });
}

/**
 * Fits the verdict on the nights that have a baseline (audible leak against
 * no leak; inaudible leaks are left out, as in training the heads) and
 * chooses its threshold on the same nights' no-leak ones: the highest
 * recall with at most `maxFalsePer100` false alerts per 100.
 */
export function chooseLevelVerdict(
  fitOn: readonly VerdictNight[],
  sites: readonly string[],
  maxFalsePer100: number,
): { verdict: LevelVerdict; leakNights: number; noLeakNights: number } {
  const judged = fitOn.filter((n) => n.rise !== undefined && n.outcome.kind !== 'inaudible');
  const inputs = judged.map((n) => verdictInputs(n.outcome.score, n.threshold, n.outcome.meta.environment, n.outcome.meta.material, n.rise!, sites));
  const labels = judged.map((n) => (n.outcome.kind === 'leak' ? 1 : 0));
  if (!labels.includes(1) || !labels.includes(0)) throw new Error(`the level verdict needs leak and no-leak nights with an earlier night; got ${labels.length} nights`);
  const fitted = fitVerdictWeights(inputs, labels);
  const outcomes = judged.map((n, i) => ({ ...n.outcome, score: verdictProbability(fitted, inputs[i]!) }));
  const threshold = chooseThreshold(outcomes, maxFalsePer100);
  return { verdict: { inputs: VERDICT_INPUTS, sites: [...sites], ...fitted, threshold }, leakNights: labels.filter((y) => y === 1).length, noLeakNights: labels.filter((y) => y === 0).length };
}

/**
 * The nights as a detector would judge them, each score on one scale that
 * alerts at 0.5 or above: with `verdict`, a night with a baseline by the
 * verdict, a sensor's first night by the K-of-N rule; without, every night
 * by the rule (so the two compare on the same nights with nightReport).
 */
export function judgedNights(ns: readonly VerdictNight[], verdict?: LevelVerdict): NightOutcome[] {
  const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
  const logit = (p: number) => {
    const q = Math.min(1 - 1e-12, Math.max(1e-12, p));
    return Math.log(q / (1 - q));
  };
  return ns.map((n) => {
    if (verdict && n.rise) {
      const p = verdictProbability(verdict, verdictInputs(n.outcome.score, n.threshold, n.outcome.meta.environment, n.outcome.meta.material, n.rise, verdict.sites));
      return { ...n.outcome, score: sigmoid(logit(p) - logit(verdict.threshold)) };
    }
    // The rule's own decision, kept exact: at or over the threshold is at or over 0.5.
    const margin = n.outcome.score >= n.threshold ? Math.max(0, n.outcome.score - n.threshold) : Math.min(-1e-9, n.outcome.score - n.threshold);
    return { ...n.outcome, score: sigmoid(Number.isFinite(margin) ? margin : -50) };
  });
}
