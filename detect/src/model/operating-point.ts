import type { SensorSite } from '@suido/ingest';

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
 * The thresholds a model runs at: its own for each sensor site it was given
 * one for, the default for every other sensor and for a sensor whose site the
 * registry does not record. A PRV's hiss is as steady as a leak's, so one
 * threshold for all sites is set by PRV sites and costs every quiet street
 * its recall; a site's own threshold keeps each site's false alerts within
 * the same budget.
 */
export interface Thresholds {
  readonly default: number;
  readonly bySite: Readonly<Partial<Record<SensorSite, number>>>;
}

export function thresholdFor(t: Thresholds, site: string | null | undefined): number {
  const own = site === null || site === undefined ? undefined : t.bySite[site as SensorSite];
  return own ?? t.default;
}

/** One threshold for every site. */
export const uniformThresholds = (threshold: number): Thresholds => ({ default: threshold, bySite: {} });
