import { ConfigError, PIPE_MATERIALS, SENSOR_SITES, type PipeMaterial, type SensorSite } from '@suido/ingest';
import type { LevelVerdict } from '../model/level-history.ts';

/**
 * When a sensor's leak scores raise and clear an alert. Raising needs
 * persistence (K of the last N windows at or above `threshold`), clearing needs
 * hysteresis (M windows in a row below the lower `clearThreshold`), so a
 * score hovering at the threshold neither flaps nor re-raises.
 */
export interface LeakAlertConfig {
  /** A window counts toward raising when its score is above this (scores are 0–1). */
  readonly threshold: number;
  /** A window counts toward clearing when its score is below this; at most `threshold`. */
  readonly clearThreshold: number;
  /** Windows at or above `threshold` needed among the last `n` to raise. */
  readonly k: number;
  readonly n: number;
  /** Windows in a row below `clearThreshold` needed to clear. */
  readonly m: number;
  /**
   * Only scores of this model version count; undefined: any version, and
   * where two models scored one window the first stored counts (the other is
   * a late window for the engine and is skipped).
   */
  readonly modelVersion?: string | undefined;
  /**
   * Sensors the registry places at these sites, or on mains of these
   * materials, raise and clear at their own thresholds (the model's per-group
   * operating points; a site's before a material's); every other sensor, and
   * one the registry does not place, at `threshold` / `clearThreshold`.
   */
  readonly bySite?: Readonly<Partial<Record<SensorSite, GroupThresholds>>> | undefined;
  readonly byMaterial?: Readonly<Partial<Record<PipeMaterial, GroupThresholds>>> | undefined;
  /**
   * The model's night verdict with level history (model/level-history.ts):
   * a sensor not raised is raised when it says so, where the sensor's
   * scores bring band levels and it has an earlier night; K of N otherwise.
   */
  readonly levelVerdict?: LevelVerdict | undefined;
}

export interface GroupThresholds {
  readonly threshold: number;
  readonly clearThreshold: number;
}

/**
 * Defaults for a sensor recording about a dozen frames a night (02:00–04:00,
 * DOMAIN.md) with one score per window: 3 of 5 confirms a leak within the
 * first hour of the night while a passing truck or a tram (loud for one or
 * two windows) does not; 6 quiet windows (about half a night) clear it, so a
 * leak masked for a moment by a quieter spell stays open. 0.7 / 0.4 leave a
 * band where a borderline sensor neither raises nor clears.
 */
export const DEFAULT_LEAK_ALERT_CONFIG: LeakAlertConfig = {
  threshold: 0.7,
  clearThreshold: 0.4,
  k: 3,
  n: 5,
  m: 6,
};

/** The defaults with `overrides` applied, checked; throws ConfigError (CONFIG_INVALID) naming each bad field. */
export function leakAlertConfig(overrides: Partial<LeakAlertConfig> = {}): LeakAlertConfig {
  const c: LeakAlertConfig = { ...DEFAULT_LEAK_ALERT_CONFIG, ...overrides };
  const problems: string[] = [];
  if (!(c.threshold >= 0 && c.threshold <= 1)) problems.push(`threshold ${c.threshold} must be from 0 to 1`);
  if (!(c.clearThreshold >= 0 && c.clearThreshold <= c.threshold)) problems.push(`clearThreshold ${c.clearThreshold} must be from 0 to threshold (${c.threshold})`);
  if (!(Number.isInteger(c.n) && c.n >= 1 && c.n <= 1000)) problems.push(`n ${c.n} must be an integer from 1 to 1000`);
  if (!(Number.isInteger(c.k) && c.k >= 1 && c.k <= c.n)) problems.push(`k ${c.k} must be an integer from 1 to n (${c.n})`);
  if (!(Number.isInteger(c.m) && c.m >= 1 && c.m <= 1000)) problems.push(`m ${c.m} must be an integer from 1 to 1000`);
  if (c.modelVersion !== undefined && c.modelVersion.length === 0) problems.push('modelVersion must not be empty');
  for (const [field, groups, names] of [['bySite', c.bySite, SENSOR_SITES], ['byMaterial', c.byMaterial, PIPE_MATERIALS]] as const) {
    for (const [name, t] of Object.entries<GroupThresholds | undefined>(groups ?? {})) {
      if (!(names as readonly string[]).includes(name)) problems.push(`${field}: '${name}' is not one of ${names.join(', ')}`);
      else if (!t || !(t.threshold >= 0 && t.threshold <= 1 && t.clearThreshold >= 0 && t.clearThreshold <= t.threshold)) {
        problems.push(`${field} ${name}: threshold ${t?.threshold} must be from 0 to 1 and clearThreshold ${t?.clearThreshold} from 0 to it`);
      }
    }
  }
  if (problems.length > 0) throw new ConfigError(problems.map((p) => `leak alerts: ${p}`));
  return c;
}
