import type { AlertDetails, MeterFlag, StoredRead } from '@suido/ingest';
import { DAY_MS, HOUR_MS, hourInterval, intervalBetween, readAt, readBefore, type MeterSeries, type SeriesRead } from './interval-series.ts';
import type { MeterRulesConfig } from './meter-rules-config.ts';

/**
 * Each rule judged at one read of a meter (its "as of" time), as plain
 * functions over the meter's series. `absent` needs proof (a zero hour, a
 * register that moved); a gap in the data is `unknown`, which neither raises
 * nor clears.
 */
export type Observation =
  | { readonly status: 'present'; readonly magnitude: number | null; readonly evidence: AlertDetails }
  | { readonly status: 'absent' }
  | { readonly status: 'unknown' };

const ABSENT: Observation = { status: 'absent' };
const UNKNOWN: Observation = { status: 'unknown' };

function flagged(read: SeriesRead, flag: MeterFlag): boolean {
  return read.flags.includes(flag);
}

/**
 * How far back a meter's own `leak` flag looks: a smart meter raises it when
 * no hour of the last day was a zero hour (Kamstrup's LEAK rule; the
 * simulated meters do the same).
 */
export const METER_LEAK_FLAG_HOURS = 24;

/**
 * Continuous flow (Kamstrup's LEAK rule): no hour with zero flow in the last
 * `windowHours` hours. Present when every hour of the window is known and
 * flowed, or when the meter's own `leak` flag has held for the window (on
 * this read and on the read windowHours − METER_LEAK_FLAG_HOURS before it:
 * the meter's day-long rule twice over is the window's); absent when a
 * known hour of the window is a zero hour; unknown otherwise. Why the flag
 * must hold: it is a one-day rule, and one day raised false alerts on 73 of
 * 300 simulated households (README, "Alerts"); taken at once, it raised a
 * four-person household up every hour of a Saturday night. The magnitude
 * is the smallest hourly flow of the window: the leak's rate, L/h.
 */
export function continuousFlowAt(series: MeterSeries, at: SeriesRead, config: MeterRulesConfig): Observation {
  const { windowHours, minFlowL } = config.continuousFlow;
  let smallest = Infinity;
  let unknownHours = 0;
  let zeroHourAtMs: number | undefined;
  for (let h = 0; h < windowHours; h++) {
    const end = at.ts - h * HOUR_MS;
    const interval = hourInterval(series, end, config.register);
    if (!interval) unknownHours++;
    else {
      const litres = interval.kind === 'forward' ? interval.litres : interval.dropL;
      if (litres < minFlowL) zeroHourAtMs ??= end;
      smallest = Math.min(smallest, litres);
    }
  }
  const byIntervals = zeroHourAtMs === undefined && unknownHours === 0;
  const flagHeldSince = readAt(series, at.ts - Math.max(0, windowHours - METER_LEAK_FLAG_HOURS) * HOUR_MS);
  const byFlag = flagged(at, 'leak') && flagHeldSince !== undefined && flagged(flagHeldSince, 'leak');
  if (byIntervals || byFlag) {
    return {
      status: 'present',
      magnitude: byIntervals ? smallest : null,
      evidence: { scoreUnit: 'L/h, smallest hourly flow of the window', evidence: byIntervals ? 'intervals' : 'meter flag', windowHours, minFlowL },
    };
  }
  return zeroHourAtMs !== undefined ? ABSENT : UNKNOWN;
}

/**
 * Reverse flow: the register went down since the previous read without a
 * rollover, or the meter's `reverse` flag. The magnitude is the drop, L.
 */
export function reverseFlowAt(series: MeterSeries, at: SeriesRead, config: MeterRulesConfig): Observation {
  const prev = readBefore(series, at.ts);
  const interval = prev && intervalBetween(prev, at, config.register);
  if (interval?.kind === 'reverse') {
    return { status: 'present', magnitude: interval.dropL, evidence: { scoreUnit: 'L, register drop', evidence: 'register', fromRegisterL: prev!.registerL, toRegisterL: at.registerL } };
  }
  if (flagged(at, 'reverse')) return { status: 'present', magnitude: null, evidence: { scoreUnit: 'L, register drop', evidence: 'meter flag' } };
  return interval ? ABSENT : UNKNOWN;
}

/** Tamper: only the meter knows (magnet, removal); its flag on each read says present or absent. */
export function tamperAt(at: SeriesRead): Observation {
  return flagged(at, 'tamper') ? { status: 'present', magnitude: null, evidence: { evidence: 'meter flag' } } : ABSENT;
}

/**
 * Burst: intervals in a row, each at most an hour long, each with a mean
 * flow at or above `flowLph`, covering at least `minDurationMinutes` up to
 * this read; or the meter's `burst` flag. The magnitude is the highest
 * interval flow, L/h.
 */
export function burstAt(series: MeterSeries, at: SeriesRead, config: MeterRulesConfig): Observation {
  const { flowLph, minDurationMinutes } = config.burst;
  const needMs = minDurationMinutes * 60_000;
  let coveredMs = 0;
  let peak = 0;
  let lastKnown = false;
  let cur = at;
  while (coveredMs < needMs) {
    const prev = readBefore(series, cur.ts);
    if (!prev || cur.ts - prev.ts > HOUR_MS) break;
    const interval = intervalBetween(prev, cur, config.register);
    if (cur === at) lastKnown = true;
    const rate = interval.kind === 'forward' ? interval.litres / ((cur.ts - prev.ts) / HOUR_MS) : 0;
    if (rate < flowLph) break;
    peak = Math.max(peak, rate);
    coveredMs += cur.ts - prev.ts;
    cur = prev;
  }
  const byIntervals = coveredMs >= needMs;
  if (byIntervals || flagged(at, 'burst')) {
    return {
      status: 'present',
      magnitude: byIntervals ? Math.round(peak) : null,
      evidence: { scoreUnit: 'L/h, highest interval flow', evidence: byIntervals ? 'intervals' : 'meter flag', flowLph, minDurationMinutes },
    };
  }
  return lastKnown ? ABSENT : UNKNOWN;
}

/** The reads the stuck-meter rule needs, found by point lookups (it looks back weeks). */
export interface StuckInputs {
  /** The read the rule is judged at. */
  readonly at: SeriesRead;
  /** The newest read at or before `at` minus `days`. */
  readonly spanStart: StoredRead | undefined;
  /** The newest read at or before `spanStart` minus `historyDays`. */
  readonly historyStart: StoredRead | undefined;
}

/**
 * Stuck meter: the register has not moved for `days` days although the
 * meter's own history before that shows use (at least `minExpectedDailyL` a
 * day on average). A register that moved proves it absent; a meter without
 * that much history is unknown. No magnitude: the days without consumption
 * grow every day, and a peak that rises daily would be a daily `updated`
 * event saying nothing new.
 */
export function stuckAt(inputs: StuckInputs, config: MeterRulesConfig): Observation {
  const { at, spanStart, historyStart } = inputs;
  if (!spanStart) return UNKNOWN;
  if (at.registerL !== spanStart.registerL) return ABSENT;
  if (!historyStart || spanStart.ts - historyStart.ts < DAY_MS) return UNKNOWN;
  const used = intervalBetween(historyStart, spanStart, config.register);
  const dailyL = used.kind === 'forward' ? used.litres / ((spanStart.ts - historyStart.ts) / DAY_MS) : 0;
  if (dailyL < config.stuck.minExpectedDailyL) return ABSENT;
  return {
    status: 'present',
    magnitude: null,
    evidence: { registerL: at.registerL, unchangedSinceMs: spanStart.ts, expectedDailyL: Math.round(dailyL) },
  };
}
