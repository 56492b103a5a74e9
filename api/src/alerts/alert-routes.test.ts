import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore, type AlertChange } from '@suido/ingest';
import type { FastifyInstance } from 'fastify';
import { issueApiKey, type IssuedApiKey } from '../access/api-keys.ts';
import { buildApi } from '../build-api.ts';

const T0 = Date.parse('2026-11-20T02:00:00+09:00');
const MIN = 60_000;
const DAY = 86_400_000;

const leak = (op: 'raise' | 'refresh', sourceId: string, atMs: number, score: number): AlertChange => ({ op, kind: 'leak', sourceKind: 'sensor', sourceId, atMs, score });

describe('alert routes on a real SQLite store', () => {
  let store: SqliteStore;
  let app: FastifyInstance;
  /** One crew key per person, by key name; `viewer` reads. */
  let keys: Map<string, IssuedApiKey>;
  const as = (name: string) => ({ authorization: `Bearer ${keys.get(name)!.key}` });
  /** How the audit names a key's holder. */
  const who = (name: string) => `key:${keys.get(name)!.record.id}:${name}`;

  /** A detector's commit, as the leak engine makes it. */
  const detect = (...changes: AlertChange[]) => store.commitAlertChanges({ actor: 'detector', changes, states: [] });

  beforeEach(async () => {
    store = new SqliteStore({ path: ':memory:' });
    await store.upsertDevices([
      { id: 'S-1', kind: 'sensor', district: 'naka', lat: 34.39, lon: 132.45, pipeMaterial: 'steel', site: 'near_prv', pipeId: 'P-12', chainageM: 640 },
      { id: 'S-2', kind: 'sensor', district: 'minami' },
      { id: 'S-3', kind: 'sensor', district: 'naka' },
      { id: 'M-1', kind: 'meter', district: 'minami' },
    ]);
    // Alert 1: a leak on S-1, re-triggered with a higher peak (version 2).
    await detect(leak('raise', 'S-1', T0, 0.8));
    await detect(leak('raise', 'S-1', T0 + 10 * MIN, 0.95));
    // Alert 2: a leak on S-2, cleared (version 2).
    await detect(leak('raise', 'S-2', T0, 0.7), { op: 'clear', kind: 'leak', sourceKind: 'sensor', sourceId: 'S-2', atMs: T0 + 60 * MIN });
    // Alert 3: continuous flow on a meter.
    await detect({ op: 'raise', kind: 'continuous_flow', sourceKind: 'meter', sourceId: 'M-1', atMs: T0 + DAY, score: 120 });
    // Alert 4: a leak on S-3.
    await detect(leak('raise', 'S-3', T0 + 2 * DAY, 0.9));
    // Scores of S-1: 8 days of one window every 6 h (the first day falls outside the 7 days), and one after the alert.
    const scores = Array.from({ length: 34 }, (_, i) => {
      const start = T0 + 10 * MIN - 8 * DAY + i * 6 * 3_600_000;
      return { sensorId: 'S-1', windowStartMs: start, windowEndMs: start + 1000, score: i / 40, modelVersion: '1.1.0' };
    });
    await store.appendScores(scores);
    app = await buildApi({ store, registry: new Registry(), log: pino({ level: 'silent' }), alertStream: { pollMs: 20 } });
    keys = new Map();
    for (const name of ['viewer', 'tanaka@crew-3', 'sato', 'crew-a', 'crew-b']) keys.set(name, await issueApiKey(store, { role: 'crew', name, by: 'test' }));
    keys.set('ops', await issueApiKey(store, { role: 'operator', name: 'ops', by: 'test' }));
  });
  afterEach(async () => {
    await app.close();
    await store.close();
  });

  const get = async (url: string) => {
    const res = await app.inject({ method: 'GET', url, headers: as('viewer') });
    return { status: res.statusCode, headers: res.headers, body: res.json() };
  };
  const post = async (url: string, body: object | undefined, headers: Record<string, string>) => {
    const res = await app.inject({ method: 'POST', url, headers, ...(body === undefined ? {} : { payload: body }) });
    return { status: res.statusCode, headers: res.headers, body: res.json() };
  };
  const ids = (body: { items: { id: number }[] }) => body.items.map((a) => a.id);

  it('lists alerts by state (repeated or comma-separated), kind, source, since and district, a page at a time', async () => {
    const all = await get('/v1/alerts');
    expect(all.status).toBe(200);
    expect(ids(all.body)).toEqual([1, 2, 3, 4]);
    expect(all.body.items[0]).toMatchObject({
      id: 1,
      kind: 'leak',
      sourceKind: 'sensor',
      sourceId: 'S-1',
      state: 'open',
      raisedAt: new Date(T0).toISOString(),
      lastSeenAt: new Date(T0 + 10 * MIN).toISOString(),
      peakScore: 0.95,
      version: 2,
      source: { district: 'naka', lat: 34.39, lon: 132.45, pipeMaterial: 'steel', pipeId: 'P-12', chainageM: 640, site: 'near_prv' },
    });
    expect(ids((await get('/v1/alerts?state=cleared')).body)).toEqual([2]);
    expect(ids((await get('/v1/alerts?state=open&state=cleared')).body)).toEqual([1, 2, 3, 4]);
    expect(ids((await get('/v1/alerts?state=cleared,acknowledged')).body)).toEqual([2]);
    expect(ids((await get('/v1/alerts?kind=continuous_flow')).body)).toEqual([3]);
    expect(ids((await get('/v1/alerts?sourceId=S-3')).body)).toEqual([4]);
    expect(ids((await get(`/v1/alerts?since=${encodeURIComponent('2026-11-21T02:00:00+09:00')}`)).body)).toEqual([3, 4]);
    expect(ids((await get('/v1/alerts?district=naka')).body)).toEqual([1, 4]);

    const page1 = await get('/v1/alerts?limit=3');
    expect(page1.body).toMatchObject({ next: 3 });
    expect(ids(page1.body)).toEqual([1, 2, 3]);
    const page2 = await get('/v1/alerts?limit=3&after=3');
    expect(page2.body).toMatchObject({ items: [{ id: 4 }], next: null });
    const district1 = await get('/v1/alerts?district=naka&limit=1');
    expect(district1.body).toMatchObject({ items: [{ id: 1 }], next: 1 });
    expect((await get('/v1/alerts?district=naka&limit=1&after=1')).body).toMatchObject({ items: [{ id: 4 }], next: 4 });
    expect((await get('/v1/alerts?district=naka&limit=1&after=4')).body).toEqual({ items: [], next: null });

    expect(await get('/v1/alerts?state=closed')).toMatchObject({ status: 400, body: { code: 'REQUEST_INVALID' } });
    expect(await get('/v1/alerts?since=yesterday')).toMatchObject({ status: 400, body: { code: 'TIME_INVALID' } });
    expect(await get('/v1/alerts?limit=101')).toMatchObject({ status: 400, body: { code: 'REQUEST_INVALID' } });
  });

  it('shows one alert with its history, the leak scores of the week before and its version as ETag', async () => {
    const res = await get('/v1/alerts/1');
    expect(res.status).toBe(200);
    expect(res.headers.etag).toBe('"2"');
    expect(res.body).toMatchObject({ id: 1, state: 'open', version: 2, source: { district: 'naka' } });
    expect(res.body.history).toEqual([
      { eventId: 1, action: 'raised', actor: 'detector', at: new Date(T0).toISOString(), recordedAt: expect.any(String), details: { score: 0.8 }, version: 1 },
      {
        eventId: 2,
        action: 'updated',
        actor: 'detector',
        at: new Date(T0 + 10 * MIN).toISOString(),
        recordedAt: expect.any(String),
        details: { score: 0.95, previousPeakScore: 0.8 },
        version: 2,
      },
    ]);
    const lastSeen = T0 + 10 * MIN;
    expect(res.body.scores).toMatchObject({ from: new Date(lastSeen - 7 * DAY).toISOString(), to: new Date(lastSeen + 1).toISOString(), truncated: false });
    // Windows 4..32 start in the 7 days up to lastSeenAt (window 4 exactly 7 days before it); the one after is left out.
    expect(res.body.scores.points).toHaveLength(29);
    expect(res.body.scores.points[0]).toEqual({
      windowStart: new Date(T0 + 10 * MIN - 7 * DAY).toISOString(),
      windowEnd: new Date(T0 + 10 * MIN - 7 * DAY + 1000).toISOString(),
      score: 4 / 40,
      modelVersion: '1.1.0',
    });
    expect(res.body.scores.points.at(-1).windowStart).toBe(new Date(T0 + 10 * MIN).toISOString());

    const meterAlert = await get('/v1/alerts/3');
    expect(meterAlert.body).toMatchObject({ kind: 'continuous_flow', scores: null, history: [{ action: 'raised', actor: 'detector' }] });
    expect(await get('/v1/alerts/99')).toMatchObject({ status: 404, body: { code: 'ALERT_NOT_FOUND' } });
    expect(await get('/v1/alerts/abc')).toMatchObject({ status: 400, body: { code: 'REQUEST_INVALID' } });
  });

  it('acknowledges then resolves with If-Match, recording who and when', async () => {
    const ack = await post('/v1/alerts/1/ack', { note: 'on my way' }, { ...as('tanaka@crew-3'), 'if-match': '"2"' });
    expect(ack.status).toBe(200);
    expect(ack.headers.etag).toBe('"3"');
    expect(ack.body).toMatchObject({ id: 1, state: 'acknowledged', acknowledgedBy: who('tanaka@crew-3'), version: 3 });

    const resolve = await post('/v1/alerts/1/resolve', { resolution: 'repaired', note: 'joint replaced' }, { ...as('tanaka@crew-3'), 'if-match': ack.headers.etag as string });
    expect(resolve.status).toBe(200);
    expect(resolve.body).toMatchObject({ state: 'resolved', resolvedBy: who('tanaka@crew-3'), resolution: 'repaired', version: 4 });

    const detail = await get('/v1/alerts/1');
    expect(detail.headers.etag).toBe('"4"');
    expect(detail.body.history.slice(2)).toMatchObject([
      { action: 'acknowledged', actor: `user:${who('tanaka@crew-3')}`, details: { note: 'on my way' }, version: 3 },
      { action: 'resolved', actor: `user:${who('tanaka@crew-3')}`, details: { note: 'joint replaced', resolution: 'repaired' }, version: 4 },
    ]);

    // expectedVersion in the body does as well as If-Match; a cleared alert resolves directly.
    const cleared = await post('/v1/alerts/2/resolve', { resolution: 'false_alarm', expectedVersion: 2 }, as('sato'));
    expect(cleared).toMatchObject({ status: 200, body: { state: 'resolved', resolution: 'false_alarm' } });
  });

  it('lets one of two racing acknowledges win; the other gets 412 with the alert as it is now', async () => {
    const headers = (user: string) => ({ ...as(user), 'if-match': '"2"' });
    const [a, b] = await Promise.all([post('/v1/alerts/1/ack', {}, headers('crew-a')), post('/v1/alerts/1/ack', {}, headers('crew-b'))]);
    const statuses = [a.status, b.status].sort();
    expect(statuses).toEqual([200, 412]);
    const [winner, loser] = a.status === 200 ? [a, b] : [b, a];
    expect(loser.body).toMatchObject({ statusCode: 412, code: 'ALERT_VERSION_CONFLICT', current: { id: 1, state: 'acknowledged', version: 3 } });
    expect(loser.body.current.acknowledgedBy).toBe(winner.body.acknowledgedBy);
    // Only the winner is on record.
    const history = (await get('/v1/alerts/1')).body.history;
    expect(history.filter((e: { action: string }) => e.action === 'acknowledged')).toHaveLength(1);
  });

  it('refuses a change without a version (428), a stale one after a detector change (412), a bad transition (409), an unknown id (404), no key (401), a watching role (403)', async () => {
    expect(await post('/v1/alerts/1/ack', {}, as('sato'))).toMatchObject({ status: 428, body: { code: 'PRECONDITION_REQUIRED' } });
    expect(await post('/v1/alerts/1/ack', undefined, as('sato'))).toMatchObject({ status: 428, body: { code: 'PRECONDITION_REQUIRED' } });

    await detect(leak('raise', 'S-1', T0 + 20 * MIN, 0.99)); // a new peak: version 3
    expect(await post('/v1/alerts/1/ack', {}, { ...as('sato'), 'if-match': '"2"' })).toMatchObject({
      status: 412,
      body: { code: 'ALERT_VERSION_CONFLICT', current: { version: 3, peakScore: 0.99 } },
    });

    await post('/v1/alerts/4/resolve', { resolution: 'not_found' }, { ...as('sato'), 'if-match': '"1"' });
    expect(await post('/v1/alerts/4/ack', {}, { ...as('sato'), 'if-match': '"2"' })).toMatchObject({
      status: 409,
      body: { code: 'ALERT_TRANSITION_INVALID', current: { state: 'resolved' } },
    });
    expect(await post('/v1/alerts/4/resolve', { resolution: 'repaired' }, { ...as('sato'), 'if-match': '"2"' })).toMatchObject({
      status: 409,
      body: { code: 'ALERT_TRANSITION_INVALID' },
    });

    expect(await post('/v1/alerts/99/ack', {}, { ...as('sato'), 'if-match': '"1"' })).toMatchObject({ status: 404, body: { code: 'ALERT_NOT_FOUND' } });
    // Nobody acts without a key, nor with a key whose role only watches.
    expect(await post('/v1/alerts/1/ack', {}, { 'if-match': '"3"' })).toMatchObject({ status: 401, body: { code: 'AUTH_REQUIRED' } });
    expect(await post('/v1/alerts/1/ack', {}, { ...as('ops'), 'if-match': '"3"' })).toMatchObject({ status: 403, body: { code: 'FORBIDDEN_ROLE' } });
    // The old stop-gap header names nobody any more.
    expect(await post('/v1/alerts/1/ack', {}, { 'x-suido-user': 'sato', 'if-match': '"3"' })).toMatchObject({ status: 401, body: { code: 'AUTH_REQUIRED' } });
    expect(await post('/v1/alerts/1/ack', {}, { ...as('sato'), 'if-match': '*' })).toMatchObject({ status: 400, body: { code: 'REQUEST_INVALID' } });
    expect(await post('/v1/alerts/1/ack', { expectedVersion: 2 }, { ...as('sato'), 'if-match': '"3"' })).toMatchObject({
      status: 400,
      body: { code: 'REQUEST_INVALID' },
    });
    expect(await post('/v1/alerts/1/resolve', { resolution: 'fixed' }, { ...as('sato'), 'if-match': '"3"' })).toMatchObject({
      status: 400,
      body: { code: 'REQUEST_INVALID' },
    });
    // None of these changed the alert.
    expect((await get('/v1/alerts/1')).body).toMatchObject({ state: 'open', version: 3 });
  });

  it('streams events recorded after connecting, and replays after Last-Event-ID on reconnect (real server; key in the URL as a browser sends it, then in a header)', async () => {
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    const url = `${address}/v1/alerts/stream`;

    expect((await fetch(url)).status).toBe(401);
    const first = await openStream(`${url}?access_token=${keys.get('viewer')!.key}`, {});
    let lastId: string;
    try {
      expect(first.response.status).toBe(200);
      expect(first.response.headers.get('content-type')).toContain('text/event-stream');
      await first.until((text) => text.includes(': from event 6'));
      await detect(leak('raise', 'S-2', T0 + 2 * DAY, 0.9)); // reopens the cleared alert 2: event 7
      const events = parseEvents(await first.until((text) => parseEvents(text).length >= 1));
      expect(events).toEqual([{ id: '7', event: 'raised', data: expect.objectContaining({ eventId: 7, action: 'raised', actor: 'detector' }) }]);
      expect(events[0]!.data.alert).toMatchObject({ id: 2, state: 'open', version: 3 });
      lastId = events[0]!.id;
    } finally {
      first.close();
    }

    // While the phone is away: two more events.
    await post('/v1/alerts/2/ack', {}, { ...as('sato'), 'if-match': '"3"' });
    await detect(leak('raise', 'S-3', T0 + 3 * DAY, 0.97));

    const again = await openStream(url, { ...as('viewer'), 'last-event-id': lastId });
    try {
      const replayed = parseEvents(await again.until((text) => parseEvents(text).length >= 2));
      expect(replayed.map((e) => [e.id, e.event])).toEqual([
        ['8', 'acknowledged'],
        ['9', 'updated'],
      ]);
      expect(replayed[0]!.data).toMatchObject({ actor: `user:${who('sato')}`, alert: { id: 2, state: 'acknowledged' } });
    } finally {
      again.close();
      // fetch (undici) opens a spare connection when a streamed body is cut
      // off; it never sends a request, so server.close() would wait ~4 s for it.
      app.server.closeAllConnections();
    }
  });
});

/** An SSE response read as it comes, always bounded by a timeout and closed by the caller. */
async function openStream(url: string, headers: Record<string, string>) {
  const abort = new AbortController();
  const response = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: abort.signal });
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  return {
    response,
    /** Reads until `done(text so far)`, or fails after 5 s. */
    async until(done: (text: string) => boolean): Promise<string> {
      const deadline = Date.now() + 5_000;
      while (!done(text)) {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no matching event within 5 s; got:\n${text}`)), Math.max(0, deadline - Date.now()));
        });
        try {
          const chunk = await Promise.race([reader.read(), timeout]);
          if (chunk.done) throw new Error(`stream ended; got:\n${text}`);
          text += decoder.decode(chunk.value, { stream: true });
        } finally {
          clearTimeout(timer);
        }
      }
      return text;
    },
    close(): void {
      abort.abort();
      reader.cancel().catch(() => undefined);
    },
  };
}

/** The events in SSE text (comments and the retry line skipped). */
function parseEvents(text: string): { id: string; event: string; data: Record<string, any> }[] {
  // The part after the last blank line may still be arriving.
  return text
    .split('\n\n')
    .slice(0, -1)
    .filter((block) => block.startsWith('id: '))
    .map((block) => {
      const field = (name: string) => block.split('\n').find((l) => l.startsWith(`${name}: `))!.slice(name.length + 2);
      return { id: field('id'), event: field('event'), data: JSON.parse(field('data')) };
    });
}
