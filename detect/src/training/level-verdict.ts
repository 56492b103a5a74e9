import { BAND_COUNT } from '../model/feature-spec.ts';
import { logit as logOdds, sigmoid } from '../model/log-odds.ts';
import {
  BASELINE_AFTER_MS,
  BASELINE_SPAN_MS,
  fitVerdictWeights,
  levelRise,
  verdictInputs,
  verdictProbability,
  verdictRaises,
  VERDICT_INPUTS,
  VERDICT_INPUTS_EVERY_NIGHT,
  judgesFirstNights,
  type LevelVerdict,
} from '../model/level-history.ts';
import { thresholdFor, type Thresholds } from '../model/operating-point.ts';
import { nightKey } from './dataset.ts';
import { chooseThreshold, nightReport, nights, persistenceScore, type NightOutcome, type Persistence } from './evaluation.ts';
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

const inputsOf = (n: VerdictNight, sites: readonly string[], layout: string) =>
  verdictInputs(n.outcome.score, n.threshold, n.outcome.meta.environment, n.outcome.meta.material, n.rise, sites, layout);

/** A verdict-judged night's sensor and night number: the night before is `night - 1` of the same sensor. */
const nightOfSensor = (o: NightOutcome, night = o.meta.night) => `${o.meta.sensorId}#${night}`;

/**
 * Each night's verdict probability (undefined on a night without an earlier
 * one) and that of its sensor's night before (undefined where that night was
 * not judged by the verdict, or is not in the set).
 */
function probabilities(ns: readonly VerdictNight[], verdict: Pick<LevelVerdict, 'inputs' | 'inputMean' | 'inputStd' | 'weights' | 'bias' | 'sites'>) {
  const every = judgesFirstNights(verdict);
  const p = ns.map((n) => (n.rise || every ? verdictProbability(verdict, inputsOf(n, verdict.sites, verdict.inputs)) : undefined));
  const byNight = new Map<string, number>();
  ns.forEach((n, i) => p[i] !== undefined && byNight.set(nightOfSensor(n.outcome), p[i]!));
  const before = ns.map((n) => byNight.get(nightOfSensor(n.outcome, n.outcome.meta.night - 1)));
  return { p, before };
}

/** Candidate thresholds of the confirmation search: every distinct probability, or this many evenly spaced among them. */
const CONFIRMATION_CANDIDATES = 400;

/**
 * The thresholds of a verdict with confirmation (LevelVerdict
 * .confirmedThreshold), chosen as chooseThreshold chooses one: the highest
 * recall of leak nights with at most `maxFalsePer100` false alerts per 100
 * no-leak nights, over pairs of a confirmed threshold and the night-alone
 * threshold the rest of the budget allows. Undefined where no pair finds
 * more leak nights than `aloneRecall` (the verdict without confirmation).
 */
export function chooseConfirmation(
  nights: readonly { readonly p: number; readonly before: number | undefined; readonly leak: boolean }[],
  maxFalsePer100: number,
  aloneRecall: number,
): { threshold: number; confirmedThreshold: number; recall: number; falsePer100: number } | undefined {
  const leaks = nights.filter((n) => n.leak).length;
  const noLeak = nights.length - leaks;
  if (leaks === 0 || noLeak === 0) return undefined;
  const budget = Math.floor((maxFalsePer100 * noLeak) / 100 + 1e-9);
  const ascending = [...new Set(nights.map((n) => n.p))].sort((a, b) => a - b);
  const step = Math.max(1, Math.floor(ascending.length / CONFIRMATION_CANDIDATES));
  const candidates = ascending.filter((_, i) => i % step === 0).reverse();
  /** The smallest probability of any night above x: a threshold that no night at or below x reaches. */
  const above = (x: number) => {
    let lo = 0;
    let hi = ascending.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ascending[mid]! > x) hi = mid;
      else lo = mid + 1;
    }
    return lo < ascending.length ? ascending[lo]! : Math.min(1, x + 1e-6);
  };
  let best: { threshold: number; confirmedThreshold: number; recall: number; falsePer100: number } | undefined;
  for (const c of candidates) {
    const confirmed = nights.map((n) => n.before !== undefined && n.p >= c && n.before >= c);
    const falseConfirmed = nights.filter((n, i) => !n.leak && confirmed[i]).length;
    // Lower confirmed thresholds only confirm more nights.
    if (falseConfirmed > budget) break;
    const left = budget - falseConfirmed;
    const alone = nights.filter((n, i) => !n.leak && !confirmed[i]).map((n) => n.p).sort((a, b) => b - a);
    const threshold = Math.max(c, left >= alone.length ? c : above(alone[left]!));
    const alerted = nights.map((n, i) => confirmed[i] || n.p >= threshold);
    const recall = nights.filter((n, i) => n.leak && alerted[i]).length / leaks;
    if (!best || recall > best.recall) {
      const falsePer100 = (100 * nights.filter((n, i) => !n.leak && alerted[i]).length) / noLeak;
      best = { threshold, confirmedThreshold: c, recall, falsePer100 };
    }
  }
  return best && best.recall > aloneRecall ? best : undefined;
}

/**
 * Fits the verdict on the nights that have a baseline, or on every night
 * with VERDICT_INPUTS_EVERY_NIGHT (audible leak against no leak; inaudible
 * leaks are left out, as in training the heads) and
 * chooses its threshold on the same nights' no-leak ones: the highest
 * recall with at most `maxFalsePer100` false alerts per 100.
 */
export function chooseLevelVerdict(
  fitOn: readonly VerdictNight[],
  sites: readonly string[],
  maxFalsePer100: number,
  /** VERDICT_INPUTS_EVERY_NIGHT: fitted on, and judging, first nights too. */
  layout: string = VERDICT_INPUTS,
): {
  verdict: LevelVerdict;
  /** The same verdict judging every night alone (no confirmedThreshold): what confirmation is measured against. */
  alone: LevelVerdict;
  leakNights: number;
  noLeakNights: number;
  /** The fitting nights' recall and false alerts per 100 both ways; confirmed: undefined where confirmation found no more leak nights. */
  fitting: { alone: { recall: number; falsePer100: number }; confirmed: { recall: number; falsePer100: number } | undefined };
} {
  const every = layout === VERDICT_INPUTS_EVERY_NIGHT;
  const judges = (n: VerdictNight) => (n.rise !== undefined || every) && n.outcome.kind !== 'inaudible';
  const judged = fitOn.filter(judges);
  const inputs = judged.map((n) => inputsOf(n, sites, layout));
  const labels = judged.map((n) => (n.outcome.kind === 'leak' ? 1 : 0));
  if (!labels.includes(1) || !labels.includes(0)) throw new Error(`the level verdict needs leak and no-leak nights${every ? '' : ' with an earlier night'}; got ${labels.length} nights`);
  const fitted = { inputs: layout, ...fitVerdictWeights(inputs, labels), sites: [...sites] };
  const outcomes = judged.map((n, i) => ({ ...n.outcome, score: verdictProbability(fitted, inputs[i]!) }));
  const threshold = chooseThreshold(outcomes, maxFalsePer100);
  const alone: LevelVerdict = { ...fitted, threshold };
  const aloneReport = nightReport(outcomes, threshold);
  // The night before may be one the fit leaves out (an inaudible leak's): the engine would have judged it all the same.
  const { p, before } = probabilities(fitOn, fitted);
  const confirmation = chooseConfirmation(
    fitOn.flatMap((n, i) => (judges(n) ? [{ p: p[i]!, before: before[i], leak: n.outcome.kind === 'leak' }] : [])),
    maxFalsePer100,
    aloneReport.recall,
  );
  return {
    verdict: confirmation ? { ...alone, threshold: confirmation.threshold, confirmedThreshold: confirmation.confirmedThreshold } : alone,
    alone,
    leakNights: labels.filter((y) => y === 1).length,
    noLeakNights: labels.filter((y) => y === 0).length,
    fitting: {
      alone: { recall: aloneReport.recall, falsePer100: aloneReport.falseAlertsPer100Nights },
      confirmed: confirmation && { recall: confirmation.recall, falsePer100: confirmation.falsePer100 },
    },
  };
}

/**
 * The nights as a detector would judge them, each score on one scale that
 * alerts at 0.5 or above: with `verdict`, a night with a baseline by the
 * verdict (confirmed by the night before where it has a confirmed
 * threshold), a sensor's first night by the K-of-N rule unless the verdict
 * judges first nights too (judgesFirstNights); without, every
 * night by the rule (so they compare on the same nights with nightReport).
 */
export function judgedNights(ns: readonly VerdictNight[], verdict?: LevelVerdict): NightOutcome[] {
  const logit = (p: number) => logOdds(p, 1e-12);
  const { p, before } = verdict ? probabilities(ns, verdict) : { p: [], before: [] };
  return ns.map((n, i) => {
    const probability = p[i];
    if (verdict && probability !== undefined) {
      // On the 0.5 scale: the night alone against its threshold, or the weaker of two nights in a row against the confirmed one.
      const alone = logit(probability) - logit(verdict.threshold);
      const c = verdict.confirmedThreshold;
      const b = before[i];
      const confirmed = c !== undefined && b !== undefined ? Math.min(logit(probability), logit(b)) - logit(c) : -Infinity;
      const score = sigmoid(Math.max(alone, confirmed));
      // The engine's decision (verdictRaises), kept exact where the scale rounds.
      const raises = verdictRaises(verdict, probability, b);
      return { ...n.outcome, score: raises ? Math.max(0.5, score) : Math.min(score, 0.5 - 1e-9) };
    }
    // The rule's own decision, kept exact: at or over the threshold is at or over 0.5.
    const margin = n.outcome.score >= n.threshold ? Math.max(0, n.outcome.score - n.threshold) : Math.min(-1e-9, n.outcome.score - n.threshold);
    return { ...n.outcome, score: sigmoid(Number.isFinite(margin) ? margin : -50) };
  });
}
