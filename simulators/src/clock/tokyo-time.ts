/**
 * Local time in Japan as plain arithmetic: Asia/Tokyo is UTC+9 all year (no
 * daylight saving since 1951), so no time-zone database is needed and the
 * simulator behaves the same on any host.
 */
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
export const TOKYO_OFFSET_MS = 9 * HOUR_MS;

/** Days since 1970-01-01 in Tokyo local time. */
export function tokyoDay(ms: number): number {
  return Math.floor((ms + TOKYO_OFFSET_MS) / DAY_MS);
}

/** The UTC instant of local midnight that starts Tokyo day `day`. */
export function tokyoMidnight(day: number): number {
  return day * DAY_MS - TOKYO_OFFSET_MS;
}

/** Local hour of day, 0–23. */
export function tokyoHour(ms: number): number {
  return Math.floor((((ms + TOKYO_OFFSET_MS) % DAY_MS) + DAY_MS) % DAY_MS / HOUR_MS);
}

/** Day of week of a Tokyo day, 0 = Sunday … 6 = Saturday (1970-01-01 was a Thursday). */
export function weekdayOf(day: number): number {
  return (((day + 4) % 7) + 7) % 7;
}

export function isWeekend(day: number): boolean {
  const w = weekdayOf(day);
  return w === 0 || w === 6;
}

/** Rounds down to the top of the hour (UTC and Tokyo hours share their boundaries). */
export function floorToHour(ms: number): number {
  return Math.floor(ms / HOUR_MS) * HOUR_MS;
}
