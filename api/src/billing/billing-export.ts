import type { BillingMeterRecord, Store } from '@suido/ingest';
import { ApiError } from '../errors.ts';
import { registersAsOf, type BillingMeter, type MeterRegisters } from './billing-engine.ts';
import { consumptionBetween } from './consumption.ts';
import type { RegisterEstimate, RegisterPoint, RegisterRules } from './register-at.ts';

/**
 * Fleet-wide billing answers: one row per meter of a selection, in meter id
 * order, a page at a time, streamed as NDJSON or CSV. Rows are computed
 * `BATCH` meters at a time (a handful of store calls per batch), and the
 * next batch only when the client has taken the previous one, so memory is
 * bounded whatever the page size.
 */
export const BATCH = 2_000;

export type Selection =
  | { readonly kind: 'all' }
  | { readonly kind: 'district'; readonly district: string }
  /** Sorted, without repeats. */
  | { readonly kind: 'list'; readonly ids: readonly string[] };

export type ExportFormat = 'ndjson' | 'csv';
export const MEDIA_TYPES: Record<ExportFormat, string> = { ndjson: 'application/x-ndjson', csv: 'text/csv' };

/** Picks the format from an Accept header (RFC 9110 §12.5.1, q-values honoured); undefined: neither is acceptable. */
export function negotiate(accept: string | undefined): ExportFormat | undefined {
  if (accept === undefined || accept.trim() === '') return 'ndjson';
  const best: Record<ExportFormat, { q: number; specificity: number }> = { ndjson: { q: 0, specificity: -1 }, csv: { q: 0, specificity: -1 } };
  for (const range of accept.split(',')) {
    const [type = '', ...params] = range.split(';').map((p) => p.trim().toLowerCase());
    let q = 1;
    for (const p of params) if (p.startsWith('q=')) q = Number(p.slice(2));
    if (!(q >= 0 && q <= 1)) continue;
    for (const format of ['ndjson', 'csv'] as const) {
      const [major, minor] = MEDIA_TYPES[format].split('/');
      const specificity = type === `${major}/${minor}` ? 2 : type === `${major}/*` ? 1 : type === '*/*' ? 0 : -1;
      if (specificity > best[format].specificity) best[format] = { q, specificity };
    }
  }
  if (best.ndjson.q === 0 && best.csv.q === 0) return undefined;
  return best.csv.q > best.ndjson.q ? 'csv' : 'ndjson';
}

/** The next page's cursor: the last meter id of this page and the arrival the whole export is answered as of. */
export interface Cursor {
  readonly after: string;
  readonly asOf: number;
}

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify([c.after, c.asOf])).toString('base64url');
}

export function decodeCursor(text: string): Cursor {
  try {
    const v = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && Number.isSafeInteger(v[1]) && (v[1] as number) >= 0) {
      return { after: v[0], asOf: v[1] as number };
    }
  } catch {
    // fall through: the same answer for any malformed cursor
  }
  throw new ApiError('CURSOR_INVALID', 'cursor is not one this API gave out; pass back X-Next-Cursor unchanged');
}

export interface PagePlan {
  /** Rows the page will hold: one per meter. */
  readonly count: number;
  /** The last meter id in the page; the next page starts after it. */
  readonly lastId: string | undefined;
  readonly more: boolean;
}

/** The page's extent, found before its first byte is sent so that the cursor and row count can go in headers. */
export async function planPage(store: Store, selection: Selection, after: string | undefined, limit: number): Promise<PagePlan> {
  if (selection.kind === 'list') {
    const rest = after === undefined ? selection.ids : selection.ids.filter((id) => id > after);
    const page = rest.slice(0, limit);
    return { count: page.length, lastId: page[page.length - 1], more: rest.length > limit };
  }
  const district = selection.kind === 'district' ? selection.district : undefined;
  return store.countDevices({ kind: 'meter', district, afterId: after, limit });
}

/** The page's meters, BATCH at a time, up to the planned last id (a meter registered meanwhile past it waits for the next page). */
async function* meterBatches(store: Store, selection: Selection, after: string | undefined, plan: PagePlan, defaultMaxL: number): AsyncGenerator<BillingMeter[]> {
  if (plan.lastId === undefined) return;
  const lastId = plan.lastId;
  const toMeter = (d: BillingMeterRecord): BillingMeter => ({ id: d.id, known: true, registerMaxL: d.registerMaxL ?? defaultMaxL });
  if (selection.kind === 'list') {
    const ids = selection.ids.filter((id) => (after === undefined || id > after) && id <= lastId);
    for (let i = 0; i < ids.length; i += BATCH) {
      const devices = await Promise.all(ids.slice(i, i + BATCH).map((id) => store.getDevice(id)));
      yield devices.map((d, j) => (d && d.kind === 'meter' ? toMeter(d) : { id: ids[i + j]!, known: false, registerMaxL: defaultMaxL }));
    }
    return;
  }
  const district = selection.kind === 'district' ? selection.district : undefined;
  let cursor = after;
  for (;;) {
    const devices = await store.listBillingMeters({ district, afterId: cursor, limit: BATCH });
    const inPage = devices.filter((d) => d.id <= lastId);
    if (inPage.length > 0) yield inPage.map(toMeter);
    if (inPage.length < devices.length || devices.length < BATCH) return;
    cursor = devices[devices.length - 1]!.id;
  }
}

/** Everything a page of answers needs besides its meters. */
export interface AnswerContext {
  readonly store: Store;
  readonly rules: RegisterRules;
  readonly defaultRegisterMaxL: number;
  /** The arrival the answer is computed as of. */
  readonly asOf: number;
  /** The newest arrival now: when later than `asOf`, each row says whether it would change. */
  readonly latest: number;
}

/** One kind of billing answer: the instants it needs per meter, and how a meter's registers make a row. */
export interface AnswerKind<Row> {
  readonly instants: readonly number[];
  row(m: MeterRegisters): Row;
  /** The row's content that a later arrival could change (what `laterReads` compares). */
  fingerprint(row: Row): string;
  json(row: Row, laterReads: boolean, asOf: number): string;
  readonly csvHeader: string;
  csv(row: Row, laterReads: boolean, asOf: number): string;
}

export async function* answerRows<Row>(
  ctx: AnswerContext,
  kind: AnswerKind<Row>,
  selection: Selection,
  after: string | undefined,
  plan: PagePlan,
  format: ExportFormat,
): AsyncGenerator<string> {
  if (format === 'csv') yield `${kind.csvHeader}\r\n`;
  for await (const meters of meterBatches(ctx.store, selection, after, plan, ctx.defaultRegisterMaxL)) {
    const rows = (await registersAsOf(ctx.store, meters, kind.instants, ctx.rules, ctx.asOf)).map((m) => kind.row(m));
    // Answer again with everything that has arrived since, only to say which rows it would change.
    const now = ctx.latest > ctx.asOf ? (await registersAsOf(ctx.store, meters, kind.instants, ctx.rules, ctx.latest)).map((m) => kind.row(m)) : undefined;
    const out: string[] = [];
    rows.forEach((row, i) => {
      const later = now !== undefined && kind.fingerprint(now[i]!) !== kind.fingerprint(row);
      out.push(format === 'csv' ? `${kind.csv(row, later, ctx.asOf)}\r\n` : `${kind.json(row, later, ctx.asOf)}\n`);
    });
    yield out.join('');
  }
}

// ---- the two answers: register at a cut-off, consumption between two ----

/**
 * ISO 8601 of an instant, remembered: an export names the same few read
 * times (hourly reads around one cut-off) hundreds of thousands of times.
 */
const isoCache = new Map<number, string>();
function iso(ms: number): string {
  let s = isoCache.get(ms);
  if (s === undefined) {
    if (isoCache.size >= 10_000) isoCache.clear();
    s = new Date(ms).toISOString();
    isoCache.set(ms, s);
  }
  return s;
}

const csvField = (v: string | number | boolean | null): string => {
  if (v === null) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
};
const csvLine = (fields: (string | number | boolean | null)[]): string => fields.map(csvField).join(',');

/** CSV form of a basis: `source@ts=registerL` joined by `;`. */
export const basisCsv = (basis: readonly RegisterPoint[]): string => basis.map((p) => `${p.source}@${iso(p.ts)}=${p.registerL}`).join(';');
const basisJson = (basis: readonly RegisterPoint[]) => basis.map((p) => ({ ts: iso(p.ts), registerL: p.registerL, source: p.source }));

/** The JSON fields of one register answer (also the single-meter route's). */
export function estimateJson(e: RegisterEstimate) {
  return { quality: e.quality, registerL: e.registerL, method: e.method, rollover: e.rollover, basis: basisJson(e.basis), reason: e.reason };
}

export interface RegisterRow {
  readonly meterId: string;
  readonly at: number;
  readonly estimate: RegisterEstimate;
}

export function registerAnswer(atMs: number): AnswerKind<RegisterRow> {
  return {
    instants: [atMs],
    row: (m) => ({ meterId: m.meter.id, at: atMs, estimate: m.estimates[0]! }),
    fingerprint: (r) => JSON.stringify(estimateJson(r.estimate)),
    json: (r, laterReads, asOf) => JSON.stringify({ meterId: r.meterId, at: iso(r.at), ...estimateJson(r.estimate), laterReads, asOf }),
    csvHeader: 'meterId,at,quality,registerL,method,rollover,reason,basis,laterReads,asOf',
    csv: (r, laterReads, asOf) => {
      const e = r.estimate;
      return csvLine([r.meterId, iso(r.at), e.quality, e.registerL, e.method, e.rollover, e.reason, basisCsv(e.basis), laterReads, asOf]);
    },
  };
}

export interface ConsumptionRow {
  readonly meterId: string;
  readonly from: number;
  readonly to: number;
  readonly c: ReturnType<typeof consumptionBetween>;
}

function consumptionJson(r: ConsumptionRow) {
  const { c } = r;
  return {
    meterId: r.meterId,
    from: iso(r.from),
    to: iso(r.to),
    quality: c.quality,
    consumptionL: c.consumptionL,
    reason: c.reason,
    rollover: c.rollover,
    start: estimateJson(c.from),
    end: estimateJson(c.to),
    replacements: c.replacements.map((x) => ({ at: iso(x.atMs), oldFinalL: x.oldFinalL, newInitialL: x.newInitialL })),
  };
}

export function consumptionAnswer(fromMs: number, toMs: number): AnswerKind<ConsumptionRow> {
  return {
    instants: [fromMs, toMs],
    row: (m) => ({ meterId: m.meter.id, from: fromMs, to: toMs, c: consumptionBetween(fromMs, toMs, m.estimates[0]!, m.estimates[1]!, m.book) }),
    fingerprint: (r) => JSON.stringify(consumptionJson(r)),
    json: (r, laterReads, asOf) => JSON.stringify({ ...consumptionJson(r), laterReads, asOf }),
    csvHeader:
      'meterId,from,to,quality,consumptionL,reason,rollover,' +
      'startQuality,startRegisterL,startMethod,startRollover,startReason,startBasis,endQuality,endRegisterL,endMethod,endRollover,endReason,endBasis,replacements,laterReads,asOf',
    csv: (r, laterReads, asOf) => {
      const { c } = r;
      const end = (e: RegisterEstimate) => [e.quality, e.registerL, e.method, e.rollover, e.reason, basisCsv(e.basis)];
      const replacements = c.replacements.map((x) => `${iso(x.atMs)}=${x.oldFinalL}>${x.newInitialL}`).join(';');
      return csvLine([r.meterId, iso(r.from), iso(r.to), c.quality, c.consumptionL, c.reason, c.rollover, ...end(c.from), ...end(c.to), replacements, laterReads, asOf]);
    },
  };
}
