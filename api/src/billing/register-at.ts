import type { StoredRead, StoredReplacement } from '@suido/ingest';

/**
 * The register of a meter at an instant, with its quality, as billing needs
 * it (DOMAIN.md, PARTS.md "Meters and billing"): `actual` when a read (or a
 * replacement's fitter reading) is at that instant; `estimated` by linear
 * interpolation between the bracketing points when they are at most
 * `maxGapMs` apart, or — only when asked — by extrapolation from the last
 * point at the meter's recent rate, flagged as such; `missing` otherwise, with
 * the reason. The single-meter route, the bulk export and consumption all
 * answer through `registerAt`, so they cannot disagree.
 *
 * Replacements cut a meter's history into segments (one per physical
 * register): an answer rests only on points of the segment holding the
 * instant, whose ends are the replacements' fitter readings. Inside a segment
 * the register counts modulo `registerMaxL + 1`: a step that wraps is a
 * rollover when it is shorter than half the register (the serial-number rule
 * of RFC 1982); any other step down is a decrease and is never estimated across.
 */
export type RegisterQuality = 'actual' | 'estimated' | 'missing';
export type EstimationMethod = 'interpolated' | 'extrapolated';
export type MissingReason =
  | 'METER_UNKNOWN'
  | 'NO_READ_BEFORE'
  | 'NO_READ_AFTER'
  | 'GAP_TOO_LONG'
  | 'REGISTER_DECREASED'
  | 'REGISTER_JUMP'
  | 'REGISTER_ABOVE_MAX'
  | 'EXTRAPOLATION_TOO_FAR'
  | 'NO_RATE';

/** A value the register had: a meter read, or a fitter's reading at a replacement (the old register's final, the new one's initial). */
export interface RegisterPoint {
  readonly ts: number;
  readonly registerL: number;
  readonly source: 'read' | 'replacement';
}

export interface RegisterEstimate {
  readonly quality: RegisterQuality;
  /** Integer litres, as the register shows it (after any rollover); null when missing. */
  readonly registerL: number | null;
  readonly method: EstimationMethod | null;
  /** Whether the register rolled over between the points the estimate rests on. */
  readonly rollover: boolean;
  /** The points the answer rests on. */
  readonly basis: readonly RegisterPoint[];
  readonly reason: MissingReason | null;
}

export interface RegisterRules {
  /** Interpolate only between points at most this far apart. */
  readonly maxGapMs: number;
  readonly extrapolate: boolean;
  /** Extrapolate at most this far past the last point. */
  readonly maxExtrapolationMs: number;
}

/** Defaults: interpolate across at most two days (a meter that missed one nightly batch); extrapolate at most three. */
export const DEFAULT_REGISTER_RULES: Omit<RegisterRules, 'extrapolate'> = { maxGapMs: 48 * 3_600_000, maxExtrapolationMs: 72 * 3_600_000 };

/** 99,999.999 m³: a common domestic register (5 digits of m³, 3 of litres). */
export const DEFAULT_REGISTER_MAX_L = 99_999_999;

/** An extrapolation's rate is the meter's mean use since its oldest point this long before the last one. */
export const RATE_LOOKBACK_MS = 7 * 86_400_000;

/** What the estimate needs to know of a meter besides its reads. */
export interface MeterBook {
  readonly registerMaxL: number;
  /** The meter's replacements, oldest first. */
  readonly replacements: readonly StoredReplacement[];
}

/** The reads around an instant, as the store finds them (StoreReadBrackets), ignoring replacements. */
export interface ReadsAround {
  /** The newest read at or before the instant. */
  readonly before: StoredRead | undefined;
  /** The oldest read at or after the instant. */
  readonly after: StoredRead | undefined;
  /** The oldest read at or after `before.ts - RATE_LOOKBACK_MS` (an extrapolation's rate); only asked for when needed. */
  readonly earlier?: StoredRead | undefined;
}

export type RegisterStep =
  | { readonly ok: true; readonly litres: number; readonly rollover: boolean }
  | { readonly ok: false; readonly reason: 'REGISTER_DECREASED' | 'REGISTER_JUMP' };

/** Litres used from register value `from` to `to` on a register that rolls over after `maxL`. */
export function registerStep(from: number, to: number, maxL: number): RegisterStep {
  const modulus = maxL + 1;
  const litres = (((to - from) % modulus) + modulus) % modulus;
  if (litres * 2 < modulus) return { ok: true, litres, rollover: to < from };
  return { ok: false, reason: to < from ? 'REGISTER_DECREASED' : 'REGISTER_JUMP' };
}

/** The segment of a meter's history holding `atMs`: the replacement that opened it and the one that closed it. */
export function segmentAt(atMs: number, replacements: readonly StoredReplacement[]): { opened?: StoredReplacement; closed?: StoredReplacement } {
  let opened: StoredReplacement | undefined;
  for (const r of replacements) {
    if (r.atMs > atMs) return { opened, closed: r };
    opened = r;
  }
  return { opened };
}

/** Whether the register at an instant needs the `earlier` read (an extrapolation past the segment's last read). */
export function needsRate(atMs: number, around: ReadsAround, book: MeterBook, rules: RegisterRules): boolean {
  if (!rules.extrapolate || !around.before || around.before.ts === atMs) return false;
  const { closed } = segmentAt(atMs, book.replacements);
  return closed === undefined && around.after === undefined;
}

/**
 * litres × part / whole in whole litres, rounded down: an estimate never bills
 * water not yet used. In integers, as floating point would land 4 L × 2 h / 2 h
 * on 3.999… and take a litre off.
 */
function floorShare(litres: number, part: number, whole: number): number {
  return Number((BigInt(litres) * BigInt(part)) / BigInt(whole));
}

const readPoint = (r: StoredRead): RegisterPoint => ({ ts: r.ts, registerL: r.registerL, source: 'read' });
const initialPoint = (r: StoredReplacement): RegisterPoint => ({ ts: r.atMs, registerL: r.newInitialL, source: 'replacement' });
const finalPoint = (r: StoredReplacement): RegisterPoint => ({ ts: r.atMs, registerL: r.oldFinalL, source: 'replacement' });

const missing = (reason: MissingReason, basis: RegisterPoint[] = []): RegisterEstimate => ({
  quality: 'missing',
  registerL: null,
  method: null,
  rollover: false,
  basis,
  reason,
});

export const UNKNOWN_METER: RegisterEstimate = missing('METER_UNKNOWN');

export function registerAt(atMs: number, around: ReadsAround, book: MeterBook, rules: RegisterRules): RegisterEstimate {
  const { opened, closed } = segmentAt(atMs, book.replacements);
  // A read at the very instant of a replacement is the new register's: the fitter's reading stands for it.
  const before = around.before && (!opened || around.before.ts > opened.atMs) ? readPoint(around.before) : opened && initialPoint(opened);
  const after = around.after && (!closed || around.after.ts < closed.atMs) ? readPoint(around.after) : closed && finalPoint(closed);
  const over = [before, after].find((p) => p !== undefined && p.registerL > book.registerMaxL);
  if (over) return missing('REGISTER_ABOVE_MAX', [over]);

  if (before && before.ts === atMs) return { quality: 'actual', registerL: before.registerL, method: null, rollover: false, basis: [before], reason: null };
  if (before && after) {
    if (after.ts - before.ts > rules.maxGapMs) return missing('GAP_TOO_LONG', [before, after]);
    const step = registerStep(before.registerL, after.registerL, book.registerMaxL);
    if (!step.ok) return missing(step.reason, [before, after]);
    const registerL = (before.registerL + floorShare(step.litres, atMs - before.ts, after.ts - before.ts)) % (book.registerMaxL + 1);
    return { quality: 'estimated', registerL, method: 'interpolated', rollover: step.rollover, basis: [before, after], reason: null };
  }
  if (!before) return missing('NO_READ_BEFORE', after ? [after] : []);
  if (!rules.extrapolate) return missing('NO_READ_AFTER', [before]);
  if (atMs - before.ts > rules.maxExtrapolationMs) return missing('EXTRAPOLATION_TOO_FAR', [before]);
  // The rate comes from the same segment only: the oldest read in the look-back, or the segment's opening.
  const e = around.earlier;
  const fromOpening = opened && opened.atMs < before.ts && opened.atMs >= before.ts - RATE_LOOKBACK_MS;
  const earlier = e && e.ts < before.ts && (!opened || e.ts > opened.atMs) ? readPoint(e) : fromOpening ? initialPoint(opened) : undefined;
  if (!earlier) return missing('NO_RATE', [before]);
  const rate = registerStep(earlier.registerL, before.registerL, book.registerMaxL);
  if (!rate.ok) return missing('NO_RATE', [earlier, before]);
  const litres = floorShare(rate.litres, atMs - before.ts, before.ts - earlier.ts);
  const unwrapped = before.registerL + litres;
  return {
    quality: 'estimated',
    registerL: unwrapped % (book.registerMaxL + 1),
    method: 'extrapolated',
    rollover: rate.rollover || unwrapped > book.registerMaxL,
    basis: [earlier, before],
    reason: null,
  };
}
