import { describe, expect, it } from 'vitest';
import { loadApiConfig } from '../config.ts';
import { isTimeZone, parseCutoff, startOfLocalDay } from './billing-time.ts';

describe('billing cut-offs', () => {
  it('reads a date as local midnight in the billing zone, and an instant as it is', () => {
    expect(new Date(parseCutoff('at', '2026-11-01', 'Asia/Tokyo')).toISOString()).toBe('2026-10-31T15:00:00.000Z');
    expect(new Date(parseCutoff('at', '2026-11-01', 'UTC')).toISOString()).toBe('2026-11-01T00:00:00.000Z');
    expect(new Date(parseCutoff('at', '2026-11-01T00:00:00+09:00', 'UTC')).toISOString()).toBe('2026-10-31T15:00:00.000Z');
    expect(() => parseCutoff('at', '2026-02-29', 'Asia/Tokyo')).toThrow(/calendar date/);
    expect(() => parseCutoff('at', '2026-11-01T00:00:00', 'Asia/Tokyo')).toThrow(/offset/);
  });
  it('finds midnight on the days a zone changes its offset', () => {
    // New York: EDT (−4) until 2026-11-01 02:00, then EST (−5).
    expect(new Date(startOfLocalDay(2026, 11, 1, 'America/New_York')).toISOString()).toBe('2026-11-01T04:00:00.000Z');
    expect(new Date(startOfLocalDay(2026, 11, 2, 'America/New_York')).toISOString()).toBe('2026-11-02T05:00:00.000Z');
    // Santiago springs forward at midnight (2026-09-06 00:00 → 01:00): the day starts at the jump.
    expect(new Date(startOfLocalDay(2026, 9, 6, 'America/Santiago')).toISOString()).toBe('2026-09-06T04:00:00.000Z');
  });
  it('refuses at start-up a zone Intl does not know', () => {
    expect(isTimeZone('Asia/Tokyo')).toBe(true);
    expect(isTimeZone('Asia/Atlantis')).toBe(false);
    expect(loadApiConfig({ BILLING_TIME_ZONE: 'Europe/Paris' }).billing.timeZone).toBe('Europe/Paris');
    expect(() => loadApiConfig({ BILLING_TIME_ZONE: 'Asia/Atlantis' })).toThrow(/BILLING_TIME_ZONE/);
    expect(() => loadApiConfig({ BILLING_REGISTER_MAX_L: '0' })).toThrow(/BILLING_REGISTER_MAX_L/);
  });
});
