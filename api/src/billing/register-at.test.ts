import { describe, expect, it } from 'vitest';
import type { StoredRead, StoredReplacement } from '@suido/ingest';
import { consumptionBetween } from './consumption.ts';
import { registerAt, registerStep, type MeterBook, type RegisterRules } from './register-at.ts';

const H = 3_600_000;
const read = (hour: number, registerL: number): StoredRead => ({ meterId: 'M-1', ts: hour * H, registerL, flags: [], receivedAtMs: 0 });
const swap = (hour: number, oldFinalL: number, newInitialL: number): StoredReplacement => ({
  meterId: 'M-1',
  atMs: hour * H,
  oldFinalL,
  newInitialL,
  note: null,
  recordedAtMs: 0,
  recordedBy: null,
  seq: 1,
});
const rules: RegisterRules = { maxGapMs: 48 * H, extrapolate: false, maxExtrapolationMs: 72 * H };
const plain: MeterBook = { registerMaxL: 99_999_999, replacements: [] };
const around = (before?: StoredRead, after?: StoredRead, earlier?: StoredRead) => ({ before, after, earlier });
const basis = (e: { basis: readonly { ts: number; registerL: number; source: string }[] }) => e.basis.map((p) => [p.ts / H, p.registerL, p.source]);

describe('register at an instant', () => {
  it('is actual on a read', () => {
    expect(registerAt(10 * H, around(read(10, 500), read(10, 500)), plain, rules)).toMatchObject({ quality: 'actual', registerL: 500, method: null });
  });
  it('interpolates between bracketing reads, in whole litres rounded down, naming them', () => {
    const e = registerAt(11 * H, around(read(10, 500), read(14, 507)), plain, rules);
    expect(e).toMatchObject({ quality: 'estimated', registerL: 501, method: 'interpolated', reason: null, rollover: false });
    expect(basis(e)).toEqual([
      [10, 500, 'read'],
      [14, 507, 'read'],
    ]);
  });
  it('is missing, with a reason, rather than a guess', () => {
    expect(registerAt(30 * H, around(read(10, 500), read(70, 900)), plain, rules)).toMatchObject({ quality: 'missing', registerL: null, reason: 'GAP_TOO_LONG' });
    expect(registerAt(11 * H, around(read(10, 500), read(12, 20)), plain, rules)).toMatchObject({ quality: 'missing', reason: 'REGISTER_DECREASED' });
    expect(registerAt(5 * H, around(undefined, read(12, 20)), plain, rules)).toMatchObject({ quality: 'missing', reason: 'NO_READ_BEFORE' });
    expect(registerAt(15 * H, around(read(10, 500)), plain, rules)).toMatchObject({ quality: 'missing', reason: 'NO_READ_AFTER' });
    expect(registerAt(11 * H, around(read(10, 500), read(12, 60_000_000)), plain, rules)).toMatchObject({ quality: 'missing', reason: 'REGISTER_JUMP' });
    expect(registerAt(11 * H, around(read(10, 500), read(12, 100_000_000)), plain, rules)).toMatchObject({ quality: 'missing', reason: 'REGISTER_ABOVE_MAX' });
  });
  it('extrapolates only when asked, flagged, within its limit and from a known rate', () => {
    const ask = { ...rules, extrapolate: true };
    expect(registerAt(20 * H, around(read(10, 500), undefined, read(0, 400)), plain, ask)).toMatchObject({ quality: 'estimated', method: 'extrapolated', registerL: 600 });
    expect(registerAt(100 * H, around(read(10, 500), undefined, read(0, 400)), plain, ask)).toMatchObject({ quality: 'missing', reason: 'EXTRAPOLATION_TOO_FAR' });
    expect(registerAt(20 * H, around(read(10, 500)), plain, ask)).toMatchObject({ quality: 'missing', reason: 'NO_RATE' });
  });
  it('interpolates across a rollover of the register, and reports the register as it shows', () => {
    const small: MeterBook = { registerMaxL: 9_999, replacements: [] };
    // 9,990 → 10 is 20 litres through 9,999 → 0.
    const e = registerAt(15 * H, around(read(10, 9_990), read(20, 10)), small, rules);
    expect(e).toMatchObject({ quality: 'estimated', registerL: 0, rollover: true });
    expect(registerAt(12 * H, around(read(10, 9_990), read(20, 10)), small, rules)).toMatchObject({ registerL: 9_994, rollover: true });
    // Down by less than half the register is a decrease, never a rollover.
    expect(registerAt(15 * H, around(read(10, 9_990), read(20, 5_000)), small, rules)).toMatchObject({ quality: 'missing', reason: 'REGISTER_DECREASED' });
    const ask = { ...rules, extrapolate: true };
    expect(registerAt(20 * H, around(read(10, 9_995), undefined, read(0, 9_985)), small, ask)).toMatchObject({ registerL: 5, rollover: true, method: 'extrapolated' });
  });
  it('never interpolates across a replacement: the fitter readings end and start the registers', () => {
    const book: MeterBook = { registerMaxL: 99_999_999, replacements: [swap(12, 520, 7)] };
    // Reads at 10 (old register) and 14 (new register) bracket the instant, but the replacement at 12 cuts between them.
    const old = registerAt(11 * H, around(read(10, 500), read(14, 11)), book, rules);
    expect(old).toMatchObject({ quality: 'estimated', registerL: 510, method: 'interpolated' });
    expect(basis(old)).toEqual([
      [10, 500, 'read'],
      [12, 520, 'replacement'],
    ]);
    const young = registerAt(13 * H, around(read(10, 500), read(14, 11)), book, rules);
    expect(young).toMatchObject({ quality: 'estimated', registerL: 9 });
    expect(basis(young)).toEqual([
      [12, 7, 'replacement'],
      [14, 11, 'read'],
    ]);
    // At the instant itself the new register's first value stands, read or not.
    expect(registerAt(12 * H, around(read(12, 99), read(12, 99)), book, rules)).toMatchObject({ quality: 'actual', registerL: 7, basis: [{ source: 'replacement' }] });
    // A rate for an extrapolation comes from the new register only.
    const ask = { ...rules, extrapolate: true };
    expect(registerAt(16 * H, around(read(14, 11), undefined, read(10, 500)), book, ask)).toMatchObject({ registerL: 15, method: 'extrapolated' });
    expect(registerAt(13 * H, around(read(10, 500), undefined, read(8, 400)), book, ask)).toMatchObject({ quality: 'missing', reason: 'NO_RATE' });
  });
});

describe('register steps and consumption', () => {
  it('counts modulo the register, and refuses a decrease or a jump of half the register', () => {
    expect(registerStep(100, 250, 999)).toEqual({ ok: true, litres: 150, rollover: false });
    expect(registerStep(900, 50, 999)).toEqual({ ok: true, litres: 150, rollover: true });
    expect(registerStep(250, 100, 999)).toEqual({ ok: false, reason: 'REGISTER_DECREASED' });
    expect(registerStep(0, 600, 999)).toEqual({ ok: false, reason: 'REGISTER_JUMP' });
  });

  const at = (hour: number, registerL: number) => registerAt(hour * H, around(read(hour, registerL), read(hour, registerL)), plain, rules);
  it('sums the registers in place across replacements: (old final − start) + (end − new initial)', () => {
    const book: MeterBook = { registerMaxL: 99_999_999, replacements: [swap(5, 1_300, 20), swap(50, 9, 9)] };
    const c = consumptionBetween(0, 20 * H, at(0, 1_000), at(20, 150), book);
    expect(c).toMatchObject({ quality: 'actual', consumptionL: 300 + 130, reason: null });
    expect(c.replacements.map((r) => r.atMs / H)).toEqual([5]);
  });
  it('answers an error row, never a number, for a negative or impossible consumption', () => {
    expect(consumptionBetween(0, 20 * H, at(0, 1_000), at(20, 900), plain)).toMatchObject({ quality: 'error', consumptionL: null, reason: 'NEGATIVE_CONSUMPTION' });
    expect(consumptionBetween(0, 20 * H, at(0, 1_000), at(20, 90_000_000), plain)).toMatchObject({ quality: 'error', reason: 'CONSUMPTION_IMPLAUSIBLE' });
    const oldWentBack: MeterBook = { registerMaxL: 99_999_999, replacements: [swap(5, 900, 0)] };
    expect(consumptionBetween(0, 20 * H, at(0, 1_000), at(20, 50), oldWentBack)).toMatchObject({ quality: 'error', reason: 'NEGATIVE_CONSUMPTION' });
    const missingEnd = registerAt(20 * H, around(read(10, 1)), plain, rules);
    expect(consumptionBetween(0, 20 * H, at(0, 1_000), missingEnd, plain)).toMatchObject({ quality: 'missing', consumptionL: null, reason: 'TO_MISSING' });
  });
});
