import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore, type MeterRead } from '@suido/ingest';
import type { FastifyInstance } from 'fastify';
import { issueApiKey } from './access/api-keys.ts';
import { buildApi } from './build-api.ts';

const T0 = Date.parse('2026-11-01T00:00:00Z');
const HOUR = 3_600_000;
const reads = (meterId: string, n: number): MeterRead[] =>
  Array.from({ length: n }, (_, h) => ({ meterId, ts: T0 + h * HOUR, registerL: 10_000 + h * 11, flags: h === 3 ? ['reverse'] : [] }));

describe('API on a real SQLite store', () => {
  let store: SqliteStore;
  let app: FastifyInstance;
  let authorization: string;

  beforeEach(async () => {
    store = new SqliteStore({ path: ':memory:' });
    await store.upsertDevices([
      { id: 'M-1', kind: 'meter', district: 'naka', lat: 34.39, lon: 132.45 },
      { id: 'M-2', kind: 'meter', district: 'minami' },
      { id: 'M-3', kind: 'meter', district: 'naka' },
      { id: 'S-1', kind: 'sensor', district: 'naka', pipeMaterial: 'steel' },
    ]);
    const payload = Buffer.from('{"reads":');
    await store.commit({
      receivedAtMs: T0 + 48 * HOUR,
      reads: reads('M-1', 48),
      frames: [],
      statuses: [{ deviceId: 'M-1', deviceKind: 'meter', ts: T0, batteryPct: 77, firmware: '3.0.1' }],
      deadLetters: [
        { receivedAtMs: T0, clientId: 'x', topic: 'water/v1/meters/M-2/reads', code: 'READS_JSON_INVALID', message: 'not JSON', payload, payloadBytes: 100 },
      ],
    });
    app = await buildApi({ store, registry: new Registry(), log: pino({ level: 'silent' }) });
    authorization = `Bearer ${(await issueApiKey(store, { role: 'operator', name: 'ops', by: 'test' })).key}`;
  });
  afterEach(async () => {
    await app.close();
    await store.close();
  });

  const get = async (url: string) => {
    const res = await app.inject({ method: 'GET', url, headers: { authorization } });
    return { status: res.statusCode, body: res.headers['content-type']?.toString().includes('json') ? res.json() : res.body };
  };

  it('lists meters a page at a time, by district', async () => {
    const page1 = await get('/v1/meters?limit=2');
    expect(page1.status).toBe(200);
    expect(page1.body.items.map((m: { id: string }) => m.id)).toEqual(['M-1', 'M-2']);
    expect(page1.body.next).toBe('M-2');
    const page2 = await get(`/v1/meters?limit=2&after=${page1.body.next}`);
    expect(page2.body).toMatchObject({ items: [{ id: 'M-3' }], next: null });
    const naka = await get('/v1/meters?district=naka');
    expect(naka.body.items.map((m: { id: string }) => m.id)).toEqual(['M-1', 'M-3']);
  });

  it('shows one meter with its latest read and status', async () => {
    const res = await get('/v1/meters/M-1');
    expect(res).toEqual({
      status: 200,
      body: {
        id: 'M-1',
        district: 'naka',
        lat: 34.39,
        lon: 132.45,
        firstSeen: new Date(T0 + 48 * HOUR).toISOString(),
        lastSeen: new Date(T0 + 48 * HOUR).toISOString(),
        batteryPct: 77,
        firmware: '3.0.1',
        latestRead: { ts: new Date(T0 + 47 * HOUR).toISOString(), registerL: 10_000 + 47 * 11, flags: [] },
      },
    });
  });

  it('answers 404 with a code for an unknown meter, and for a sensor id', async () => {
    expect(await get('/v1/meters/M-404')).toMatchObject({ status: 404, body: { code: 'METER_NOT_FOUND' } });
    expect(await get('/v1/meters/S-1')).toMatchObject({ status: 404, body: { code: 'METER_NOT_FOUND' } });
    expect(await get('/v1/nothing')).toMatchObject({ status: 404, body: { code: 'ROUTE_NOT_FOUND' } });
  });

  it('returns reads in a half-open range, in any offset, and pages through them', async () => {
    const res = await get(`/v1/meters/M-1/reads?from=2026-11-01T09:00:00%2B09:00&to=2026-11-01T05:00:00Z`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      meterId: 'M-1',
      from: '2026-11-01T00:00:00.000Z',
      to: '2026-11-01T05:00:00.000Z',
      reads: reads('M-1', 5).map((r) => ({ ts: new Date(r.ts).toISOString(), registerL: r.registerL, flags: [...r.flags] })),
      next: null,
    });
    const all: number[] = [];
    let url = `/v1/meters/M-1/reads?from=2026-11-01T00:00:00Z&to=2026-11-03T00:00:00Z&limit=20`;
    for (let pages = 0; pages < 5; pages++) {
      const page = await get(url);
      all.push(...page.body.reads.map((r: { registerL: number }) => r.registerL));
      if (page.body.next === null) break;
      url = `/v1/meters/M-1/reads?from=${encodeURIComponent(page.body.next)}&to=2026-11-03T00:00:00Z&limit=20`;
    }
    expect(all).toEqual(reads('M-1', 48).map((r) => r.registerL));
  });

  it('refuses bad queries with a code and a message', async () => {
    expect(await get('/v1/meters/M-1/reads?from=yesterday')).toMatchObject({ status: 400, body: { code: 'TIME_INVALID' } });
    expect(await get('/v1/meters/M-1/reads?from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z')).toMatchObject({
      status: 400,
      body: { code: 'RANGE_INVALID' },
    });
    expect(await get('/v1/meters/M-1/reads?limit=100000')).toMatchObject({ status: 400, body: { code: 'REQUEST_INVALID' } });
    expect(await get('/v1/meters/bad%2Fid/reads')).toMatchObject({ status: 400, body: { code: 'REQUEST_INVALID' } });
  });

  it('answers the register at an instant: actual, interpolated, extrapolated only when asked, or missing', async () => {
    expect((await get('/v1/meters/M-1/register?at=2026-11-01T03:00:00Z')).body).toMatchObject({ quality: 'actual', registerL: 10_033, method: null });
    const half = await get('/v1/meters/M-1/register?at=2026-11-01T03:30:00%2B00:00');
    expect(half.body).toEqual({
      meterId: 'M-1',
      at: '2026-11-01T03:30:00.000Z',
      quality: 'estimated',
      registerL: 10_038,
      method: 'interpolated',
      rollover: false,
      basis: [
        { ts: '2026-11-01T03:00:00.000Z', registerL: 10_033, source: 'read' },
        { ts: '2026-11-01T04:00:00.000Z', registerL: 10_044, source: 'read' },
      ],
      reason: null,
      laterReads: false,
      asOf: 1,
      asOfTime: new Date(T0 + 48 * HOUR).toISOString(),
    });
    const after = '2026-11-03T05:00:00Z'; // 6 h after the last read
    expect((await get(`/v1/meters/M-1/register?at=${after}`)).body).toMatchObject({ quality: 'missing', registerL: null, reason: 'NO_READ_AFTER' });
    expect((await get(`/v1/meters/M-1/register?at=${after}&extrapolate=true`)).body).toMatchObject({ quality: 'estimated', method: 'extrapolated', registerL: 10_000 + 47 * 11 + 66 });
    expect((await get('/v1/meters/M-1/register?at=2026-10-01T00:00:00Z')).body).toMatchObject({ quality: 'missing', reason: 'NO_READ_BEFORE' });
    expect(await get('/v1/meters/M-404/register?at=2026-11-01T03:00:00Z')).toMatchObject({ status: 404, body: { code: 'METER_NOT_FOUND' } });
    expect(await get('/v1/meters/M-1/register?at=noon')).toMatchObject({ status: 400, body: { code: 'TIME_INVALID' } });
    expect(await get('/v1/meters/M-1/register')).toMatchObject({ status: 400, body: { code: 'REQUEST_INVALID' } });
  });

  it('shows dead letters with their payload', async () => {
    const res = await get('/v1/dead-letters?code=READS_JSON_INVALID');
    expect(res.body.items).toEqual([
      {
        id: 1,
        receivedAt: new Date(T0).toISOString(),
        clientId: 'x',
        topic: 'water/v1/meters/M-2/reads',
        code: 'READS_JSON_INVALID',
        message: 'not JSON',
        payloadBytes: 100,
        payloadBase64: Buffer.from('{"reads":').toString('base64'),
        truncated: true,
      },
    ]);
    expect(await get('/v1/dead-letters?code=NOPE')).toMatchObject({ status: 400, body: { code: 'REQUEST_INVALID' } });
  });

  it('serves health, readiness and metrics', async () => {
    expect(await get('/healthz')).toEqual({ status: 200, body: { status: 'ok' } });
    expect(await get('/readyz')).toEqual({ status: 200, body: { status: 'ready' } });
    await get('/v1/meters/M-1');
    const metrics = await get('/metrics');
    expect(metrics.body).toContain('suido_http_request_duration_seconds_count{route="/v1/meters/:id",method="GET",status="200"} 1');
    await store.close();
    expect(await get('/readyz')).toEqual({ status: 503, body: { status: 'not ready' } });
  });
});
