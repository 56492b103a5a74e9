import type { MeterFlag } from '@suido/ingest';
import type { MeterRulesConfig } from './meter-rules-config.ts';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

/**
 * One meter's actual reads, oldest first, one per instant. Only what the
 * meter sent: nothing is interpolated, so a gap stays a gap and a rule that
 * needs it says "unknown" (PARTS.md: estimated reads neither raise nor
 * clear a meter-side alert).
 */
export interface MeterSeries {
  readonly reads: readonly SeriesRead[];
  readonly indexByTs: ReadonlyMap<number, number>;
}

export interface SeriesRead {
  readonly ts: number;
  readonly registerL: number;
  readonly flags: readonly MeterFlag[];
}

export function meterSeries(reads: readonly SeriesRead[]): MeterSeries {
  const sorted = [...reads].sort((a, b) => a.ts - b.ts);
  const unique = sorted.filter((r, i) => i === 0 || r.ts !== sorted[i - 1]!.ts);
  return { reads: unique, indexByTs: new Map(unique.map((r, i) => [r.ts, i])) };
}

export function readAt(series: MeterSeries, ts: number): SeriesRead | undefined {
  const i = series.indexByTs.get(ts);
  return i === undefined ? undefined : series.reads[i];
}

/** The read just before the one at `ts` (which must be in the series). */
export function readBefore(series: MeterSeries, ts: number): SeriesRead | undefined {
  const i = series.indexByTs.get(ts);
  return i === undefined || i === 0 ? undefined : series.reads[i - 1];
}

/** What the register did between two reads. */
export type Interval = { readonly kind: 'forward'; readonly litres: number } | { readonly kind: 'reverse'; readonly dropL: number };

/**
 * Consumption from read a to the later read b. The register only goes down
 * at a rollover (99,999.999 m³ → 0) or when water runs backwards (or the
 * meter was replaced); a wrap counts as a rollover only when the litres it
 * implies are a plausible flow for the time between the reads.
 */
export function intervalBetween(a: SeriesRead, b: SeriesRead, register: MeterRulesConfig['register']): Interval {
  if (b.registerL >= a.registerL) return { kind: 'forward', litres: b.registerL - a.registerL };
  const wrapped = b.registerL + register.rolloverL - a.registerL;
  const hours = Math.max(1, (b.ts - a.ts) / HOUR_MS);
  if (a.registerL < register.rolloverL && wrapped <= register.maxPlausibleLph * hours) return { kind: 'forward', litres: wrapped };
  return { kind: 'reverse', dropL: a.registerL - b.registerL };
}

/** The interval of the hour ending at `hourEndMs`, if actual reads close both its ends. */
export function hourInterval(series: MeterSeries, hourEndMs: number, register: MeterRulesConfig['register']): Interval | undefined {
  const start = readAt(series, hourEndMs - HOUR_MS);
  const end = readAt(series, hourEndMs);
  return start && end ? intervalBetween(start, end, register) : undefined;
}
