import { SENSOR_SITES, type SensorSite } from '@suido/ingest';

/**
 * Where a sensor sits decides what else it hears. Each sensor draws one
 * environment; the confounders it brings are drawn per sensor, per night and
 * per frame, independently of whether the pipe leaks. The environments are
 * the registry's sensor sites: the fleet registers each sensor's.
 */
export const ENVIRONMENTS = SENSOR_SITES;
export type Environment = SensorSite;

/**
 * Shares of a sensor population. Chosen to cover every condition the
 * detector will meet, not a census: quiet streets dominate a real network,
 * but the hard cases must be common enough to learn from.
 */
export const ENVIRONMENT_WEIGHTS: Readonly<Record<Environment, number>> = {
  quiet_residential: 0.35,
  arterial_road: 0.25,
  tram_line: 0.1,
  near_pump: 0.15,
  near_prv: 0.15,
};

/** Names of the confounders a frame can carry (the dataset's `confounders`). */
export const CONFOUNDERS = ['traffic', 'tram', 'mains_hum', 'pump', 'water_use', 'prv', 'rain'] as const;
export type Confounder = (typeof CONFOUNDERS)[number];

/**
 * How busy the city is at a local hour, 0 (the 02:00–04:00 trough, when
 * loggers record) to 1 (daytime): scales traffic, background and, with the
 * household diurnal profile, customer water use.
 */
const ACTIVITY_BY_HOUR = [0.35, 0.15, 0, 0, 0.05, 0.3, 0.7, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0.9, 0.7, 0.5];

export function activityAt(localHour: number): number {
  const h = ((localHour % 24) + 24) % 24;
  const i = Math.floor(h);
  const a = ACTIVITY_BY_HOUR[i]!;
  const b = ACTIVITY_BY_HOUR[(i + 1) % 24]!;
  return a + (b - a) * (h - i);
}

/** A frame counts as daytime when the city is more than half as busy as by day (roughly 06:30–23:00). */
export function isDaytime(localHour: number): boolean {
  return activityAt(localHour) > 0.5;
}
