import { Readable } from 'node:stream';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { ArrivalMark, Store, StoredReplacement } from '@suido/ingest';
import Type from 'typebox';
import { ApiError, ErrorBody } from '../errors.ts';
import { IsoInstant, iso, parseInstant } from '../time-params.ts';
import { registersAsOf } from './billing-engine.ts';
import {
  MEDIA_TYPES,
  answerRows,
  consumptionAnswer,
  decodeCursor,
  encodeCursor,
  estimateJson,
  negotiate,
  planPage,
  registerAnswer,
  type AnswerKind,
  type Selection,
} from './billing-export.ts';
import { parseCutoff } from './billing-time.ts';
import { DEFAULT_REGISTER_MAX_L, DEFAULT_REGISTER_RULES, type RegisterRules } from './register-at.ts';

export interface BillingSettings {
  /** Interpolate only between points at most this far apart (BILLING_MAX_GAP_HOURS). */
  readonly maxGapMs: number;
  /** Extrapolate, when asked, at most this far (BILLING_MAX_EXTRAPOLATION_HOURS). */
  readonly maxExtrapolationMs: number;
  /** IANA zone whose midnight a date cut-off means (BILLING_TIME_ZONE). */
  readonly timeZone: string;
  /** Rollover point of a register the registry says nothing about (BILLING_REGISTER_MAX_L). */
  readonly registerMaxL: number;
}

export const DEFAULT_BILLING_SETTINGS: BillingSettings = { ...DEFAULT_REGISTER_RULES, timeZone: 'Asia/Tokyo', registerMaxL: DEFAULT_REGISTER_MAX_L };

/** A replacement recorded more than this ahead of the server clock is a typing error, not a plan. */
const MAX_FUTURE_MS = 5 * 60_000;
/** Ids in one `meterId` selection: the query string has to hold them. */
const MAX_LISTED_METERS = 1000;

const METER_ID = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$';
const meterIdPattern = new RegExp(METER_ID);
const MeterIdParams = Type.Object({ id: Type.String({ pattern: METER_ID }) });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const ErrorJson = Type.Object(ErrorBody.properties);

const Cutoff = Type.String({
  maxLength: 40,
  description: 'a date (local midnight in BILLING_TIME_ZONE), e.g. 2026-11-01, or an ISO 8601 instant with offset',
  examples: ['2026-11-01', '2026-11-01T00:00:00+09:00'],
});
const AsOf = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'answer as of this arrival (an earlier answer`s asOf): later reads are ignored' });

const Point = Type.Object({ ts: Type.String(), registerL: Type.Integer(), source: Type.Union([Type.Literal('read'), Type.Literal('replacement')]) });
const RegisterJson = Type.Object({
  meterId: Type.String(),
  at: Type.String(),
  quality: Type.Union([Type.Literal('actual'), Type.Literal('estimated'), Type.Literal('missing')]),
  registerL: Nullable(Type.Integer({ description: 'integer litres as the register shows them; null when missing' })),
  method: Nullable(Type.Union([Type.Literal('interpolated'), Type.Literal('extrapolated')])),
  rollover: Type.Boolean({ description: 'the register rolled over between the basis points' }),
  basis: Type.Array(Point, { description: 'the reads (or replacement readings) the answer rests on' }),
  reason: Nullable(Type.String({ description: 'why it is missing' })),
  laterReads: Type.Boolean({ description: 'reads or replacements that arrived after asOf change this answer' }),
  asOf: Type.Integer({ description: 'the arrival the answer is computed as of; pass it back to reproduce the answer' }),
  asOfTime: Nullable(Type.String({ description: 'when that arrival was stored' })),
});

const ReplacementBody = Type.Object(
  {
    at: IsoInstant,
    oldFinalL: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: "the old register's last value, litres" }),
    newInitialL: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: "the new register's first value, litres" }),
    note: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
  },
  { additionalProperties: false },
);
const ReplacementJson = Type.Object({
  meterId: Type.String(),
  at: Type.String(),
  oldFinalL: Type.Integer(),
  newInitialL: Type.Integer(),
  note: Nullable(Type.String()),
  recordedAt: Type.String(),
  recordedBy: Nullable(Type.String()),
  seq: Type.Integer({ description: 'its place in the arrival sequence (answers as of an earlier asOf ignore it)' }),
});

const replacementJson = (r: StoredReplacement) => ({
  meterId: r.meterId,
  at: iso(r.atMs),
  oldFinalL: r.oldFinalL,
  newInitialL: r.newInitialL,
  note: r.note,
  recordedAt: iso(r.recordedAtMs),
  recordedBy: r.recordedBy,
  seq: r.seq,
});

const Selecting = {
  meterId: Type.Optional(
    Type.Union([Type.String({ maxLength: 65 * MAX_LISTED_METERS }), Type.Array(Type.String({ maxLength: 65 * MAX_LISTED_METERS }), { maxItems: MAX_LISTED_METERS })], {
      description: `meters to answer for, repeated or comma-separated (at most ${MAX_LISTED_METERS}); default: all meters`,
    }),
  ),
  district: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  limit: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 100_000, description: 'meters (rows) in this page' }),
  cursor: Type.Optional(Type.String({ maxLength: 400, description: 'X-Next-Cursor of the previous page' })),
  asOf: Type.Optional(AsOf),
  extrapolate: Type.Boolean({ default: false, description: 'estimate past the last read from the recent rate (flagged)' }),
};

const EXPORT_DESCRIPTION =
  'Streamed as NDJSON (Accept: application/x-ndjson, the default) or CSV (Accept: text/csv), one row per meter in meter id order. ' +
  'Headers: X-Row-Count, X-As-Of, X-As-Of-Time, X-Latest-Arrival, and on all but the last page X-Next-Cursor and Link rel="next".';

interface SelectionQuery {
  meterId?: string | string[];
  district?: string;
  limit: number;
  cursor?: string;
  asOf?: number;
  extrapolate: boolean;
}

function parseSelection(q: SelectionQuery): Selection {
  if (q.meterId !== undefined && q.district !== undefined) throw new ApiError('REQUEST_INVALID', 'select meters by meterId or by district, not both');
  if (q.district !== undefined) return { kind: 'district', district: q.district };
  if (q.meterId === undefined) return { kind: 'all' };
  const ids = [...new Set([q.meterId].flat().flatMap((v) => v.split(',')))].filter((id) => id !== '');
  if (ids.length === 0 || ids.length > MAX_LISTED_METERS) throw new ApiError('REQUEST_INVALID', `meterId names 1 to ${MAX_LISTED_METERS} meters`);
  const bad = ids.find((id) => !meterIdPattern.test(id));
  if (bad !== undefined) throw new ApiError('REQUEST_INVALID', `meterId '${bad.slice(0, 70)}' is not a meter id`);
  // Code-unit order, as the store orders ids (SQLite's binary collation).
  return { kind: 'list', ids: ids.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)) };
}

/** Billing: the register at a cut-off (one meter, or a fleet export), consumption between two, and meter replacements. */
export const billingRoutes: FastifyPluginAsync<{ store: Store; settings: BillingSettings }> = async (app, { store, settings }) => {
  const rulesFor = (extrapolate: boolean): RegisterRules => ({ maxGapMs: settings.maxGapMs, maxExtrapolationMs: settings.maxExtrapolationMs, extrapolate });

  /** The arrival to answer as of (the newest unless asked), and the newest. */
  async function watermarks(asked: number | undefined): Promise<{ asOf: ArrivalMark; latest: ArrivalMark }> {
    const latest = await store.arrivalMark();
    if (asked === undefined) return { asOf: latest, latest };
    if (asked > latest.seq) throw new ApiError('AS_OF_INVALID', `asOf ${asked} is after the newest arrival (${latest.seq}): an answer as of the future could not be reproduced`);
    return { asOf: await store.arrivalMark(asked), latest };
  }

  async function meterOr404(id: string) {
    const device = await store.getDevice(id);
    if (!device || device.kind !== 'meter') throw new ApiError('METER_NOT_FOUND', `no meter '${id}'`);
    return device;
  }

  app.get(
    '/v1/meters/:id/register',
    {
      config: { roles: ['billing', 'operator', 'admin'] },
      schema: {
        summary: 'The register at an instant: actual, estimated (interpolated; extrapolated only if asked) or missing',
        params: MeterIdParams,
        querystring: Type.Object({
          at: Cutoff,
          extrapolate: Type.Boolean({ default: false, description: 'estimate past the last read from the recent rate (flagged)' }),
          asOf: Type.Optional(AsOf),
        }),
        response: { 200: RegisterJson },
      },
    },
    async (request) => {
      const { id } = request.params as { id: string };
      const q = request.query as { at: string; extrapolate: boolean; asOf?: number };
      const at = parseCutoff('at', q.at, settings.timeZone);
      const device = await meterOr404(id);
      const { asOf, latest } = await watermarks(q.asOf);
      const meters = [{ id, known: true, registerMaxL: device.registerMaxL ?? settings.registerMaxL }];
      const rules = rulesFor(q.extrapolate);
      const [then] = await registersAsOf(store, meters, [at], rules, asOf.seq);
      const answer = estimateJson(then!.estimates[0]!);
      const now = latest.seq > asOf.seq ? (await registersAsOf(store, meters, [at], rules, latest.seq))[0]!.estimates[0]! : undefined;
      const laterReads = now !== undefined && JSON.stringify(estimateJson(now)) !== JSON.stringify(answer);
      return { meterId: id, at: iso(at), ...answer, laterReads, asOf: asOf.seq, asOfTime: asOf.atMs === null ? null : iso(asOf.atMs) };
    },
  );

  /** A page of a fleet-wide answer, streamed; the page's extent is planned first so that headers can carry the cursor. */
  async function exportPage<Row>(request: FastifyRequest, reply: FastifyReply, q: SelectionQuery, kind: AnswerKind<Row>): Promise<FastifyReply> {
    const format = negotiate(request.headers.accept);
    if (format === undefined) {
      throw new ApiError('NOT_ACCEPTABLE', `this answer comes as ${MEDIA_TYPES.ndjson} or ${MEDIA_TYPES.csv}; Accept asked for '${request.headers.accept}'`);
    }
    const selection = parseSelection(q);
    const cursor = q.cursor === undefined ? undefined : decodeCursor(q.cursor);
    if (cursor && q.asOf !== undefined && q.asOf !== cursor.asOf) throw new ApiError('CURSOR_INVALID', 'the cursor carries its own asOf; pass one or the other');
    const { asOf, latest } = await watermarks(cursor?.asOf ?? q.asOf);
    const plan = await planPage(store, selection, cursor?.after, q.limit);

    void reply.header('content-type', format === 'csv' ? `${MEDIA_TYPES.csv}; charset=utf-8; header=present` : `${MEDIA_TYPES.ndjson}; charset=utf-8`);
    void reply.header('x-row-count', String(plan.count));
    void reply.header('x-as-of', String(asOf.seq));
    if (asOf.atMs !== null) void reply.header('x-as-of-time', iso(asOf.atMs));
    void reply.header('x-latest-arrival', String(latest.seq));
    if (plan.more && plan.lastId !== undefined) {
      const next = encodeCursor({ after: plan.lastId, asOf: asOf.seq });
      const url = new URL(request.url, 'http://suido');
      url.searchParams.delete('asOf');
      url.searchParams.set('cursor', next);
      void reply.header('x-next-cursor', next);
      void reply.header('link', `<${url.pathname}${url.search}>; rel="next"`);
    }
    const ctx = { store, rules: rulesFor(q.extrapolate), defaultRegisterMaxL: settings.registerMaxL, asOf: asOf.seq, latest: latest.seq };
    // One batch of rows in the stream's buffer at a time: the next is computed only when the client has taken it.
    const body = Readable.from(answerRows(ctx, kind, selection, cursor?.after, plan, format), { objectMode: true, highWaterMark: 1 });
    return reply.send(body);
  }

  app.get(
    '/v1/billing/reads',
    {
      config: { roles: ['billing', 'operator', 'admin'] },
      schema: {
        summary: 'The register of every meter (or a list, or a district) at a cut-off',
        description: EXPORT_DESCRIPTION,
        querystring: Type.Object({ at: Cutoff, ...Selecting }),
        response: { 400: ErrorJson, 406: ErrorJson },
      },
    },
    async (request, reply) => {
      const q = request.query as SelectionQuery & { at: string };
      return exportPage(request, reply, q, registerAnswer(parseCutoff('at', q.at, settings.timeZone)));
    },
  );

  app.get(
    '/v1/billing/consumption',
    {
      config: { roles: ['billing', 'operator', 'admin'] },
      schema: {
        summary: 'Consumption of every meter (or a list, or a district) between two cut-offs, with the quality of each end',
        description: EXPORT_DESCRIPTION,
        querystring: Type.Object({ from: Cutoff, to: Cutoff, ...Selecting }),
        response: { 400: ErrorJson, 406: ErrorJson },
      },
    },
    async (request, reply) => {
      const q = request.query as SelectionQuery & { from: string; to: string };
      const from = parseCutoff('from', q.from, settings.timeZone);
      const to = parseCutoff('to', q.to, settings.timeZone);
      if (from >= to) throw new ApiError('RANGE_INVALID', '`from` must be before `to`');
      return exportPage(request, reply, q, consumptionAnswer(from, to));
    },
  );

  app.get(
    '/v1/meters/:id/replacements',
    {
      config: { roles: ['billing', 'operator', 'admin'] },
      schema: {
        summary: "A meter's replacements, oldest first",
        params: MeterIdParams,
        response: { 200: Type.Object({ items: Type.Array(ReplacementJson) }) },
      },
    },
    async (request) => {
      const { id } = request.params as { id: string };
      await meterOr404(id);
      return { items: (await store.replacementsOf([id])).map(replacementJson) };
    },
  );

  app.post(
    '/v1/meters/:id/replacements',
    {
      config: { roles: ['operator', 'admin'] },
      schema: {
        summary: 'Record a meter replacement: the old register`s final value and the new one`s initial value at one instant',
        description:
          'Idempotent: the same replacement again answers 200 with the stored one; other registers at the same instant answer 409 REPLACEMENT_CONFLICT with `current`.',
        params: MeterIdParams,
        body: ReplacementBody,
        response: { 200: ReplacementJson, 201: ReplacementJson, 400: ErrorJson, 404: ErrorJson, 409: Type.Object({ ...ErrorBody.properties, current: ReplacementJson }) },
      },
    },
    async (request, reply) => {
      const { id } = request.params as { id: string };
      const body = request.body as { at: string; oldFinalL: number; newInitialL: number; note?: string };
      const atMs = parseInstant('at', body.at);
      const device = await meterOr404(id);
      const now = Date.now();
      if (atMs > now + MAX_FUTURE_MS) throw new ApiError('REPLACEMENT_INVALID', 'a replacement is recorded after it happened: `at` is in the future');
      const maxL = device.registerMaxL ?? settings.registerMaxL;
      if (body.oldFinalL > maxL || body.newInitialL > maxL) throw new ApiError('REPLACEMENT_INVALID', `a register shows at most ${maxL} L (the meter's rollover point)`);
      const { replacement, created } = await store.recordReplacement({
        meterId: id,
        atMs,
        oldFinalL: body.oldFinalL,
        newInitialL: body.newInitialL,
        note: body.note ?? null,
        recordedAtMs: now,
        recordedBy: request.apiKey?.identity ?? null,
      });
      if (!created && (replacement.oldFinalL !== body.oldFinalL || replacement.newInitialL !== body.newInitialL)) {
        throw new ApiError('REPLACEMENT_CONFLICT', `a replacement of '${id}' at ${iso(atMs)} is recorded with other registers`, { current: replacementJson(replacement) });
      }
      return reply.code(created ? 201 : 200).send(replacementJson(replacement));
    },
  );
};
