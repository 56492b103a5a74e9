import { Writable } from 'node:stream';
import Fastify from 'fastify';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '@suido/ingest';
import type { FastifyInstance } from 'fastify';
import { buildApi } from '../build-api.ts';
import { installAccessControl } from './access-control.ts';
import { issueApiKey } from './api-keys.ts';
import type { RouteAccess } from './roles.ts';

describe('access control', () => {
  let store: SqliteStore;
  let app: FastifyInstance | undefined;
  beforeEach(() => {
    store = new SqliteStore({ path: ':memory:' });
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
    await store.close();
  });

  const build = async (rateLimitPerMinute = 600, log = pino({ level: 'silent' })) =>
    (app = await buildApi({ store, registry: new Registry(), log, rateLimitPerMinute, alertStream: { pollMs: 20 } }));
  const key = async (role: 'billing' | 'crew' | 'operator' | 'admin', name = `${role}-key`) => (await issueApiKey(store, { role, name, by: 'test' })).key;
  const get = (url: string, headers: Record<string, string> = {}) => app!.inject({ method: 'GET', url, headers });

  it('takes the key from Authorization: Bearer (any case) or X-Api-Key, and nothing else', async () => {
    await build();
    const crew = await key('crew');
    expect((await get('/v1/alerts', { authorization: `Bearer ${crew}` })).statusCode).toBe(200);
    expect((await get('/v1/alerts', { authorization: `bearer  ${crew}` })).statusCode).toBe(200);
    expect((await get('/v1/alerts', { 'x-api-key': crew })).statusCode).toBe(200);
    expect((await get('/v1/alerts', { authorization: `Bearer ${crew}`, 'x-api-key': crew })).statusCode).toBe(200);

    // The query token is for the event stream only.
    const inQuery = await get(`/v1/alerts?access_token=${crew}`);
    expect(inQuery.statusCode).toBe(401);
    expect(inQuery.json()).toMatchObject({ code: 'AUTH_REQUIRED' });
    expect(inQuery.headers['www-authenticate']).toBe('Bearer realm="suido"');

    const refused: Record<string, string>[] = [
      { authorization: `Basic ${Buffer.from(`x:${crew}`).toString('base64')}` },
      { authorization: `Bearer ${crew}`, 'x-api-key': await key('crew', 'other') },
      { authorization: `Bearer ${crew}x` },
      { authorization: `Bearer ${crew.replace('sk_crew_', 'sk_admin_')}` },
    ];
    for (const headers of refused) {
      const res = await get('/v1/alerts', headers);
      expect(res.statusCode, JSON.stringify(headers)).toBe(401);
      expect(res.json()).toMatchObject({ statusCode: 401, code: 'AUTH_INVALID' });
      expect(res.headers['www-authenticate']).toBe('Bearer realm="suido", error="invalid_token"');
    }

    const forbidden = await get('/v1/dead-letters', { authorization: `Bearer ${crew}` });
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json()).toMatchObject({ code: 'FORBIDDEN_ROLE', message: "role 'crew' may not call GET /v1/dead-letters; it needs operator or admin" });
    expect(forbidden.headers['www-authenticate']).toBe('Bearer realm="suido", error="insufficient_scope"');
  });

  it('refuses a revoked key at its next request', async () => {
    await build();
    const issued = await issueApiKey(store, { role: 'operator', name: 'ops', by: 'test' });
    const headers = { authorization: `Bearer ${issued.key}` };
    expect((await get('/v1/dead-letters', headers)).statusCode).toBe(200);
    await store.revokeApiKey(issued.record.id, 'cli:admin', Date.now());
    expect((await get('/v1/dead-letters', headers)).json()).toMatchObject({ statusCode: 401, code: 'AUTH_INVALID' });
  });

  it('records last use coarsely: once, not at every request', async () => {
    await build();
    const issued = await issueApiKey(store, { role: 'operator', name: 'ops', by: 'test' });
    const before = Date.now();
    await get('/v1/dead-letters', { 'x-api-key': issued.key });
    const first = (await store.listApiKeys())[0]!.lastUsedAtMs!;
    expect(first).toBeGreaterThanOrEqual(before);
    await new Promise((r) => setTimeout(r, 5));
    await get('/v1/dead-letters', { 'x-api-key': issued.key });
    expect((await store.listApiKeys())[0]!.lastUsedAtMs).toBe(first);
  });

  it('limits requests per key, and per address without a valid key, with 429, Retry-After and a stable code; probes are never limited', async () => {
    await build(3);
    const ops = await key('operator');
    const other = await key('operator', 'other');
    const remaining: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await get('/v1/dead-letters', { 'x-api-key': ops });
      expect(res.statusCode).toBe(200);
      remaining.push(res.headers['x-ratelimit-remaining'] as string);
    }
    expect(remaining).toEqual(['2', '1', '0']);
    const limited = await get('/v1/dead-letters', { 'x-api-key': ops });
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toMatchObject({ statusCode: 429, code: 'RATE_LIMITED' });
    const retryAfter = Number(limited.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // Another key has its own budget.
    expect((await get('/v1/dead-letters', { 'x-api-key': other })).statusCode).toBe(200);

    // Guessing keys from one address is limited like any anonymous caller: 429 before 401.
    const guesses = [];
    for (let i = 0; i < 4; i++) guesses.push((await get('/v1/dead-letters', { 'x-api-key': `sk_admin_${'A'.repeat(42)}${i}` })).statusCode);
    expect(guesses).toEqual([401, 401, 401, 429]);

    for (let i = 0; i < 10; i++) expect((await get('/healthz')).statusCode).toBe(200);
  });

  it('counts a bulk billing export once, however many meters it returns', async () => {
    await build(5);
    await store.upsertDevices(Array.from({ length: 300 }, (_, i) => ({ id: `M-${String(i).padStart(4, '0')}`, kind: 'meter' as const })));
    const billing = await key('billing');
    const first = await get('/v1/billing/reads?at=2026-11-01', { 'x-api-key': billing });
    expect(first.statusCode, first.body.slice(0, 300)).toBe(200);
    expect(first.headers['x-ratelimit-remaining']).toBe('4');
    const second = await get('/v1/billing/reads?at=2026-11-01', { 'x-api-key': billing });
    expect(second.headers['x-ratelimit-remaining']).toBe('3');
  });

  it('keeps keys out of the logs: header values never logged, the stream token masked in the URL', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        done();
      },
    });
    const log = pino({ level: 'info' }, sink);
    await build(600, log);
    const crew = await key('crew');
    const revoked = await issueApiKey(store, { role: 'crew', name: 'gone', by: 'test' });
    await store.revokeApiKey(revoked.record.id, 'test', Date.now());
    await get('/v1/alerts', { authorization: `Bearer ${crew}` });
    await get('/v1/alerts', { 'x-api-key': crew });
    await get('/v1/dead-letters', { authorization: `Bearer ${crew}` }); // 403: logged with the key's id
    // A revoked token in the URL answers 401 at once (a valid one would open the stream).
    await get(`/v1/alerts/stream?access_token=${revoked.key}&x=1`);
    // Anything that logs headers or the query on purpose is redacted too.
    app!.log.info({ req: { headers: { authorization: `Bearer ${crew}`, 'x-api-key': crew }, query: { access_token: crew } } }, 'headers');
    app!.log.info({ headers: { authorization: `Bearer ${crew}` } }, 'bare headers');

    const text = lines.join('\n');
    const secret = (k: string) => k.slice(k.lastIndexOf('_') - 4);
    expect(text).not.toContain(secret(crew));
    expect(text).not.toContain(secret(revoked.key));
    const streamLine = lines.map((l) => JSON.parse(l)).find((l) => l.req?.url?.startsWith('/v1/alerts/stream'));
    expect(streamLine.req.url).toBe('/v1/alerts/stream?access_token=[Redacted]&x=1');
    expect(lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'headers').req).toEqual({
      headers: { authorization: '[Redacted]', 'x-api-key': '[Redacted]' },
      query: { access_token: '[Redacted]' },
    });
    expect(text).toContain('"keyId":1');
  });
});

describe('routes must declare their access', () => {
  const routeWith = async (config: Record<string, unknown> | undefined) => {
    const app = Fastify();
    await installAccessControl(app, { keys: new SqliteStore({ path: ':memory:' }), rateLimitPerMinute: 0 });
    try {
      app.get('/x', config === undefined ? {} : { config: config as { roles: RouteAccess } }, async () => 'x');
      await app.ready();
    } finally {
      await app.close();
    }
  };

  it('refuses, at start-up, a route without roles, with an empty or unknown role, or a public route taking a token', async () => {
    await expect(routeWith(undefined)).rejects.toThrow("route GET /x declares no access: add config: { roles: [...] } or { roles: 'public' }");
    await expect(routeWith({})).rejects.toThrow('declares no access');
    await expect(routeWith({ roles: [] })).rejects.toThrow("config.roles must be 'public' or a non-empty list of billing, crew, operator, admin");
    await expect(routeWith({ roles: ['root'] })).rejects.toThrow('config.roles must be');
    await expect(routeWith({ roles: 'public', queryToken: true })).rejects.toThrow('a public route takes no token');
    await expect(routeWith({ roles: ['crew'] })).resolves.toBeUndefined();
  });
});
