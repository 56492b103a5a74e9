import type { BracketQuery, ReadBracket, Store, StoredReplacement } from '@suido/ingest';
import { RATE_LOOKBACK_MS, UNKNOWN_METER, needsRate, registerAt, type MeterBook, type ReadsAround, type RegisterEstimate, type RegisterRules } from './register-at.ts';

/** A meter as billing sees it: unknown ids stay in a list selection and answer METER_UNKNOWN. */
export interface BillingMeter {
  readonly id: string;
  readonly known: boolean;
  readonly registerMaxL: number;
}

export interface MeterRegisters {
  readonly meter: BillingMeter;
  readonly book: MeterBook;
  /** The register at each instant asked, in that order. */
  readonly estimates: readonly RegisterEstimate[];
}

/**
 * The register of each meter at each instant, as of an arrival number: three
 * store calls for the whole batch (replacements, brackets, and the
 * extrapolation rates where one is needed), whatever its size.
 */
export async function registersAsOf(
  store: Store,
  meters: readonly BillingMeter[],
  instants: readonly number[],
  rules: RegisterRules,
  asOf: number,
): Promise<MeterRegisters[]> {
  const known = meters.filter((m) => m.known);
  const replacements = new Map<string, StoredReplacement[]>();
  for (const r of await store.replacementsOf(
    known.map((m) => m.id),
    asOf,
  )) {
    const list = replacements.get(r.meterId);
    if (list) list.push(r);
    else replacements.set(r.meterId, [r]);
  }
  const queries: BracketQuery[] = [];
  for (const m of known) for (const atMs of instants) queries.push({ meterId: m.id, atMs });
  const brackets = await store.readBrackets(queries, asOf);

  const books = new Map(known.map((m) => [m.id, { registerMaxL: m.registerMaxL, replacements: replacements.get(m.id) ?? [] } satisfies MeterBook]));
  // Extrapolations need a second look, further back, for the meters that have no read after the instant.
  const rateQueries: BracketQuery[] = [];
  const rateIndex = new Map<number, number>();
  brackets.forEach((b, i) => {
    const q = queries[i]!;
    if (b.before && needsRate(q.atMs, b, books.get(q.meterId)!, rules)) {
      rateIndex.set(i, rateQueries.length);
      rateQueries.push({ meterId: q.meterId, atMs: b.before.ts - RATE_LOOKBACK_MS });
    }
  });
  const rates: ReadBracket[] = rateQueries.length > 0 ? await store.readBrackets(rateQueries, asOf) : [];

  let next = 0;
  return meters.map((meter) => {
    if (!meter.known) return { meter, book: { registerMaxL: meter.registerMaxL, replacements: [] }, estimates: instants.map(() => UNKNOWN_METER) };
    const book = books.get(meter.id)!;
    const estimates = instants.map((atMs) => {
      const i = next++;
      const r = rateIndex.get(i);
      const around: ReadsAround = { ...brackets[i]!, earlier: r === undefined ? undefined : rates[r]!.after };
      return registerAt(atMs, around, book, rules);
    });
    return { meter, book, estimates };
  });
}
