import type { StoredRead } from '@suido/ingest';

/**
 * The register of a meter at an instant, with its quality, as billing needs
 * it (DOMAIN.md, PARTS.md "Meters and billing"): `actual` when a read is at
 * that instant; `estimated` by linear interpolation between the bracketing
 * actual reads when they are at most `maxGapMs` apart, or — only when asked
 * — by extrapolation from the last read at the meter's recent rate, flagged
 * as such; `missing` otherwise, with the reason. A register that went down
 * between the reads (rollover or a replaced meter) is never interpolated
 * across: that needs the registry event (issue 4, not yet built).
 */
export type RegisterQuality = 'actual' | 'estimated' | 'missing';
export type EstimationMethod = 'interpolated' | 'extrapolated';
export type MissingReason = 'NO_READ_BEFORE' | 'NO_READ_AFTER' | 'GAP_TOO_LONG' | 'REGISTER_DECREASED' | 'EXTRAPOLATION_TOO_FAR' | 'NO_RATE';

export interface RegisterEstimate {
  readonly quality: RegisterQuality;
  /** Integer litres; null when missing. */
  readonly registerL: number | null;
  readonly method: EstimationMethod | null;
  /** The actual reads the answer rests on. */
  readonly basis: readonly StoredRead[];
  readonly reason: MissingReason | null;
}

export interface RegisterRules {
  /** Interpolate only between reads at most this far apart. */
  readonly maxGapMs: number;
  readonly extrapolate: boolean;
  /** Extrapolate at most this far past the last read. */
  readonly maxExtrapolationMs: number;
}

/** Defaults: interpolate across at most two days (a meter that missed one nightly batch); extrapolate at most three. */
export const DEFAULT_REGISTER_RULES: Omit<RegisterRules, 'extrapolate'> = { maxGapMs: 48 * 3_600_000, maxExtrapolationMs: 72 * 3_600_000 };

const missing = (reason: MissingReason, basis: StoredRead[] = []): RegisterEstimate => ({ quality: 'missing', registerL: null, method: null, basis, reason });

/**
 * @param before the newest read at or before `atMs`
 * @param after the oldest read at or after `atMs`
 * @param earlier a read well before `before` (for the rate of an extrapolation)
 */
export function registerAt(atMs: number, before: StoredRead | undefined, after: StoredRead | undefined, earlier: StoredRead | undefined, rules: RegisterRules): RegisterEstimate {
  if (before && before.ts === atMs) return { quality: 'actual', registerL: before.registerL, method: null, basis: [before], reason: null };
  if (before && after) {
    if (after.ts - before.ts > rules.maxGapMs) return missing('GAP_TOO_LONG', [before, after]);
    if (after.registerL < before.registerL) return missing('REGISTER_DECREASED', [before, after]);
    const share = (atMs - before.ts) / (after.ts - before.ts);
    // Whole litres, rounded down: an estimate never bills water not yet used.
    const registerL = before.registerL + Math.floor((after.registerL - before.registerL) * share);
    return { quality: 'estimated', registerL, method: 'interpolated', basis: [before, after], reason: null };
  }
  if (!before) return missing('NO_READ_BEFORE', after ? [after] : []);
  if (!rules.extrapolate) return missing('NO_READ_AFTER', [before]);
  if (atMs - before.ts > rules.maxExtrapolationMs) return missing('EXTRAPOLATION_TOO_FAR', [before]);
  if (!earlier || earlier.ts >= before.ts || earlier.registerL > before.registerL) return missing('NO_RATE', [before]);
  const ratePerMs = (before.registerL - earlier.registerL) / (before.ts - earlier.ts);
  const registerL = before.registerL + Math.floor(ratePerMs * (atMs - before.ts));
  return { quality: 'estimated', registerL, method: 'extrapolated', basis: [earlier, before], reason: null };
}
