import { ConfigError } from '@suido/ingest';

/**
 * Thresholds of the meter-side rules. The meter's own alarm flags (PARTS.md:
 * Kamstrup-style LEAK, BURST, REVERSE, TAMPER) count beside our rules on
 * the interval series. Times are data time (the reads' timestamps), not the
 * wall clock: reads arrive late and out of order.
 */
export interface MeterRulesConfig {
  readonly continuousFlow: {
    /** No hour below `minFlowL` in this many hours raises (Kamstrup's LEAK: 24; see the default). */
    readonly windowHours: number;
    /** An hour with less than this is a zero-flow hour; the register counts whole litres. */
    readonly minFlowL: number;
    readonly clearAfterHours: number;
  };
  readonly reverseFlow: {
    readonly clearAfterHours: number;
  };
  readonly tamper: {
    readonly clearAfterHours: number;
  };
  readonly burst: {
    /** Mean flow over an interval at or above this is burst-high. */
    readonly flowLph: number;
    /** Burst-high intervals in a row must cover at least this long. */
    readonly minDurationMinutes: number;
    readonly clearAfterHours: number;
  };
  readonly stuck: {
    /** No consumption for this many days... */
    readonly days: number;
    /** ...where the meter's own history over this many days before it... */
    readonly historyDays: number;
    /** ...showed at least this much use a day: a vacant home is not a stuck meter. */
    readonly minExpectedDailyL: number;
    readonly clearAfterHours: number;
  };
  readonly register: {
    /** The register wraps to 0 here (99,999.999 m³ + 1 L). */
    readonly rolloverL: number;
    /** A wrap is taken for a rollover only if the litres it implies fit this flow; otherwise the register went down. */
    readonly maxPlausibleLph: number;
  };
}

/**
 * Defaults for residential meters (Japan: 13–20 mm, Q3 2.5 m³/h):
 * - continuous flow: no zero hour in 48 h, where Kamstrup's LEAK says 24.
 *   The meter senses flow continuously, so the minutes between two night
 *   flushes count as zero flow there; from hourly registers an hour with a
 *   flush is an hour with flow, and a large household flushes in every
 *   night hour now and then. Measured on simulated households (the
 *   simulators' flush model, 150–1,050 L a day, 300 meters × 60 days): 24 h
 *   raised a false alert on 73 of them (most above 750 L a day), 36 h on
 *   29, 48 h on none; a real 5 L/h leak is caught a day later. The meter's
 *   own `leak` flag still raises at once. Cleared a day after a zero hour
 *   is seen (a repaired leak stays quiet for a day);
 * - burst at half of Q3 (1,250 L/h) for 30 min (Kamstrup's duration); with
 *   hourly reads one hour's mean covers it. A bath fills at ~700 L/h for
 *   20 minutes, well under an hour's mean of 1,250 L;
 * - stuck: 7 days at one register where the 28 days before averaged at
 *   least 100 L a day (a one-person household uses ~200 L);
 * - reverse flow and tamper clear after a day without them.
 */
export const DEFAULT_METER_RULES_CONFIG: MeterRulesConfig = {
  continuousFlow: { windowHours: 48, minFlowL: 1, clearAfterHours: 24 },
  reverseFlow: { clearAfterHours: 24 },
  tamper: { clearAfterHours: 24 },
  burst: { flowLph: 1250, minDurationMinutes: 30, clearAfterHours: 6 },
  stuck: { days: 7, historyDays: 28, minExpectedDailyL: 100, clearAfterHours: 0 },
  register: { rolloverL: 100_000_000, maxPlausibleLph: 10_000 },
};

export type MeterRulesOverrides = { readonly [K in keyof MeterRulesConfig]?: Partial<MeterRulesConfig[K]> };

/** The defaults with `overrides` applied, checked; throws ConfigError (CONFIG_INVALID) naming each bad field. */
export function meterRulesConfig(overrides: MeterRulesOverrides = {}): MeterRulesConfig {
  const d = DEFAULT_METER_RULES_CONFIG;
  const c: MeterRulesConfig = {
    continuousFlow: { ...d.continuousFlow, ...overrides.continuousFlow },
    reverseFlow: { ...d.reverseFlow, ...overrides.reverseFlow },
    tamper: { ...d.tamper, ...overrides.tamper },
    burst: { ...d.burst, ...overrides.burst },
    stuck: { ...d.stuck, ...overrides.stuck },
    register: { ...d.register, ...overrides.register },
  };
  const problems: string[] = [];
  const check = (path: string, value: number, min: number, max: number, integer = false) => {
    if (!(value >= min && value <= max) || (integer && !Number.isInteger(value))) {
      problems.push(`meter rules: ${path} ${value} must be ${integer ? 'an integer ' : ''}from ${min} to ${max}`);
    }
  };
  const WEEK_HOURS = 24 * 7;
  check('continuousFlow.windowHours', c.continuousFlow.windowHours, 1, WEEK_HOURS, true);
  check('continuousFlow.minFlowL', c.continuousFlow.minFlowL, 1, 1000);
  for (const rule of ['continuousFlow', 'reverseFlow', 'tamper', 'burst', 'stuck'] as const) {
    check(`${rule}.clearAfterHours`, c[rule].clearAfterHours, 0, 30 * 24);
  }
  check('burst.flowLph', c.burst.flowLph, 1, 1_000_000);
  check('burst.minDurationMinutes', c.burst.minDurationMinutes, 1, 24 * 60);
  check('stuck.days', c.stuck.days, 1, 365, true);
  check('stuck.historyDays', c.stuck.historyDays, 1, 365, true);
  check('stuck.minExpectedDailyL', c.stuck.minExpectedDailyL, 1, 1_000_000);
  check('register.rolloverL', c.register.rolloverL, 1000, Number.MAX_SAFE_INTEGER, true);
  check('register.maxPlausibleLph', c.register.maxPlausibleLph, 1, 1_000_000);
  if (problems.length > 0) throw new ConfigError(problems);
  return c;
}
