import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { ALERT_RESOLUTIONS, ALERT_STATES, AlertError, type Alert, type AlertResolution, type AlertState, type DeviceRecord, type LeakScore, type Store } from '@suido/ingest';
import Type from 'typebox';
import { ApiError, ErrorBody } from '../errors.ts';
import { IsoInstant, iso, parseInstant } from '../time-params.ts';
import { AlertEventJson, AlertJson, AlertWithSourceJson, ScoreJson, alertEventJson, alertJson, scoreJson, sourceJson } from './alert-json.ts';
import { ALERT_STREAM_DEFAULTS, AlertStream, type AlertStreamOptions } from './alert-stream.ts';

const DAY_MS = 86_400_000;
/** Score history on an alert's page: the week before it was last seen, at most this many windows (the newest). */
const SCORE_HISTORY_MS = 7 * DAY_MS;
const SCORE_HISTORY_POINTS = 500;
/** Pages of SCORE_HISTORY_POINTS read at most to reach the newest ones (the store pages oldest first). */
const SCORE_HISTORY_PAGES = 10;
/** With a district filter, alerts scanned per request at most, as a multiple of `limit`; `next` resumes the scan. */
const DISTRICT_SCAN_FACTOR = 10;

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

const STATE_LIST = `(${ALERT_STATES.join('|')})(,(${ALERT_STATES.join('|')}))*`;
const StateParam = Type.String({ pattern: `^${STATE_LIST}$`, description: `one of ${ALERT_STATES.join(', ')}, or several comma-separated` });

const AlertIdParams = Type.Object({ id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }) });

/**
 * Who acts is the API key the request was authenticated with (access/):
 * `key:<id>:<name>`, recorded as actor `user:key:<id>:<name>` (the store's
 * `user:` prefix marks a person, never a detector). A header naming the user
 * could claim anyone; the key cannot.
 */
const ActionHeaders = Type.Object({
  'if-match': Type.Optional(Type.String({ pattern: '^"[0-9]{1,15}"$', description: 'the version the user saw, as the ETag gave it: "3"' })),
});

const Note = Type.String({ minLength: 1, maxLength: 2000 });
const ExpectedVersion = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'instead of If-Match' });

// ErrorBody's fields without its $id, which may be declared once only.
const ErrorJson = Type.Object(ErrorBody.properties);
const ConflictJson = Type.Object({ ...ErrorBody.properties, current: AlertJson });

/** Answers of a user action besides 200. */
const ActionErrors = { 400: ErrorJson, 404: ErrorJson, 409: ConflictJson, 412: ConflictJson, 428: ErrorJson };

export interface AlertRoutesOptions {
  readonly store: Store;
  /** SSE timing; defaults poll every 500 ms and send a heartbeat every 15 s. */
  readonly stream?: Partial<AlertStreamOptions> | undefined;
}

/** Alerts for field crews: list, detail with history, acknowledge and resolve, and a live event stream. */
export const alertRoutes: FastifyPluginAsync<AlertRoutesOptions> = async (app, { store, stream }) => {
  const streamOptions: AlertStreamOptions = { ...ALERT_STREAM_DEFAULTS, ...stream };
  const streams = new Set<AlertStream>();
  // Open streams would keep server.close() waiting for ever: end them first.
  app.addHook('preClose', async () => {
    for (const s of streams) s.close();
  });

  async function alertOr404(id: number): Promise<Alert> {
    const alert = await store.getAlert(id);
    if (!alert) throw new ApiError('ALERT_NOT_FOUND', `no alert ${id}`);
    return alert;
  }

  /** Devices of a page's alerts, each looked up once (a page is at most 100). */
  function deviceLookup(): (id: string) => Promise<DeviceRecord | undefined> {
    const seen = new Map<string, Promise<DeviceRecord | undefined>>();
    return (id) => {
      let d = seen.get(id);
      if (!d) seen.set(id, (d = store.getDevice(id)));
      return d;
    };
  }

  // Crews act on alerts; operators watch them; admin does both (roles.ts).
  const WATCH = { roles: ['crew', 'operator'] } as const;
  const ACT = { roles: ['crew'] } as const;

  /** The acting key; access control has set it on every route that is not public. */
  const actor = (request: FastifyRequest): string => request.apiKey!.identity;

  app.get(
    '/v1/alerts',
    {
      config: WATCH,
      schema: {
        summary: 'List alerts in id order (oldest first), a page at a time',
        querystring: Type.Object({
          state: Type.Optional(Type.Union([StateParam, Type.Array(StateParam, { maxItems: 4 })])),
          kind: Type.Optional(Type.String({ pattern: '^[a-z][a-z0-9_]{0,31}$' })),
          sourceId: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' })),
          district: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: "the source's district; a page may then be short: stop when `next` is null" })),
          since: Type.Optional({ ...IsoInstant, description: 'alerts raised at or after this instant (ISO 8601 with offset)' }),
          after: Type.Optional(Type.Integer({ minimum: 0, description: 'cursor: the last id of the previous page' })),
          limit: Type.Integer({ minimum: 1, maximum: 100, default: 50 }),
        }),
        response: { 200: Type.Object({ items: Type.Array(AlertWithSourceJson), next: Nullable(Type.Integer()) }) },
      },
    },
    async (request) => {
      const q = request.query as { state?: string | string[]; kind?: string; sourceId?: string; district?: string; since?: string; after?: number; limit: number };
      const states = q.state === undefined ? undefined : [...new Set([q.state].flat().flatMap((s) => s.split(',')))] as AlertState[];
      const query = { state: states, kind: q.kind, sourceId: q.sourceId, sinceMs: q.since === undefined ? undefined : parseInstant('since', q.since) };
      const device = deviceLookup();
      if (q.district === undefined) {
        const alerts = await store.listAlerts({ ...query, afterId: q.after, limit: q.limit });
        const items = await Promise.all(alerts.map(async (a) => ({ ...alertJson(a), source: sourceJson(await device(a.sourceId)) })));
        return { items, next: alerts.length === q.limit ? alerts[alerts.length - 1]!.id : null };
      }
      // The store cannot filter by district (a registry join); filter here,
      // scanning a bounded number of alerts so one request stays cheap.
      const items = [];
      let cursor = q.after;
      let exhausted = false;
      for (let scanned = 0; items.length < q.limit && scanned < DISTRICT_SCAN_FACTOR * q.limit; ) {
        const alerts = await store.listAlerts({ ...query, afterId: cursor, limit: q.limit });
        for (const a of alerts) {
          cursor = a.id;
          const d = await device(a.sourceId);
          if (d?.district === q.district) items.push({ ...alertJson(a), source: sourceJson(d) });
          if (items.length === q.limit) break;
        }
        scanned += alerts.length;
        if (alerts.length < q.limit && items.length < q.limit) {
          exhausted = true;
          break;
        }
      }
      return { items, next: exhausted || cursor === undefined ? null : cursor };
    },
  );

  app.get(
    '/v1/alerts/stream',
    {
      // A browser's EventSource cannot set headers: it may send the key as ?access_token=.
      config: { ...WATCH, queryToken: true },
      schema: {
        summary: 'Alert events as they are recorded, as Server-Sent Events (id: event id, event: action, data: JSON)',
        description:
          'Starts after the newest event at connection time, or after `Last-Event-ID` when the client reconnects. ' +
          '`data` is the MQTT alert message: { eventId, action, actor, at, recordedAt, details, alert }. A `: heartbeat` comment comes every 15 s.',
        headers: Type.Object({ 'last-event-id': Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$' })) }),
        querystring: Type.Object({
          access_token: Type.Optional(Type.String({ description: 'the API key, for EventSource, which cannot send Authorization (README: Access); never logged' })),
        }),
        response: { 200: Type.String({ description: 'text/event-stream' }) },
      },
    },
    async (request, reply) => {
      const lastEventId = (request.headers as { 'last-event-id'?: string })['last-event-id'];
      const cursor = lastEventId === undefined ? await store.latestAlertEventId() : Number(lastEventId);
      // The stream writes to the socket itself; fastify must not answer too.
      reply.hijack();
      const s = new AlertStream(store, reply.raw, request.log, cursor, streamOptions);
      streams.add(s);
      await s.start();
      streams.delete(s);
    },
  );

  app.get(
    '/v1/alerts/:id',
    {
      config: WATCH,
      schema: {
        summary: "One alert with its audit trail and, for a leak, the sensor's recent scores; ETag is its version",
        params: AlertIdParams,
        response: {
          200: Type.Object({
            ...AlertWithSourceJson.properties,
            history: Type.Array(AlertEventJson, { description: 'every audited change, oldest first' }),
            scores: Nullable(
              Type.Object(
                {
                  from: Type.String(),
                  to: Type.String(),
                  points: Type.Array(ScoreJson),
                  truncated: Type.Boolean({ description: 'older windows in the range were left out' }),
                },
                { description: `leak alerts only: the newest ${SCORE_HISTORY_POINTS} windows of the 7 days up to lastSeenAt (or clearedAt), oldest first` },
              ),
            ),
          }),
          404: ErrorJson,
        },
      },
    },
    async (request, reply) => {
      const { id } = request.params as { id: number };
      const alert = await alertOr404(id);
      const [events, device, scores] = await Promise.all([store.alertEvents(id), store.getDevice(alert.sourceId), scoreHistory(alert)]);
      void reply.header('etag', `"${alert.version}"`);
      return { ...alertJson(alert), source: sourceJson(device), history: events.map(alertEventJson), scores };
    },
  );

  async function scoreHistory(alert: Alert) {
    if (alert.kind !== 'leak' || alert.sourceKind !== 'sensor') return null;
    // Past the clear too: the windows that cleared it are evidence as well.
    const end = Math.max(alert.lastSeenAtMs, alert.clearedAtMs ?? 0);
    const from = end - SCORE_HISTORY_MS;
    const to = end + 1; // the range is half-open; the window starting at `end` belongs in it
    // The store pages oldest first; a crew wants the newest, so page on and keep the tail.
    let points: LeakScore[] = [];
    let truncated = false;
    let pageFrom = from;
    for (let page = 0; page < SCORE_HISTORY_PAGES; page++) {
      const scores = await store.scoresInRange(alert.sourceId, pageFrom, to, SCORE_HISTORY_POINTS);
      if (points.length + scores.length > SCORE_HISTORY_POINTS) truncated = true;
      points = [...points, ...scores].slice(-SCORE_HISTORY_POINTS);
      if (scores.length < SCORE_HISTORY_POINTS) break;
      // Scores of several model versions may share a window start; step past the last one only.
      const last = scores[scores.length - 1]!.windowStartMs;
      if (scores[0]!.windowStartMs === last) break;
      points = points.filter((p) => p.windowStartMs !== last);
      pageFrom = last;
    }
    return { from: iso(from), to: iso(to), points: points.map(scoreJson), truncated };
  }

  /** The version the user saw: If-Match, or expectedVersion in the body; both must agree. */
  function expectedVersion(headers: { 'if-match'?: string }, body: { expectedVersion?: number } | undefined): number {
    const fromHeader = headers['if-match'] === undefined ? undefined : Number(headers['if-match'].slice(1, -1));
    const fromBody = body?.expectedVersion;
    if (fromHeader !== undefined && fromBody !== undefined && fromHeader !== fromBody) {
      throw new ApiError('REQUEST_INVALID', `If-Match "${fromHeader}" and expectedVersion ${fromBody} disagree`);
    }
    const version = fromHeader ?? fromBody;
    if (version === undefined) {
      throw new ApiError('PRECONDITION_REQUIRED', 'send If-Match: "<version>" (the ETag of GET /v1/alerts/{id}) or expectedVersion, so that no change overwrites another');
    }
    return version;
  }

  /** The store's refusals, by the same codes; a conflict carries the alert as it is now. */
  function asApiError(err: unknown): unknown {
    if (!(err instanceof AlertError)) return err;
    return new ApiError(err.code, err.message, err.current ? { current: alertJson(err.current) } : undefined);
  }

  app.post(
    '/v1/alerts/:id/ack',
    {
      config: ACT,
      schema: {
        summary: "Acknowledge an open alert (I am on it), at the version the user saw",
        params: AlertIdParams,
        headers: ActionHeaders,
        body: Type.Object({ note: Type.Optional(Note), expectedVersion: Type.Optional(ExpectedVersion) }, { additionalProperties: false }),
        response: { 200: AlertJson, ...ActionErrors },
      },
      // The body is optional (If-Match says it all); validate an absent one as {}.
      preValidation: async (request) => {
        request.body ??= {};
      },
    },
    async (request, reply) => {
      const { id } = request.params as { id: number };
      const headers = request.headers as { 'if-match'?: string };
      const body = request.body as { note?: string; expectedVersion?: number };
      const version = expectedVersion(headers, body);
      const alert = await store
        .acknowledgeAlert({ id, expectedVersion: version, by: actor(request), atMs: Date.now(), note: body.note })
        .catch((err: unknown) => Promise.reject(asApiError(err)));
      void reply.header('etag', `"${alert.version}"`);
      return alertJson(alert);
    },
  );

  app.post(
    '/v1/alerts/:id/resolve',
    {
      config: ACT,
      schema: {
        summary: 'Resolve an alert (repaired, false alarm, customer-side, not found), at the version the user saw',
        params: AlertIdParams,
        headers: ActionHeaders,
        body: Type.Object(
          { resolution: Type.Enum(ALERT_RESOLUTIONS), note: Type.Optional(Note), expectedVersion: Type.Optional(ExpectedVersion) },
          { additionalProperties: false },
        ),
        response: { 200: AlertJson, ...ActionErrors },
      },
    },
    async (request, reply) => {
      const { id } = request.params as { id: number };
      const headers = request.headers as { 'if-match'?: string };
      const body = request.body as { resolution: AlertResolution; note?: string; expectedVersion?: number };
      const version = expectedVersion(headers, body);
      const alert = await store
        .resolveAlert({ id, expectedVersion: version, by: actor(request), atMs: Date.now(), note: body.note, resolution: body.resolution })
        .catch((err: unknown) => Promise.reject(asApiError(err)));
      void reply.header('etag', `"${alert.version}"`);
      return alertJson(alert);
    },
  );
};
