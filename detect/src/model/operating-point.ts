import type { PipeMaterial, SensorSite } from '@suido/ingest';

/**
 * When a window's score counts as "leak": at or above the threshold. One rule
 * for the trainer that picks the threshold (its precision, recall and K of N
 * are computed with it), the live alert engine and the recording CLI, so the
 * operating point the model card reports is the one the detector runs. The
 * trainer picks thresholds from observed scores, so a score equal to the
 * threshold is the common case at that point, not an edge.
 */
export function countsAsLeak(score: number, threshold: number): boolean {
  return score >= threshold;
}

/**
 * The thresholds a model runs at: a sensor site's own where the model has
 * one, else its pipe material's own, else the default (also for a sensor
 * whose site or material the registry does not record). A PRV's hiss is as
 * steady as a leak's, so one threshold for all is set by PRV sites and costs
 * every quiet street its recall; a plastic main's leak is quieter and lower,
 * so its scores separate leaks from no leaks well but rarely clear a
 * threshold set by metal mains. Each group's own threshold keeps its false
 * alerts within the same budget.
 */
export interface Thresholds {
  readonly default: number;
  readonly bySite: Readonly<Partial<Record<SensorSite, number>>>;
  readonly byMaterial: Readonly<Partial<Record<PipeMaterial, number>>>;
}

/** The persistence rule: a sensor alerts when K of its last N windows count as leak. */
export interface Persistence {
  readonly k: number;
  readonly n: number;
}

/** k-th largest score in the best run of n consecutive windows: "k of n" fires iff threshold <= this. */
export function persistenceScore(scores: readonly number[], { k, n }: Persistence): number {
  if (scores.length < k) return -Infinity;
  let best = -Infinity;
  for (let start = 0; start + Math.min(n, scores.length) <= scores.length; start++) {
    const span = scores.slice(start, start + n).sort((a, b) => b - a);
    best = Math.max(best, span[k - 1] ?? -Infinity);
  }
  return best;
}

/** What the registry says of a sensor, as far as thresholds go. */
export interface SensorPlace {
  readonly site?: string | null | undefined;
  readonly material?: string | null | undefined;
}

export function thresholdFor(t: Thresholds, place: SensorPlace): number {
  const bySite = place.site == null ? undefined : t.bySite[place.site as SensorSite];
  const byMaterial = place.material == null ? undefined : t.byMaterial[place.material as PipeMaterial];
  return bySite ?? byMaterial ?? t.default;
}

/** The groups with thresholds of their own, sites first (the order thresholdFor tries them): [name, threshold]. */
export function groupThresholds(t: Thresholds): [string, number][] {
  return [...Object.entries(t.bySite), ...Object.entries(t.byMaterial)] as [string, number][];
}

/**
 * The thresholds a hand-held recording is judged at (score-wav): the
 * model's recording threshold (chosen on validation recordings) in place of
 * the default, or a site's own where that is higher. Material thresholds
 * were chosen on loggers' nights and are left out. A model without a
 * recording threshold judges recordings as it does loggers.
 */
export function recordingThresholds(t: Thresholds, recording: number | undefined): Thresholds {
  if (recording === undefined) return t;
  const bySite = Object.fromEntries(Object.entries(t.bySite).map(([site, v]) => [site, Math.max(v, recording)]));
  return { default: recording, bySite, byMaterial: {} };
}

/** One threshold for every sensor. */
export const uniformThresholds = (threshold: number): Thresholds => ({ default: threshold, bySite: {}, byMaterial: {} });
