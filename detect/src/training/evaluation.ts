import type { PipeMaterial, SensorSite } from '@suido/ingest';
import { nightKey, type FrameMeta } from './dataset.ts';
import type { Example } from './examples.ts';
import { countsAsLeak, persistenceScore, thresholdFor, uniformThresholds, type Persistence, type Thresholds } from '../model/operating-point.ts';
export { persistenceScore, type Persistence };
import { verdictWindows } from '../model/sensor-context.ts';
import { calibrateMaterials } from './material-calibration.ts';
import { confusionAt, rocAuc, type Confusion } from './metrics.ts';


export type NightKind = 'leak' | 'inaudible' | 'none';

export interface NightOutcome {
  readonly key: string;
  readonly kind: NightKind;
  readonly meta: FrameMeta;
  /** The highest threshold at which the persistence rule would fire this night. */
  readonly score: number;
}

/** A night's kind comes from the sensor's audibility on a quiet night: a leak it can hear is one it should report. */
export const kindOf = (m: FrameMeta): NightKind => (!m.leak ? 'none' : m.sensorAudible ? 'leak' : 'inaudible');


/** Groups night-time windows by sensor-night, in time order, and scores each night with `nightScore`. */
export function nights(examples: readonly Example[], scores: ArrayLike<number>, nightScore: (scores: number[], metas: FrameMeta[]) => number): NightOutcome[] {
  const groups = new Map<string, { meta: FrameMeta; items: { at: number; score: number; meta: FrameMeta }[] }>();
  examples.forEach((e, i) => {
    if (e.meta.daytime) return;
    const key = nightKey(e.meta);
    const g = groups.get(key) ?? { meta: e.meta, items: [] };
    // The night a leak begins in is a leak night: it takes the kind of a window with the leak.
    if (e.meta.leak && !g.meta.leak) g.meta = e.meta;
    g.items.push({ at: e.windowStartMs, score: scores[i]!, meta: e.meta });
    groups.set(key, g);
  });
  return [...groups.entries()].map(([key, g]) => {
    g.items.sort((a, b) => a.at - b.at);
    return { key, kind: kindOf(g.meta), meta: g.meta, score: nightScore(g.items.map((x) => x.score), g.items.map((x) => x.meta)) };
  });
}

export interface NightReport {
  readonly nights: number;
  readonly leakNights: number;
  readonly noLeakNights: number;
  readonly inaudibleNights: number;
  /** Audible-leak nights vs no-leak nights. */
  readonly auc: number;
  readonly recall: number;
  readonly precision: number;
  readonly falseAlertsPer100Nights: number;
  readonly inaudibleAlertRate: number;
  readonly recallByMaterial: Record<string, number>;
  readonly recallBySize: Record<string, number>;
  /**
   * By how far the leak stands above its sensor's quiet-night floor in its
   * own band (`sensorSnrDb`, SNR_BANDS_DB): where the misses lie between a
   * leak that barely lifts its band and one that dominates it.
   */
  readonly recallBySensorSnr: Record<string, number>;
  /** Per site of the sensor: a site with a threshold of its own trades its recall for its false alerts. */
  readonly recallByEnvironment: Record<string, number>;
  readonly falseAlertsPer100ByEnvironment: Record<string, number>;
  /**
   * How soon a leak is found: of the sensors with audible-leak nights, the
   * share alerted by their first such night, by their second, … (cumulative,
   * nights in order); the last entry is the share ever alerted. Per-night
   * recall can rise while the first alert comes later (a model whose scores
   * hover under the threshold alerts some nights of every leak, late).
   */
  readonly leakSensors: number;
  readonly alertedByNight: readonly number[];
}

export const sizeBucket = (lps: number | null) => (lps === null ? 'none' : lps < 0.1 ? 'small (<0.1 L/s)' : lps < 0.5 ? 'medium (0.1-0.5 L/s)' : 'large (>=0.5 L/s)');

const snrBandName = ([lo, hi]: readonly [number, number]) => `${lo}–${hi === Infinity ? '' : hi} dB`;
/** Place of a band's name in SNR_BANDS_DB; -1 for 'unknown' and below the first. */
const snrBandRank = (name: string) => SNR_BANDS_DB.findIndex((band) => snrBandName(band) === name);

/** The SNR_BANDS_DB band a leak's SNR lies in, named as the card names it; 'unknown' for a dataset without it. */
export function snrBucket(db: number | null | undefined): string {
  if (db === null || db === undefined) return 'unknown';
  const band = SNR_BANDS_DB.find(([lo, hi]) => db >= lo && db < hi);
  return band ? snrBandName(band) : `below ${SNR_BANDS_DB[0]![0]} dB`;
}

/** One threshold for every night, or each night its site's. */
type NightThreshold = (o: NightOutcome) => number;
const perNight = (t: number | Thresholds): NightThreshold => {
  const all = typeof t === 'number' ? uniformThresholds(t) : t;
  return (o) => thresholdFor(all, { site: o.meta.environment, material: o.meta.material });
};

function rate(outcomes: readonly NightOutcome[], threshold: NightThreshold): number {
  return outcomes.length === 0 ? Number.NaN : outcomes.filter((o) => countsAsLeak(o.score, threshold(o))).length / outcomes.length;
}

/** Rates per group, groups in name order, or by `rank` (its name's place) where names do not sort (dB bands). */
function groupRate(outcomes: readonly NightOutcome[], by: (o: NightOutcome) => string, threshold: NightThreshold, scale = 1, rank?: (name: string) => number): Record<string, number> {
  const groups = new Map<string, NightOutcome[]>();
  for (const o of outcomes) groups.set(by(o), [...(groups.get(by(o)) ?? []), o]);
  const entries = [...groups.entries()].sort();
  if (rank) entries.sort(([a], [b]) => rank(a) - rank(b));
  return Object.fromEntries(entries.map(([k, v]) => [`${k} (n=${v.length})`, rate(v, threshold) * scale]));
}

/** Night figures at one threshold, or at per-site thresholds (each night its sensor's site's). */
export function nightReport(outcomes: readonly NightOutcome[], thresholds: number | Thresholds): NightReport {
  const threshold = perNight(thresholds);
  const leak = outcomes.filter((o) => o.kind === 'leak');
  const none = outcomes.filter((o) => o.kind === 'none');
  const inaudible = outcomes.filter((o) => o.kind === 'inaudible');
  const judged = [...leak, ...none];
  const c = confusionAt(
    judged.map((o) => o.score),
    judged.map((o) => (o.kind === 'leak' ? 1 : 0)),
    judged.map(threshold),
  );
  return {
    nights: outcomes.length,
    leakNights: leak.length,
    noLeakNights: none.length,
    inaudibleNights: inaudible.length,
    auc: rocAuc(judged.map((o) => o.score), judged.map((o) => (o.kind === 'leak' ? 1 : 0))),
    recall: c.recall,
    precision: c.precision,
    falseAlertsPer100Nights: (100 * c.fp) / Math.max(none.length, 1),
    inaudibleAlertRate: rate(inaudible, threshold),
    recallByMaterial: groupRate(leak, (o) => o.meta.material, threshold),
    recallBySize: groupRate(leak, (o) => sizeBucket(o.meta.leakSizeLps), threshold),
    recallBySensorSnr: groupRate(leak, (o) => snrBucket(o.meta.sensorSnrDb), threshold, 1, snrBandRank),
    recallByEnvironment: groupRate(leak, (o) => o.meta.environment, threshold),
    falseAlertsPer100ByEnvironment: groupRate(none, (o) => o.meta.environment, threshold, 100),
    ...firstAlerts(leak, threshold),
  };
}

function firstAlerts(leak: readonly NightOutcome[], threshold: NightThreshold): { leakSensors: number; alertedByNight: number[] } {
  const bySensor = new Map<string, NightOutcome[]>();
  for (const o of leak) bySensor.set(o.meta.sensorId, [...(bySensor.get(o.meta.sensorId) ?? []), o]);
  const longest = Math.max(0, ...[...bySensor.values()].map((v) => v.length));
  const firstAlerted = [...bySensor.values()].map((v) => [...v].sort((a, b) => a.meta.night - b.meta.night).findIndex((o) => countsAsLeak(o.score, threshold(o))));
  const alertedByNight = Array.from({ length: longest }, (_, n) => firstAlerted.filter((i) => i >= 0 && i <= n).length / Math.max(bySensor.size, 1));
  return { leakSensors: bySensor.size, alertedByNight };
}

/**
 * The threshold a detector is run at, chosen on validation nights: the
 * highest recall with at most `maxFalsePer100` false alerts per 100 no-leak
 * nights; among equals, the highest threshold (fewest alerts).
 */
export function chooseThreshold(outcomes: readonly NightOutcome[], maxFalsePer100: number): number {
  const candidates = [...new Set(outcomes.map((o) => o.score).filter(Number.isFinite))].sort((a, b) => b - a);
  // Start above every score (no alerts, recall 0): if even the highest score
  // is a false alert too many, the answer is a threshold nothing reaches —
  // but at most 1, which a model file must hold (LeakModel.load): where a
  // night scores a saturated 1.0, only such nights alert.
  const top = candidates[0] ?? 0.5;
  let best = { threshold: Math.min(1, top + Math.max(Math.abs(top), 1) * 1e-6), recall: 0 };
  for (const t of candidates) {
    const r = nightReport(outcomes, t);
    if (r.falseAlertsPer100Nights > maxFalsePer100) break; // lower thresholds only add alerts
    if (r.recall > best.recall) best = { threshold: t, recall: r.recall };
  }
  return best.threshold;
}

export interface OperatingPoint {
  readonly persistence: Persistence;
  readonly thresholds: Thresholds;
  /** Validation figures at these thresholds, every site together. */
  readonly recall: number;
  readonly falsePer100: number;
  /** Night ROC-AUC of this rule's night score. */
  readonly auc: number;
  /** Share of validation leak sensors alerted on their first leak night: how soon the rule finds a leak (reported; not yet part of the choice). */
  readonly firstNightShare: number;
  /** Validation no-leak nights each threshold was chosen on: 'default' and each separate site and material. */
  readonly chosenOn: Readonly<Record<string, number>>;
  readonly nights: readonly NightOutcome[];
}

/** OperatingPoint.chosenOn's key for the nights calibrated material thresholds were chosen on. */
export const CALIBRATED_MATERIALS = 'materials, calibrated';

/** Sensor groups that get thresholds of their own (Thresholds): registry sites, pipe materials. */
export interface SeparateGroups {
  readonly sites?: readonly SensorSite[] | undefined;
  readonly materials?: readonly PipeMaterial[] | undefined;
  /**
   * Every material a threshold of its own from one calibrated probability
   * (material-calibration.ts), chosen on the nights of sensors at sites that
   * are not separate; instead of `materials`.
   */
  readonly calibrateMaterials?: boolean | undefined;
}

/**
 * The rule a detector is run with, chosen on validation: for each K of N
 * candidate its thresholds (`chooseThreshold`), then the candidate with the
 * highest recall; among equals the shorter rule (smaller N: a leak that
 * starts mid-night is raised sooner, within its first night rather than the
 * next — validation nights hold a leak all night long, so their recall cannot
 * tell), then the higher night ROC-AUC, then the first listed.
 *
 * Each group in `separate` gets a threshold chosen on its own nights and the
 * default is chosen on the nights of every other sensor, so each keeps within
 * `maxFalsePer100` instead of the noisiest group setting one threshold for
 * all. A separate site (its nights of any material) is never below the
 * default: it is there because its noise is worse. A separate material (its
 * nights at sites that are not separate) may be below it: a plastic main's
 * quieter leak is why it is there.
 */
export function chooseOperatingPoint(
  examples: readonly Example[],
  scores: ArrayLike<number>,
  candidates: readonly Persistence[],
  maxFalsePer100: number,
  separate: SeparateGroups = {},
): { chosen: OperatingPoint; tried: OperatingPoint[] } {
  if (candidates.length === 0) throw new Error('no persistence candidates');
  if (separate.calibrateMaterials && (separate.materials ?? []).length > 0) throw new Error('calibrated material thresholds replace separate materials: give one or the other');
  const sites = new Set<string>(separate.sites ?? []);
  const materials = new Set<string>(separate.materials ?? []);
  const tried = candidates.map((persistence): OperatingPoint => {
    const outcomes = nights(examples, scores, (s) => persistenceScore(s, persistence));
    const noLeak = (list: readonly NightOutcome[]) => list.filter((o) => o.kind === 'none').length;
    const chosenOn: Record<string, number> = {};
    const own = (name: string, list: readonly NightOutcome[]) => {
      chosenOn[name] = noLeak(list);
      if (chosenOn[name] === 0) throw new Error(`no validation no-leak nights of ${name} sensors to choose its threshold on`);
      return chooseThreshold(list, maxFalsePer100);
    };
    const fallback = own('default', outcomes.filter((o) => !sites.has(o.meta.environment) && !materials.has(o.meta.material)));
    const bySite: Partial<Record<SensorSite, number>> = {};
    for (const site of separate.sites ?? []) bySite[site] = Math.max(fallback, own(site, outcomes.filter((o) => o.meta.environment === site)));
    const byMaterial: Partial<Record<PipeMaterial, number>> = {};
    for (const m of separate.materials ?? []) byMaterial[m] = own(m, outcomes.filter((o) => o.meta.material === m && !sites.has(o.meta.environment)));
    if (separate.calibrateMaterials) {
      const atDefaultSites = outcomes.filter((o) => !sites.has(o.meta.environment));
      Object.assign(byMaterial, calibrateMaterials(atDefaultSites, (o) => chooseThreshold(o, maxFalsePer100)).byMaterial);
      chosenOn[CALIBRATED_MATERIALS] = noLeak(atDefaultSites);
    }
    const thresholds: Thresholds = { default: fallback, bySite, byMaterial };
    const r = nightReport(outcomes, thresholds);
    return { persistence, thresholds, recall: r.recall, falsePer100: r.falseAlertsPer100Nights, auc: r.auc, firstNightShare: r.alertedByNight[0] ?? 0, chosenOn, nights: outcomes };
  });
  const better = (o: OperatingPoint, best: OperatingPoint) =>
    o.recall !== best.recall ? o.recall > best.recall : o.persistence.n !== best.persistence.n ? o.persistence.n < best.persistence.n : o.auc > best.auc;
  const chosen = tried.reduce((best, o) => (better(o, best) ? o : best));
  return { chosen, tried };
}

/**
 * The threshold a hand-held recording is judged at (score-wav), chosen on
 * validation recordings as the default threshold is on validation nights:
 * the highest recall within the same false-alert budget, per recording (the
 * K of N rule over its windows whose context has settled, verdictSubset),
 * on recordings from sensors in no separate group. Why its own: a clip's
 * windows are scored with a context of seconds, not a night's frames, so
 * its scores spread otherwise, and the loggers' threshold gave 2.3.0 five
 * times the loggers' false alerts on simulated clips.
 */
export function chooseRecordingThreshold(
  examples: readonly Example[],
  scores: readonly number[],
  persistence: Persistence,
  maxFalsePer100: number,
  separate: SeparateGroups = {},
): { threshold: number; chosenOn: number } {
  const v = verdictSubset(examples, scores, persistence.n);
  const outcomes = nights(v.examples, v.scores, (s) => persistenceScore(s, persistence)).filter(
    (o) => !(separate.sites ?? []).some((x) => x === o.meta.environment) && !(separate.materials ?? []).some((x) => x === o.meta.material),
  );
  const chosenOn = outcomes.filter((o) => o.kind === 'none').length;
  if (chosenOn === 0) throw new Error('no no-leak validation recordings to choose the recording threshold on');
  return { threshold: chooseThreshold(outcomes, maxFalsePer100), chosenOn };
}

/** In-band SNR bands (dB) of audible leak windows, for the breakdown in the model card. */
export const SNR_BANDS_DB: readonly (readonly [number, number])[] = [
  [0, 3],
  [3, 6],
  [6, 10],
  [10, 20],
  [20, Infinity],
];

export interface WindowReport {
  readonly windows: number;
  readonly auc: number;
  readonly atThreshold: Confusion;
  readonly aucByMaterial: Record<string, number>;
  /**
   * Per sensor type and per sample rate: what a device changes. Recall at the
   * threshold alone (below) mixes how well a device is heard with where one
   * threshold happens to fall for it.
   */
  readonly aucBySensorType: Record<string, number>;
  readonly aucBySampleRate: Record<string, number>;
  /** Per pipe material and sensor type together: a hydrophone on PVC is not an accelerometer on PVC. */
  readonly aucByMaterialAndType: Record<string, number>;
  /**
   * Leak windows whose in-band SNR lies in a band, against every no-leak
   * window: where the model hears a leak and where it cannot yet. A leak
   * 0–3 dB over its band lifts it by 3–5 dB, as much as a sensor's own
   * resonance or a PRV's hiss does.
   */
  readonly aucBySnr: Record<string, number>;
  /** Every audible-leak window against the no-leak windows of one environment: which surroundings fool it. */
  readonly aucByNoLeakEnvironment: Record<string, number>;
  readonly recallBySize: Record<string, number>;
  readonly recallBySampleRate: Record<string, number>;
  readonly inaudibleAboveThreshold: number;
  readonly daytimeFalsePositiveRate: number;
}

/** Per-window figures on audible leaks vs no leak; inaudible leaks reported apart. */
export function windowReport(examples: readonly Example[], scores: ArrayLike<number>, thresholds: number | Thresholds): WindowReport {
  const all = typeof thresholds === 'number' ? uniformThresholds(thresholds) : thresholds;
  const threshold = (i: number) => thresholdFor(all, { site: examples[i]!.meta.environment, material: examples[i]!.meta.material });
  const idx = (pred: (m: FrameMeta) => boolean) => examples.map((e, i) => (pred(e.meta) ? i : -1)).filter((i) => i >= 0);
  const judged = idx((m) => !m.leak || m.audible === true);
  const s = (ix: number[]) => ix.map((i) => scores[i]!);
  const y = (ix: number[]) => ix.map((i) => (examples[i]!.meta.leak ? 1 : 0));
  const by = (ix: number[], key: (m: FrameMeta) => string) => {
    const groups = new Map<string, number[]>();
    for (const i of ix) groups.set(key(examples[i]!.meta), [...(groups.get(key(examples[i]!.meta)) ?? []), i]);
    return [...groups.entries()].sort();
  };
  const aucBy = (key: (m: FrameMeta) => string) => Object.fromEntries(by(judged, key).map(([k, ix]) => [`${k} (n=${ix.length})`, rocAuc(s(ix), y(ix))]));
  const leakIx = judged.filter((i) => examples[i]!.meta.leak);
  const noLeakIx = judged.filter((i) => !examples[i]!.meta.leak);
  const aucAgainst = (pos: number[], neg: number[]) => rocAuc([...s(pos), ...s(neg)], [...pos.map(() => 1), ...neg.map(() => 0)]);
  const aucBySnr = Object.fromEntries(
    SNR_BANDS_DB.map(([lo, hi]) => {
      const ix = leakIx.filter((i) => examples[i]!.meta.snrDb! >= lo && examples[i]!.meta.snrDb! < hi);
      return [`${snrBandName([lo, hi])} (n=${ix.length})`, aucAgainst(ix, noLeakIx)];
    }),
  );
  const aucByNoLeakEnvironment = Object.fromEntries(by(noLeakIx, (m) => m.environment).map(([k, ix]) => [`${k} (n=${ix.length})`, aucAgainst(leakIx, ix)]));
  const recallOf = (ix: number[]) => ix.filter((i) => countsAsLeak(scores[i]!, threshold(i))).length / Math.max(ix.length, 1);
  const inaudible = idx((m) => m.leak && m.audible === false);
  const dayNone = idx((m) => m.daytime && !m.leak);
  return {
    windows: examples.length,
    auc: rocAuc(s(judged), y(judged)),
    atThreshold: confusionAt(s(judged), y(judged), judged.map(threshold)),
    aucByMaterial: aucBy((m) => m.material),
    aucBySensorType: aucBy((m) => m.sensorType),
    aucBySampleRate: aucBy((m) => `${m.sampleRateHz} Hz`),
    aucByMaterialAndType: aucBy((m) => `${m.material}, ${m.sensorType}`),
    aucBySnr,
    aucByNoLeakEnvironment,
    recallBySize: Object.fromEntries(by(leakIx, (m) => sizeBucket(m.leakSizeLps)).map(([k, ix]) => [`${k} (n=${ix.length})`, recallOf(ix)])),
    recallBySampleRate: Object.fromEntries(by(leakIx, (m) => `${m.sampleRateHz} Hz`).map(([k, ix]) => [`${k} (n=${ix.length})`, recallOf(ix)])),
    inaudibleAboveThreshold: inaudible.length === 0 ? Number.NaN : recallOf(inaudible),
    daytimeFalsePositiveRate: dayNone.length === 0 ? Number.NaN : recallOf(dayNone),
  };
}

/**
 * Each recording's windows (one sensor, one clip) that score-wav's verdict
 * counts (verdictWindows: from CONTEXT_SETTLED_MS on, where enough remain).
 */
export function verdictSubset(examples: readonly Example[], scores: readonly number[], ruleN: number): { examples: Example[]; scores: number[] } {
  const bySensor = new Map<string, number[]>();
  examples.forEach((e, i) => {
    const list = bySensor.get(e.meta.sensorId);
    if (list) list.push(i);
    else bySensor.set(e.meta.sensorId, [i]);
  });
  const kept = [...bySensor.values()].flatMap((list) => {
    const inOrder = [...list].sort((a, b) => examples[a]!.windowStartMs - examples[b]!.windowStartMs);
    return verdictWindows(inOrder.map((i) => examples[i]!.windowStartMs), ruleN).indices.map((k) => inOrder[k]!);
  });
  return { examples: kept.map((i) => examples[i]!), scores: kept.map((i) => scores[i]!) };
}

/**
 * Sensors whose leak begins inside their recorded nights (a data set made
 * with --leak-onset-share): night-time frames without the leak, then with
 * it. A detector in service meets most leaks this way — they begin under a
 * sensor that has listened for months — where the other splits' leaks are
 * there from a sensor's first night.
 */
export function onsetSensors(examples: readonly Pick<Example, 'meta'>[]): Set<string> {
  const seen = new Map<string, { leak: boolean; none: boolean }>();
  for (const { meta } of examples) {
    if (meta.daytime) continue;
    const s = seen.get(meta.sensorId) ?? { leak: false, none: false };
    if (meta.leak) s.leak = true;
    else s.none = true;
    seen.set(meta.sensorId, s);
  }
  return new Set([...seen].filter(([, s]) => s.leak && s.none).map(([id]) => id));
}

/**
 * Every no-leak night, and the leak nights (audible or not) of the sensors
 * in `sensors` only (`keep` true) or of every other sensor (`keep` false):
 * one kind of leak judged against the same false alerts.
 */
export function withLeaksOf(outcomes: readonly NightOutcome[], sensors: ReadonlySet<string>, keep: boolean): NightOutcome[] {
  return outcomes.filter((o) => o.kind === 'none' || sensors.has(o.meta.sensorId) === keep);
}
