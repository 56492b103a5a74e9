import { parseIsoTimestamp } from '@suido/ingest';
import Type from 'typebox';
import { ApiError } from './errors.ts';

/** An instant in a query string: ISO 8601 with an offset, as devices send. */
export const IsoInstant = Type.String({
  description: 'ISO 8601 date-time with offset, e.g. 2026-11-20T00:00:00+09:00',
  examples: ['2026-11-20T00:00:00+09:00'],
  maxLength: 40,
});

export function parseInstant(name: string, text: string): number {
  const ms = parseIsoTimestamp(text);
  if (ms === undefined) throw new ApiError('TIME_INVALID', `${name}='${text}' is not an ISO 8601 date-time with offset`);
  return ms;
}

export const iso = (ms: number): string => new Date(ms).toISOString();
