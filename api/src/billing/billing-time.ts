import { ApiError } from '../errors.ts';
import { parseInstant } from '../time-params.ts';

/**
 * Billing cut-offs. Bureaus bill at local midnight of the cycle date
 * (DOMAIN.md), so a cut-off may be a date, `2026-11-01`, meaning the first
 * instant of that day in the billing time zone, or an ISO 8601 instant with
 * an offset. A time without an offset is refused, never guessed.
 */
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(zone, f);
  }
  return f;
}

/** Whether Intl knows the zone (start-up validation of BILLING_TIME_ZONE). */
export function isTimeZone(zone: string): boolean {
  try {
    formatter(zone);
    return true;
  } catch {
    return false;
  }
}

/** The zone's wall clock at an instant, read back as if it were UTC. */
function wallClockMs(zone: string, ms: number): number {
  const p: Record<string, number> = {};
  for (const part of formatter(zone).formatToParts(new Date(ms))) if (part.type !== 'literal') p[part.type] = Number(part.value);
  return Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!);
}

/** The first instant of a calendar date in a zone (its local midnight). */
export function startOfLocalDay(year: number, month: number, day: number, zone: string): number {
  const wall = Date.UTC(year, month - 1, day);
  // Two passes: the offset at the first guess may differ from the offset at midnight across a DST change.
  let guess = wall - (wallClockMs(zone, wall) - wall);
  guess = wall - (wallClockMs(zone, guess) - guess);
  // Where midnight does not exist (a zone that springs forward at 00:00), the day starts at the jump.
  while (wallClockMs(zone, guess) < wall) guess += 60_000 * 15;
  return guess;
}

/** A cut-off: `YYYY-MM-DD` (local midnight in `zone`) or an ISO 8601 instant with offset. */
export function parseCutoff(name: string, text: string, zone: string): number {
  const m = DATE.exec(text);
  if (!m) return parseInstant(name, text);
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const probe = new Date(Date.UTC(year, month - 1, day));
  if (probe.getUTCFullYear() !== year || probe.getUTCMonth() !== month - 1 || probe.getUTCDate() !== day) {
    throw new ApiError('TIME_INVALID', `${name}='${text}' is not a calendar date`);
  }
  return startOfLocalDay(year, month, day, zone);
}
