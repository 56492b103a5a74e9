import type { StoredReplacement } from '@suido/ingest';
import { registerStep, type MeterBook, type RegisterEstimate } from './register-at.ts';

/**
 * Consumption of one meter between two cut-offs, from the register at each
 * (`registerAt`, so the ends carry their own quality and basis). Across
 * replacements it is the sum over the registers that were in place: (old
 * final − start) + (new initial → next final)… + (end − new initial). A step
 * that goes down, or up by half the register or more, is an error row with
 * its reason: billing never receives a negative or impossible number.
 */
export type ConsumptionQuality = 'actual' | 'estimated' | 'missing' | 'error';
export type ConsumptionReason = 'METER_UNKNOWN' | 'FROM_MISSING' | 'TO_MISSING' | 'NEGATIVE_CONSUMPTION' | 'CONSUMPTION_IMPLAUSIBLE';

export interface Consumption {
  readonly quality: ConsumptionQuality;
  /** Integer litres; null unless actual or estimated. */
  readonly consumptionL: number | null;
  readonly reason: ConsumptionReason | null;
  /** Whether a register rolled over in the period. */
  readonly rollover: boolean;
  readonly from: RegisterEstimate;
  readonly to: RegisterEstimate;
  /** Replacements with from < at <= to, whose readings the sum uses. */
  readonly replacements: readonly StoredReplacement[];
}

export function consumptionBetween(fromMs: number, toMs: number, start: RegisterEstimate, end: RegisterEstimate, book: MeterBook): Consumption {
  const replacements = book.replacements.filter((r) => r.atMs > fromMs && r.atMs <= toMs);
  const row = (quality: ConsumptionQuality, consumptionL: number | null, reason: ConsumptionReason | null, rollover = false): Consumption => ({
    quality,
    consumptionL,
    reason,
    rollover,
    from: start,
    to: end,
    replacements,
  });
  if (start.reason === 'METER_UNKNOWN') return row('missing', null, 'METER_UNKNOWN');
  if (start.registerL === null) return row('missing', null, 'FROM_MISSING');
  if (end.registerL === null) return row('missing', null, 'TO_MISSING');
  // Each register in place during the period contributes from where it started to where it ended.
  const legs: [number, number][] = [];
  let open = start.registerL;
  for (const r of replacements) {
    legs.push([open, r.oldFinalL]);
    open = r.newInitialL;
  }
  legs.push([open, end.registerL]);
  let total = 0;
  let rollover = false;
  for (const [from, to] of legs) {
    const step = registerStep(from, to, book.registerMaxL);
    if (!step.ok) return row('error', null, step.reason === 'REGISTER_DECREASED' ? 'NEGATIVE_CONSUMPTION' : 'CONSUMPTION_IMPLAUSIBLE');
    total += step.litres;
    rollover ||= step.rollover;
  }
  return row(start.quality === 'actual' && end.quality === 'actual' ? 'actual' : 'estimated', total, null, rollover);
}
