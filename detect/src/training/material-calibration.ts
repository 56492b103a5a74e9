import type { PipeMaterial } from '@suido/ingest';
import { fitVerdictWeights } from '../model/level-history.ts';
import { isPlasticMain, logit as logOdds, sigmoid } from '../model/log-odds.ts';
import type { NightOutcome } from './evaluation.ts';

/**
 * Thresholds per pipe material from one calibrated probability, so that the
 * false-alert budget goes where it finds the most leaks.
 *
 * Why: a night's K-of-N score means something different on each material.
 * A plastic main's leak is low and quiet, so its nights score lower, and
 * one score threshold for every material is set by whichever material's
 * leak-free nights score highest; a threshold per material, each held to
 * the same budget on its own nights (`--separate-materials`), spends the
 * budget evenly whether or not a material's leaks can use it. Instead, a
 * logistic regression turns a night's score into the probability of a leak
 * given the score and the main's material (the score's logit; a term per
 * material; the logit's slope on plastic mains apart), and one threshold on
 * that probability, chosen at the budget over every material's nights
 * together, is the same evidence of a leak on every main — the
 * Neyman–Pearson rule. Within a material the probability rises with the
 * score, so it is a score threshold per material: the model file and the
 * engine carry it as the material thresholds they already know.
 *
 * The probability bakes in how often the fitting nights' mains of each
 * material leak audibly (the simulator's mix); the thresholds it gives are
 * what the engine runs, and the card measures them on test nights.
 *
 * Measured on 2.4.4's heads (detect/README.md, "2.4.5"): it found plastic
 * mains' leak nights more often by finding metal mains' less often, and no
 * more in all; the shipped recipe does not use it.
 */
export interface MaterialCalibration {
  readonly byMaterial: Partial<Record<PipeMaterial, number>>;
  /** The threshold on the calibrated probability, chosen at the budget. */
  readonly probabilityThreshold: number;
  /** Materials with nights to fit on, in the inputs' order. */
  readonly materials: readonly PipeMaterial[];
  /** Nights fitted on: leak and no-leak. */
  readonly leakNights: number;
  readonly noLeakNights: number;
}

/** Scores are probabilities; their logits are kept finite at a saturated 0 or 1. */
const SCORE_FLOOR = 1e-6;
const logit = (p: number) => logOdds(p, SCORE_FLOOR);

function inputs(score: number, material: string, materials: readonly string[]): Float64Array {
  const z = logit(score);
  const x = new Float64Array(2 + materials.length);
  x[0] = z;
  x[1] = isPlasticMain(material) ? z : 0;
  materials.forEach((m, i) => (x[2 + i] = material === m ? 1 : 0));
  return x;
}

/**
 * `outcomes`: the nights the default threshold is chosen on (inaudible
 * leaks are left out, as the threshold choice leaves them);
 * `chooseThreshold`: the budget's rule (evaluation.ts chooseThreshold),
 * applied to the nights' probabilities. A material whose probability does
 * not rise with the score gets no threshold of its own (the default judges
 * it).
 */
export function calibrateMaterials(outcomes: readonly NightOutcome[], chooseThreshold: (outcomes: readonly NightOutcome[]) => number): MaterialCalibration {
  const judged = outcomes.filter((o) => o.kind !== 'inaudible' && Number.isFinite(o.score));
  const materials = [...new Set(judged.map((o) => o.meta.material))].sort() as PipeMaterial[];
  const leakNights = judged.filter((o) => o.kind === 'leak').length;
  const noLeakNights = judged.length - leakNights;
  if (leakNights === 0 || noLeakNights === 0) throw new Error(`calibrating materials needs leak and no-leak nights, got ${leakNights} and ${noLeakNights}`);
  const x = judged.map((o) => inputs(o.score, o.meta.material, materials));
  const fitted = fitVerdictWeights(
    x,
    judged.map((o) => (o.kind === 'leak' ? 1 : 0)),
  );
  // The probability is linear in logits: bias + sum w_j (x_j - mean_j) / std_j.
  const w = (j: number) => fitted.weights[j]! / fitted.inputStd[j]!;
  const offset = fitted.bias - x[0]!.reduce((sum, _, j) => sum + w(j) * fitted.inputMean[j]!, 0);
  const probability = (score: number, material: string) => {
    const xi = inputs(score, material, materials);
    return sigmoid(offset + xi.reduce((sum, v, j) => sum + w(j) * v, 0));
  };
  const probabilityThreshold = chooseThreshold(
    judged.map((o) => ({ ...o, score: probability(o.score, o.meta.material) })),
  );
  const byMaterial: Partial<Record<PipeMaterial, number>> = {};
  materials.forEach((m, i) => {
    // For this material: logit(p) = a + b * logit(score).
    const a = offset + w(2 + i);
    const b = w(0) + (isPlasticMain(m) ? w(1) : 0);
    if (!(b > 0)) return;
    // At most 1, which a model file must hold: a probability threshold nothing reaches is a score threshold of 1.
    byMaterial[m] = Math.min(1, sigmoid((logit(probabilityThreshold) - a) / b));
  });
  return { byMaterial, probabilityThreshold, materials, leakNights, noLeakNights };
}
