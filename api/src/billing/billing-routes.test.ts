import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore, type MeterRead } from '@suido/ingest';
import { issueApiKey } from '../access/api-keys.ts';
import { buildApi } from '../build-api.ts';

// Local midnight of 2026-11-01 in Asia/Tokyo, the default billing zone.
const T0 = Date.parse('2026-10-31T15:00:00Z');
const H = 3_600_000;
const at = (hours: number) => new Date(T0 + hours * H).toISOString();
const read = (meterId: string, hours: number, registerL: number): MeterRead => ({ meterId, ts: T0 + hours * H, registerL, flags: [] });

type Row = Record<string, unknown> & { meterId: string };
const ndjson = (body: string): Row[] => body.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Row);

/** RFC 4180 rows (quoted fields, CRLF), enough to check what the API writes. */
function parseCsv(body: string): string[][] {
  const rows: string[][] = [];
  let field = '';
  let row: string[] = [];
  let quoted = false;
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (quoted) {
      if (ch === '"' && body[i + 1] === '"') (field += '"'), i++;
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') row.push(field), (field = '');
    else if (ch === '\r' && body[i + 1] === '\n') {
      row.push(field), rows.push(row), (row = []), (field = ''), i++;
    } else field += ch;
  }
  return rows;
}

describe('billing routes on a real SQLite store', () => {
  let store: SqliteStore;
  let app: FastifyInstance;
  let billing: string;
  let operator: string;

  const commit = (receivedAtMs: number, reads: MeterRead[]) => store.commit({ receivedAtMs, reads, frames: [], statuses: [], deadLetters: [] });

  beforeEach(async () => {
    store = new SqliteStore({ path: ':memory:' });
    await store.upsertDevices([
      { id: 'M-A', kind: 'meter', district: 'naka' },
      { id: 'M-B', kind: 'meter', district: 'naka' },
      { id: 'M-C', kind: 'meter', district: 'minami' },
      { id: 'M-D', kind: 'meter', district: 'minami', registerMaxL: 9_999 },
      { id: 'M-E', kind: 'meter', district: 'minami' },
      { id: 'M-F', kind: 'meter', district: 'minami' },
      { id: 'S-1', kind: 'sensor', district: 'naka' },
    ]);
    await commit(T0 + 30 * H, [
      // M-A: hourly, one read exactly at the cut-off.
      ...Array.from({ length: 36 }, (_, i) => read('M-A', i - 30, 1_000 + 10 * (i - 30 + 30))),
      // M-B: the cut-off falls between reads 5 h apart.
      read('M-B', -24, 200),
      read('M-B', -2, 300),
      read('M-B', 3, 350),
      // M-C: 60 h between reads, over BILLING_MAX_GAP_HOURS.
      read('M-C', -40, 70),
      read('M-C', 20, 90),
      // M-D: a 4-digit register rolls over between its reads.
      read('M-D', -24, 9_000),
      read('M-D', -1, 9_990),
      read('M-D', 1, 10),
      // M-E: replaced an hour before the cut-off (recorded below).
      read('M-E', -24, 4_800),
      read('M-E', -3, 4_990),
      read('M-E', 2, 6),
      // M-F: a register that went down.
      read('M-F', -24, 500),
      read('M-F', 0, 400),
    ]);
    app = await buildApi({ store, registry: new Registry(), log: pino({ level: 'silent' }) });
    billing = `Bearer ${(await issueApiKey(store, { role: 'billing', name: 'billing', by: 'test' })).key}`;
    operator = `Bearer ${(await issueApiKey(store, { role: 'operator', name: 'ops', by: 'test' })).key}`;
    const replaced = await app.inject({
      method: 'POST',
      url: '/v1/meters/M-E/replacements',
      headers: { authorization: operator },
      payload: { at: at(-1), oldFinalL: 5_000, newInitialL: 0, note: 'register stuck' },
    });
    expect(replaced.statusCode).toBe(201);
  });
  afterEach(async () => {
    await app.close();
    await store.close();
  });

  const get = async (url: string, accept = 'application/x-ndjson') => {
    const res = await app.inject({ method: 'GET', url, headers: { authorization: billing, accept } });
    return { status: res.statusCode, headers: res.headers, body: res.body };
  };
  const rows = async (url: string) => {
    const res = await get(url);
    expect(res.status).toBe(200);
    return Object.fromEntries(ndjson(res.body).map((r) => [r.meterId, r]));
  };

  it('exports the register at a cut-off: actual, interpolated naming its reads, missing with a reason, rollover, replacement', async () => {
    const byId = await rows('/v1/billing/reads?at=2026-11-01');
    expect(Object.keys(byId)).toEqual(['M-A', 'M-B', 'M-C', 'M-D', 'M-E', 'M-F']);
    expect(byId['M-A']).toMatchObject({ at: at(0), quality: 'actual', registerL: 1_300, method: null, basis: [{ ts: at(0), registerL: 1_300, source: 'read' }] });
    expect(byId['M-B']).toMatchObject({
      quality: 'estimated',
      registerL: 320,
      method: 'interpolated',
      basis: [
        { ts: at(-2), registerL: 300, source: 'read' },
        { ts: at(3), registerL: 350, source: 'read' },
      ],
      reason: null,
    });
    expect(byId['M-C']).toMatchObject({ quality: 'missing', registerL: null, reason: 'GAP_TOO_LONG' });
    expect(byId['M-D']).toMatchObject({ quality: 'estimated', registerL: 0, rollover: true });
    // The new register's first value (0 at −1 h) and its next read (6 at +2 h): the old reads are not used.
    expect(byId['M-E']).toMatchObject({
      quality: 'estimated',
      registerL: 2,
      basis: [
        { ts: at(-1), registerL: 0, source: 'replacement' },
        { ts: at(2), registerL: 6, source: 'read' },
      ],
    });
    expect(byId['M-F']).toMatchObject({ quality: 'actual', registerL: 400 });
    // The single-meter route answers through the same function.
    const single = await app.inject({ method: 'GET', url: '/v1/meters/M-E/register?at=2026-11-01', headers: { authorization: billing } });
    const { laterReads, asOf, ...fromExport } = byId['M-E']!;
    expect(single.json()).toMatchObject({ ...fromExport, laterReads, asOf });
  });

  it('answers consumption between two cut-offs, across a rollover and a replacement, and errors instead of a negative number', async () => {
    const byId = await rows('/v1/billing/consumption?from=2026-10-31&to=2026-11-01');
    expect(byId['M-A']).toMatchObject({ from: at(-24), to: at(0), quality: 'actual', consumptionL: 240, reason: null });
    expect(byId['M-A']!.start).toMatchObject({ quality: 'actual', registerL: 1_060 });
    expect(byId['M-B']).toMatchObject({ quality: 'estimated', consumptionL: 120, end: { quality: 'estimated', method: 'interpolated' } });
    expect(byId['M-C']).toMatchObject({ quality: 'missing', consumptionL: null, reason: 'FROM_MISSING' });
    expect(byId['M-D']).toMatchObject({ quality: 'estimated', consumptionL: 1_000, rollover: true });
    // (old final − start) + (end − new initial) = (5,000 − 4,800) + (2 − 0).
    expect(byId['M-E']).toMatchObject({ consumptionL: 202, replacements: [{ at: at(-1), oldFinalL: 5_000, newInitialL: 0 }] });
    expect(byId['M-F']).toMatchObject({ quality: 'error', consumptionL: null, reason: 'NEGATIVE_CONSUMPTION' });
    expect((await get('/v1/billing/consumption?from=2026-11-01&to=2026-10-31')).status).toBe(400);
  });

  it('reproduces an answer as of its watermark after a late read changed it, and says so', async () => {
    const first = await get('/v1/billing/reads?at=2026-11-01&meterId=M-B,M-A');
    const asOf = Number(first.headers['x-as-of']);
    expect(first.headers['x-as-of-time']).toBeDefined();
    const before = ndjson(first.body);
    expect(before.map((r) => [r.meterId, r.registerL, r.laterReads, r.asOf])).toEqual([
      ['M-A', 1_300, false, asOf],
      ['M-B', 320, false, asOf],
    ]);
    // A read stored late, inside M-B's interpolation.
    await commit(T0 + 50 * H, [read('M-B', -1, 340)]);
    const now = ndjson((await get('/v1/billing/reads?at=2026-11-01&meterId=M-A&meterId=M-B')).body);
    expect(now[1]).toMatchObject({ registerL: 342, basis: [{ ts: at(-1) }, { ts: at(3) }], laterReads: false });
    expect(now[1]!.asOf).toBeGreaterThan(asOf);
    const again = await get(`/v1/billing/reads?at=2026-11-01&meterId=M-A,M-B&asOf=${asOf}`);
    expect(again.headers['x-as-of']).toBe(String(asOf));
    expect(Number(again.headers['x-latest-arrival'])).toBeGreaterThan(asOf);
    const reproduced = ndjson(again.body);
    // The same answer, row for row; only M-B's row says a later read would change it.
    expect(reproduced.map(({ laterReads: _, ...r }) => r)).toEqual(before.map(({ laterReads: _, ...r }) => r));
    expect(reproduced.map((r) => r.laterReads)).toEqual([false, true]);
    const single = await app.inject({ method: 'GET', url: `/v1/meters/M-B/register?at=2026-11-01&asOf=${asOf}`, headers: { authorization: billing } });
    expect(single.json()).toMatchObject({ registerL: 320, laterReads: true, asOf });
    expect((await get(`/v1/billing/reads?at=2026-11-01&asOf=${Number(again.headers['x-latest-arrival']) + 1}`)).status).toBe(400);
    // A replacement recorded later is a later arrival too.
    await app.inject({ method: 'POST', url: '/v1/meters/M-A/replacements', headers: { authorization: operator }, payload: { at: at(-5), oldFinalL: 1_250, newInitialL: 3 } });
    const replayed = ndjson((await get(`/v1/billing/consumption?from=2026-10-31&to=2026-11-01&meterId=M-A&asOf=${asOf}`)).body);
    expect(replayed[0]).toMatchObject({ consumptionL: 240, replacements: [], laterReads: true });
  });

  it('gives the same rows as CSV and as NDJSON', async () => {
    for (const url of ['/v1/billing/reads?at=2026-11-01', '/v1/billing/consumption?from=2026-10-31&to=2026-11-01']) {
      const json = ndjson((await get(url)).body);
      const csvRes = await get(url, 'text/csv');
      expect(csvRes.headers['content-type']).toMatch(/^text\/csv/);
      const [header, ...lines] = parseCsv(csvRes.body);
      expect(lines).toHaveLength(json.length);
      const text = (v: unknown) => (v === null ? '' : String(v));
      const basis = (b: unknown) => (b as { ts: string; registerL: number; source: string }[]).map((p) => `${p.source}@${p.ts}=${p.registerL}`).join(';');
      const flat = (r: Row): Record<string, string> => {
        const out: Record<string, string> = {};
        for (const [k, v] of Object.entries(r)) {
          if (k === 'basis') out.basis = basis(v);
          else if (k === 'start' || k === 'end') {
            for (const [kk, vv] of Object.entries(v as Row)) out[k + kk[0]!.toUpperCase() + kk.slice(1)] = kk === 'basis' ? basis(vv) : text(vv);
          } else if (k === 'replacements') out.replacements = (v as { at: string; oldFinalL: number; newInitialL: number }[]).map((x) => `${x.at}=${x.oldFinalL}>${x.newInitialL}`).join(';');
          else out[k] = text(v);
        }
        return out;
      };
      lines.forEach((line, i) => {
        const expected = flat(json[i]!);
        expect(Object.fromEntries(header!.map((h, j) => [h, line[j]]))).toEqual(expected);
      });
    }
  });

  it('negotiates the format, and refuses with 406 what it cannot write', async () => {
    expect((await get('/v1/billing/reads?at=2026-11-01', 'text/csv;q=0.9, application/x-ndjson;q=0.5')).headers['content-type']).toMatch(/^text\/csv/);
    expect((await get('/v1/billing/reads?at=2026-11-01', '*/*')).headers['content-type']).toMatch(/^application\/x-ndjson/);
    const refused = await get('/v1/billing/reads?at=2026-11-01', 'application/json');
    expect(refused.status).toBe(406);
    expect(JSON.parse(refused.body)).toMatchObject({ code: 'NOT_ACCEPTABLE' });
  });

  it('selects by list (unknown ids answer METER_UNKNOWN) or district, and reads dates in the billing zone', async () => {
    const listed = ndjson((await get('/v1/billing/reads?at=2026-11-01T00:00:00%2B09:00&meterId=M-C,NOPE,S-1,M-A')).body);
    expect(listed.map((r) => [r.meterId, r.reason])).toEqual([
      ['M-A', null],
      ['M-C', 'GAP_TOO_LONG'],
      ['NOPE', 'METER_UNKNOWN'],
      ['S-1', 'METER_UNKNOWN'],
    ]);
    expect(listed[0]!.at).toBe('2026-10-31T15:00:00.000Z');
    expect(ndjson((await get('/v1/billing/reads?at=2026-11-01&district=naka')).body).map((r) => r.meterId)).toEqual(['M-A', 'M-B']);
    expect((await get('/v1/billing/reads?at=2026-11-01&district=naka&meterId=M-A')).status).toBe(400);
    expect((await get('/v1/billing/reads?at=2026-02-30')).status).toBe(400);
    expect((await get('/v1/billing/reads?at=2026-11-01T00:00:00')).status).toBe(400);
  });

  it('records replacements for operators only, idempotently, and refuses another at the same instant', async () => {
    const url = '/v1/meters/M-E/replacements';
    const post = (authorization: string, payload: object) => app.inject({ method: 'POST', url, headers: { authorization }, payload });
    expect((await post(billing, { at: at(-1), oldFinalL: 5_000, newInitialL: 0 })).statusCode).toBe(403);
    const replay = await post(operator, { at: at(-1), oldFinalL: 5_000, newInitialL: 0 });
    expect(replay.statusCode).toBe(200);
    expect(replay.json()).toMatchObject({ meterId: 'M-E', at: at(-1), note: 'register stuck', recordedBy: expect.stringMatching(/^key:\d+:ops$/) });
    const conflict = await post(operator, { at: at(-1), oldFinalL: 5_001, newInitialL: 0 });
    expect(conflict.statusCode).toBe(409);
    expect(conflict.json()).toMatchObject({ code: 'REPLACEMENT_CONFLICT', current: { oldFinalL: 5_000 } });
    expect((await post(operator, { at: at(-2), oldFinalL: 100_000_000, newInitialL: 0 })).json()).toMatchObject({ code: 'REPLACEMENT_INVALID' });
    const listed = await app.inject({ method: 'GET', url, headers: { authorization: billing } });
    expect(listed.json().items.map((r: { at: string }) => r.at)).toEqual([at(-1)]);
  });
});

describe('billing export paging', () => {
  let store: SqliteStore;
  let app: FastifyInstance;
  let billing: string;

  beforeEach(async () => {
    store = new SqliteStore({ path: ':memory:' });
    // More meters than one internal batch (2,000), so that a page spans batches.
    const ids = Array.from({ length: 2_050 }, (_, i) => `M-${String(i).padStart(5, '0')}`);
    await store.upsertDevices(ids.map((id) => ({ id, kind: 'meter' as const })));
    await store.commit({ receivedAtMs: T0 + H, reads: ids.map((id, i) => read(id, 0, i)), frames: [], statuses: [], deadLetters: [] });
    app = await buildApi({ store, registry: new Registry(), log: pino({ level: 'silent' }) });
    billing = `Bearer ${(await issueApiKey(store, { role: 'billing', name: 'billing', by: 'test' })).key}`;
  });
  afterEach(async () => {
    await app.close();
    await store.close();
  });

  it('covers every meter exactly once, in id order, all pages as of the first page', async () => {
    const seen: string[] = [];
    let url: string | undefined = '/v1/billing/reads?at=2026-11-01&limit=900';
    const counts: number[] = [];
    let asOf: number | undefined;
    while (url !== undefined) {
      const res: Awaited<ReturnType<FastifyInstance['inject']>> = await app.inject({ method: 'GET', url, headers: { authorization: billing } });
      expect(res.statusCode).toBe(200);
      const page = ndjson(res.body);
      expect(page).toHaveLength(Number(res.headers['x-row-count']));
      counts.push(page.length);
      seen.push(...page.map((r) => r.meterId));
      asOf ??= page[0]!.asOf as number;
      expect(page.every((r) => r.asOf === asOf && r.quality === 'actual')).toBe(true);
      const next = res.headers['x-next-cursor'] as string | undefined;
      if (next !== undefined) expect(res.headers.link).toBe(`</v1/billing/reads?at=2026-11-01&limit=900&cursor=${next}>; rel="next"`);
      // A read that arrives mid-export does not reach the later pages' answers.
      if (counts.length === 1) await store.commit({ receivedAtMs: T0 + 2 * H, reads: [read('M-02049', -1, 0)], frames: [], statuses: [], deadLetters: [] });
      url = next === undefined ? undefined : (res.headers.link as string).slice(1, (res.headers.link as string).indexOf('>'));
    }
    expect(counts).toEqual([900, 900, 250]);
    expect(seen).toEqual([...seen].sort());
    expect(new Set(seen).size).toBe(2_050);
    const last = ndjson((await app.inject({ method: 'GET', url: `/v1/billing/reads?at=2026-11-01&meterId=M-02049&asOf=${asOf}`, headers: { authorization: billing } })).body);
    expect(last[0]).toMatchObject({ quality: 'actual', laterReads: false });
    expect((await app.inject({ method: 'GET', url: '/v1/billing/reads?at=2026-11-01&cursor=bogus', headers: { authorization: billing } })).json()).toMatchObject({
      code: 'CURSOR_INVALID',
    });
  });
});
