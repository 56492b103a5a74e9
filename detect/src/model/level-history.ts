import { BAND_COUNT } from './feature-spec.ts';
import { isPlasticMain, logit, sigmoid } from './log-odds.ts';

/**
 * A sensor's own history of band levels, beside the model's verdict on a
 * night. The model normalises level away (a device's sensitivity and a
 * recorder's gain are unknown), so it cannot tell a leak that began from
 * the steady background it joined; a sensor that has listened before can:
 * the bands a new leak fills rise against the sensor's earlier nights,
 * while its own sensitivity, which is the same every night, cancels.
 *
 * The night verdict with level history is a logistic regression on the
 * model's K-of-N night score (as a margin over the sensor's threshold, in
 * logits), the sensor's site, and the rise of each band's level over its
 * earlier nights (LEVEL_FEATURES). Fitted and measured by train.ts
 * --level-history (training/level-verdict.ts). Why: in a scratch probe
 * with 2.4.0's scores (simulated sets with leak onsets, seed 5's 2,000
 * sensors and 600 of seed 3's, each fitting the verdict that the other
 * measured; nights with an earlier night only), leaks that begin inside
 * the recorded nights were found on 0.58 and 0.61 of their nights against
 * 0.49 and 0.51 by the K-of-N rule alone, on their first night by 0.50 and
 * 0.56 of their sensors against 0.40 and 0.41; leaks there from the first
 * night 0.59 and 0.56 against 0.60 and 0.59; false alerts per 100 no-leak
 * nights 0.39 and 0.84 against 0.55 and 0.43 (the verdict's threshold held
 * the fitting set's rate).
 */

/** Windows at least this much older than a verdict's first window are its sensor's earlier nights. */
export const BASELINE_AFTER_MS = 20 * 3_600_000;
/** ...and at most this much older: a main's background drifts with the season. */
export const BASELINE_SPAN_MS = 8 * 86_400_000;
/** Bands 0–7 (30 to ~300 Hz) hold a plastic main's leak; the rest a metal main's hiss and the background above it. */
export const LOW_BANDS = 8;
/** Bands 0–5 (to ~220 Hz) where a plastic main's new leak rises most; bands 12 on (above ~520 Hz) where it hardly does. */
const PLASTIC_LEAK_BANDS = 6;
const ABOVE_PLASTIC_LEAK = 12;
/**
 * The rise's level (its median over the bands, dB), then its shape: each
 * band's rise over that median, the largest of those, and the low bands'
 * mean. Why level and shape apart: a night of louder background flow
 * lifts every band about alike, a new leak lifts the bands its pipe
 * carries (on onset nights of the simulated sets: PVC +4 to +6 dB below
 * ~200 Hz and under +0.5 above ~400 Hz, ductile iron +7 to +13 dB from 240
 * Hz to 1.6 kHz and +0.1 at 53 Hz; a no-leak night's 90th percentile about
 * +3.5 dB in every band). With the shape and the main's material
 * (verdictInputs), the verdict on 2.4.x's scores found leaks that began
 * inside the nights on 0.66 of their nights instead of 0.58–0.61 (scratch
 * probe, both ways between onset seeds 3 and 5).
 */
export const LEVEL_FEATURES = 1 + BAND_COUNT + 2;
/** What the verdict weighs beside the level features: plastic main; and on one, the rise's level, its low and its high shape. */
const MATERIAL_FEATURES = 4;
/**
 * The layouts of verdictInputs a fitted verdict is for (`level_verdict.inputs`);
 * a model with another is refused. VERDICT_INPUTS judges nights with an
 * earlier night only (a sensor's first night is left to the K-of-N rule);
 * VERDICT_INPUTS_EVERY_NIGHT judges a first night too, told it has none:
 * its rise inputs 0 and one input more, 1 where there is an earlier night.
 * Why (scratch probe, session 21, 2.4.7's scores): a context model scores
 * a sensor's first night lower, its windows' context short, and the rule
 * found 0.19–0.25 of first leak nights where it found 0.63–0.65 of later
 * ones; a verdict told which it judges found 0.43–0.45 of first nights,
 * and 0.542 of seed 12's leak nights at 0.5 false per 100 against 0.499.
 */
export const VERDICT_INPUTS = 'margin-sites-level-shape-plastic/1';
export const VERDICT_INPUTS_EVERY_NIGHT = 'margin-sites-level-shape-plastic-history/1';
const LAYOUTS: readonly string[] = [VERDICT_INPUTS, VERDICT_INPUTS_EVERY_NIGHT];

/** Does the verdict judge a sensor's first night too (VERDICT_INPUTS_EVERY_NIGHT)? */
export const judgesFirstNights = (v: Pick<LevelVerdict, 'inputs'>): boolean => v.inputs === VERDICT_INPUTS_EVERY_NIGHT;

const DB_PER_NEPER_POWER = 10 / Math.LN10;

/** A band level as the graph gives it (natural log of power) in dB. */
export function toDb(level: number): number {
  return DB_PER_NEPER_POWER * level;
}

/** A band level in dB as the graph gives it (natural log of power). */
export function fromDb(db: number): number {
  return db / DB_PER_NEPER_POWER;
}

/**
 * The level features of a verdict (LEVEL_FEATURES): per band, the median
 * over its windows (`current`) minus the median over the sensor's earlier
 * windows (`baseline`), in dB, as the rise's level (the median of those)
 * and its shape; undefined without a baseline. Band levels as the graph
 * gives them (`band_levels`: natural log of power).
 */
export function levelRise(current: readonly Float32Array[], baseline: readonly Float32Array[]): Float64Array | undefined {
  if (current.length === 0 || baseline.length === 0) return undefined;
  const rises = Array.from({ length: BAND_COUNT }, (_, b) => DB_PER_NEPER_POWER * (median(current, b) - median(baseline, b)));
  const sorted = [...rises].sort((a, b) => a - b);
  // The middle of an even count, as numpy's median: the level the shape is taken from.
  const level = (sorted[BAND_COUNT / 2 - 1]! + sorted[BAND_COUNT / 2]!) / 2;
  const out = new Float64Array(LEVEL_FEATURES);
  out[0] = level;
  let max = -Infinity;
  let low = 0;
  rises.forEach((r, b) => {
    out[1 + b] = r - level;
    max = Math.max(max, r - level);
    if (b < LOW_BANDS) low += r - level;
  });
  out[1 + BAND_COUNT] = max;
  out[2 + BAND_COUNT] = low / LOW_BANDS;
  return out;
}

/** The lower median of band b over the rows (as the context's median rank does for twelve). */
function median(rows: readonly Float32Array[], b: number): number {
  const column = Float64Array.from(rows, (r) => r[b]!).sort();
  return column[(column.length - 1) >> 1]!;
}

/**
 * A fitted night verdict (model metadata `level_verdict`): standardisation,
 * weights and bias over verdictInputs, the sites it knows, and the
 * probability at which a night alerts.
 */
export interface LevelVerdict {
  /** VERDICT_INPUTS of the code that fitted it. */
  readonly inputs: string;
  readonly sites: readonly string[];
  readonly inputMean: readonly number[];
  readonly inputStd: readonly number[];
  readonly weights: readonly number[];
  readonly bias: number;
  /** The probability at which a night alerts by itself. */
  readonly threshold: number;
  /**
   * Where present (≤ threshold): a night at or above it alerts when the
   * sensor's night before reached it too. A leak, once begun, is heard
   * night after night; a louder night of background flow seldom comes twice
   * in a row, so two nights in a row can be believed at a lower probability
   * than one. A build that does not know it judges every night by
   * `threshold` alone: fewer alerts, never more.
   */
  readonly confirmedThreshold?: number | undefined;
}

/**
 * Whether a night alerts, given its verdict probability and the peak of the
 * sensor's night before (undefined: none judged): by itself at
 * `threshold`, or at `confirmedThreshold` where the night before reached it too.
 */
export function verdictRaises(v: Pick<LevelVerdict, 'threshold' | 'confirmedThreshold'>, probability: number, nightBefore: number | undefined): boolean {
  if (probability >= v.threshold) return true;
  const c = v.confirmedThreshold;
  return c !== undefined && nightBefore !== undefined && probability >= c && nightBefore >= c;
}

/** The verdict's fitted weights read night scores' logits clamped at this. */
const SCORE_FLOOR = 1e-4;

export function verdictInputCount(sites: number, layout: string = VERDICT_INPUTS): number {
  return 1 + sites + LEVEL_FEATURES + MATERIAL_FEATURES + (layout === VERDICT_INPUTS_EVERY_NIGHT ? 1 : 0);
}

/**
 * What the verdict weighs (VERDICT_INPUTS): the night score's margin over
 * the sensor's threshold (logits; > 0 where the K-of-N rule alone would
 * alert), one flag per site it knows, the level features, and whether the
 * main is plastic (PVC, PE: its leak noise lies below ~300 Hz) with the
 * rise's level and shape on such a main. A sensor whose material the
 * registry does not hold counts as on a metal main. In the every-night
 * layout a first night (`rise` undefined) has its rise inputs 0, and the
 * last input says whether there was an earlier night.
 */
export function verdictInputs(
  nightScore: number,
  threshold: number,
  site: string | undefined,
  material: string | undefined,
  rise: Float64Array | undefined,
  sites: readonly string[],
  layout: string = VERDICT_INPUTS,
): Float64Array {
  const everyNight = layout === VERDICT_INPUTS_EVERY_NIGHT;
  if (rise === undefined && !everyNight) throw new RangeError(`a verdict of layout ${layout} judges nights with an earlier night only`);
  const x = new Float64Array(verdictInputCount(sites.length, layout));
  x[0] = logit(nightScore, SCORE_FLOOR) - logit(threshold, SCORE_FLOOR);
  sites.forEach((s, i) => (x[1 + i] = site === s ? 1 : 0));
  if (rise) x.set(rise, 1 + sites.length);
  const plastic = isPlasticMain(material) ? 1 : 0;
  const shape = (from: number, to: number) => {
    let sum = 0;
    for (let b = from; b < to && rise; b++) sum += rise[1 + b]!;
    return sum / (to - from);
  };
  x.set([plastic, plastic * (rise?.[0] ?? 0), plastic * shape(0, PLASTIC_LEAK_BANDS), plastic * shape(ABOVE_PLASTIC_LEAK, BAND_COUNT)], 1 + sites.length + LEVEL_FEATURES);
  if (everyNight) x[x.length - 1] = rise ? 1 : 0;
  return x;
}

export function verdictProbability(v: Pick<LevelVerdict, 'inputMean' | 'inputStd' | 'weights' | 'bias'>, x: Float64Array): number {
  let z = v.bias;
  for (let i = 0; i < x.length; i++) z += v.weights[i]! * ((x[i]! - v.inputMean[i]!) / v.inputStd[i]!);
  return sigmoid(z);
}

/**
 * Logistic regression by full-batch gradient descent on standardised
 * inputs with an L2 penalty: a few dozen weights on a few thousand nights,
 * deterministic, no library needed.
 */
export function fitVerdictWeights(
  inputs: readonly Float64Array[],
  labels: readonly number[],
  opts: { l2?: number; iterations?: number; rate?: number } = {},
): Pick<LevelVerdict, 'inputMean' | 'inputStd' | 'weights' | 'bias'> {
  const n = inputs.length;
  if (n === 0 || n !== labels.length) throw new RangeError(`a verdict needs nights with labels, got ${n} inputs and ${labels.length} labels`);
  const d = inputs[0]!.length;
  const { l2 = 0.01, iterations = 3000, rate = 0.1 } = opts;
  const mean = new Float64Array(d);
  const std = new Float64Array(d);
  for (const x of inputs) for (let j = 0; j < d; j++) mean[j]! += x[j]! / n;
  for (const x of inputs) for (let j = 0; j < d; j++) std[j]! += (x[j]! - mean[j]!) ** 2 / n;
  for (let j = 0; j < d; j++) std[j] = Math.sqrt(std[j]!) || 1;
  const z = inputs.map((x) => Float64Array.from(x, (v, j) => (v - mean[j]!) / std[j]!));
  const w = new Float64Array(d);
  let bias = 0;
  const grad = new Float64Array(d);
  for (let it = 0; it < iterations; it++) {
    grad.fill(0);
    let gb = 0;
    for (let i = 0; i < n; i++) {
      let s = bias;
      const zi = z[i]!;
      for (let j = 0; j < d; j++) s += w[j]! * zi[j]!;
      const e = sigmoid(s) - labels[i]!;
      for (let j = 0; j < d; j++) grad[j]! += (e * zi[j]!) / n;
      gb += e / n;
    }
    for (let j = 0; j < d; j++) w[j]! -= rate * (grad[j]! + l2 * w[j]!);
    bias -= rate * gb;
  }
  return { inputMean: [...mean], inputStd: [...std], weights: [...w], bias };
}

/** Reads `level_verdict` from model metadata; throws on anything but a whole verdict. */
export function parseLevelVerdict(text: string): LevelVerdict {
  const v = JSON.parse(text) as Partial<LevelVerdict>;
  const numbers = (a: unknown, length: number) => Array.isArray(a) && a.length === length && a.every((x) => typeof x === 'number' && Number.isFinite(x));
  if (typeof v.inputs !== 'string' || !LAYOUTS.includes(v.inputs)) throw new Error(`level_verdict: inputs '${v.inputs}' are not one of this build's (${LAYOUTS.join(', ')}); use the model this build ships, or its build`);
  const sites = v.sites;
  if (!Array.isArray(sites) || !sites.every((s) => typeof s === 'string')) throw new Error('level_verdict: sites must be a list of names');
  const d = verdictInputCount(sites.length, v.inputs);
  if (!numbers(v.inputMean, d) || !numbers(v.inputStd, d) || !numbers(v.weights, d)) throw new Error(`level_verdict: inputMean, inputStd and weights must each hold ${d} numbers`);
  if (!(v.inputStd as number[]).every((s) => s > 0)) throw new Error('level_verdict: inputStd must be positive');
  if (typeof v.bias !== 'number' || !Number.isFinite(v.bias)) throw new Error('level_verdict: bias must be a number');
  if (typeof v.threshold !== 'number' || !(v.threshold >= 0 && v.threshold <= 1)) throw new Error('level_verdict: threshold must be from 0 to 1');
  const c = v.confirmedThreshold;
  if (c !== undefined && (typeof c !== 'number' || !(c >= 0 && c <= v.threshold))) throw new Error('level_verdict: confirmedThreshold must be from 0 to threshold');
  return v as LevelVerdict;
}
