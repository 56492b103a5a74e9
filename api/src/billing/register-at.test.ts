import { describe, expect, it } from 'vitest';
import type { StoredRead } from '@suido/ingest';
import { registerAt, type RegisterRules } from './register-at.ts';

const H = 3_600_000;
const read = (hour: number, registerL: number): StoredRead => ({ meterId: 'M-1', ts: hour * H, registerL, flags: [], receivedAtMs: 0 });
const rules: RegisterRules = { maxGapMs: 48 * H, extrapolate: false, maxExtrapolationMs: 72 * H };

describe('register at an instant', () => {
  it('is actual on a read', () => {
    expect(registerAt(10 * H, read(10, 500), read(10, 500), undefined, rules)).toMatchObject({ quality: 'actual', registerL: 500, method: null });
  });
  it('interpolates between bracketing reads, in whole litres rounded down, naming them', () => {
    const e = registerAt(11 * H, read(10, 500), read(14, 507), undefined, rules);
    expect(e).toMatchObject({ quality: 'estimated', registerL: 501, method: 'interpolated', reason: null });
    expect(e.basis.map((r) => r.ts)).toEqual([10 * H, 14 * H]);
  });
  it('is missing, with a reason, rather than a guess', () => {
    expect(registerAt(30 * H, read(10, 500), read(70, 900), undefined, rules)).toMatchObject({ quality: 'missing', registerL: null, reason: 'GAP_TOO_LONG' });
    expect(registerAt(11 * H, read(10, 500), read(12, 20), undefined, rules)).toMatchObject({ quality: 'missing', reason: 'REGISTER_DECREASED' });
    expect(registerAt(5 * H, undefined, read(12, 20), undefined, rules)).toMatchObject({ quality: 'missing', reason: 'NO_READ_BEFORE' });
    expect(registerAt(15 * H, read(10, 500), undefined, undefined, rules)).toMatchObject({ quality: 'missing', reason: 'NO_READ_AFTER' });
  });
  it('extrapolates only when asked, flagged, within its limit and from a known rate', () => {
    const ask = { ...rules, extrapolate: true };
    expect(registerAt(20 * H, read(10, 500), undefined, read(0, 400), ask)).toMatchObject({ quality: 'estimated', method: 'extrapolated', registerL: 600 });
    expect(registerAt(100 * H, read(10, 500), undefined, read(0, 400), ask)).toMatchObject({ quality: 'missing', reason: 'EXTRAPOLATION_TOO_FAR' });
    expect(registerAt(20 * H, read(10, 500), undefined, undefined, ask)).toMatchObject({ quality: 'missing', reason: 'NO_RATE' });
  });
});
