import { parseIsoTimestamp } from '@suido/ingest';
import { number, object, onlyKeys, show } from './fields.ts';
import { ScenarioError } from './scenario-error.ts';

/**
 * Leaks a scenario plants: on a main, heard by an acoustic sensor; and on a
 * customer's premises, seen by the meter as flow that never stops.
 */

/** An instant: ISO 8601 with offset, or hours after the clock's start (which may be relative to now). */
export type TimeSpec = { readonly kind: 'iso'; readonly iso: string; readonly ms: number } | { readonly kind: 'hours'; readonly hours: number };

export interface LeakSpec {
  /** The sensor whose pipe leaks (it hears the leak at `distanceM`). */
  readonly sensor: string;
  readonly start: TimeSpec;
  /** The repair; undefined: never repaired within the run. */
  readonly end: TimeSpec | undefined;
  /** Leak flow, L/s; undefined: drawn from the seed (0.05–2, log-uniform). */
  readonly sizeLps: number | undefined;
  /** Along the pipe to the sensor, m; undefined: drawn (0 to the material's sensor spacing). */
  readonly distanceM: number | undefined;
}

export interface PremisesLeakSpec {
  readonly meter: string;
  readonly start: TimeSpec;
  /** Continuous flow added to the meter's use, L/h (a running WC: 5–50 L/h; a burst service pipe: hundreds). */
  readonly flowLph: number;
}

/** The ingest keeps 400 days of history; nothing planted later than that into a run is useful. */
const MAX_HOURS = 24 * 400;

export function resolveTime(spec: TimeSpec, clockStartMs: number): number {
  return spec.kind === 'iso' ? spec.ms : clockStartMs + spec.hours * 3_600_000;
}

function timeSpec(value: unknown, field: string): TimeSpec {
  if (typeof value === 'string') {
    const ms = parseIsoTimestamp(value);
    if (ms === undefined) throw new ScenarioError(field, `must be an ISO 8601 time with offset such as "2026-11-01T02:00:00+09:00" or hours after the clock's start, got ${show(value)}`);
    return { kind: 'iso', iso: value, ms };
  }
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= MAX_HOURS) return { kind: 'hours', hours: value };
  throw new ScenarioError(field, `must be an ISO 8601 time with offset or a number of hours from 0 to ${MAX_HOURS} after the clock's start, got ${show(value)}`);
}

function deviceIndex(value: unknown, field: string, pattern: RegExp, example: string, count: number, countField: string): number {
  const match = typeof value === 'string' ? pattern.exec(value) : null;
  if (!match) throw new ScenarioError(field, `must be a device id such as "${example}", got ${show(value)}`);
  const index = Number(match[1]) - 1;
  if (index < 0 || index >= count) throw new ScenarioError(field, `names ${show(value)}, which is not in the fleet (${countField} is ${count})`);
  return index;
}

function list(value: unknown, field: string): unknown[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new ScenarioError(field, `must be a list, got ${show(value)}`);
  return value;
}

export function parseLeaks(value: unknown, sensors: number): LeakSpec[] {
  return list(value, 'leaks').map((item, i) => {
    const at = `leaks[${i}]`;
    const o = object(item, at);
    onlyKeys(o, at, ['sensor', 'start', 'end', 'sizeLps', 'distanceM']);
    deviceIndex(o.sensor, `${at}.sensor`, /^S-(\d{4,5})$/u, 'S-0001', sensors, 'fleet.sensors');
    if (o.start === undefined) throw new ScenarioError(`${at}.start`, 'is required');
    const start = timeSpec(o.start, `${at}.start`);
    const end = o.end === undefined ? undefined : timeSpec(o.end, `${at}.end`);
    if (end) {
      if (end.kind !== start.kind) throw new ScenarioError(`${at}.end`, 'must be given the same way as start (both ISO times or both hours)');
      const [from, to] = start.kind === 'iso' && end.kind === 'iso' ? [start.ms, end.ms] : [(start as { hours: number }).hours, (end as { hours: number }).hours];
      if (to <= from) throw new ScenarioError(`${at}.end`, `must be after start, got ${show(o.end)}`);
    }
    return {
      sensor: o.sensor as string,
      start,
      end,
      sizeLps: o.sizeLps === undefined ? undefined : number(o.sizeLps, `${at}.sizeLps`, 0, 0.001, 50),
      distanceM: o.distanceM === undefined ? undefined : number(o.distanceM, `${at}.distanceM`, 0, 0, 1000),
    };
  });
}

export function parsePremisesLeaks(value: unknown, meters: number): PremisesLeakSpec[] {
  return list(value, 'premisesLeaks').map((item, i) => {
    const at = `premisesLeaks[${i}]`;
    const o = object(item, at);
    onlyKeys(o, at, ['meter', 'start', 'flowLph']);
    deviceIndex(o.meter, `${at}.meter`, /^M-(\d{6,7})$/u, 'M-000001', meters, 'fleet.meters');
    if (o.start === undefined) throw new ScenarioError(`${at}.start`, 'is required');
    if (o.flowLph === undefined) throw new ScenarioError(`${at}.flowLph`, 'is required');
    return { meter: o.meter as string, start: timeSpec(o.start, `${at}.start`), flowLph: number(o.flowLph, `${at}.flowLph`, 0, 0.1, 10_000) };
  });
}
