import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '@suido/ingest';
import type { FastifyInstance } from 'fastify';
import { generateApiKey, issueApiKey } from '../src/access/api-keys.ts';
import { ROLES, type Role, type RouteAccess } from '../src/access/roles.ts';
import { buildApi } from '../src/build-api.ts';

/**
 * Who may call what, route by route: the access policy written out once
 * more, by hand. The test calls every route fastify knows with every kind of
 * caller; a route missing here (a new one), or here but gone, fails it, so
 * each route's access is decided on purpose. admin is admitted everywhere.
 */
const B: Role = 'billing';
const C: Role = 'crew';
const O: Role = 'operator';
const EXPECTED: Record<string, { readonly admits: RouteAccess; readonly url: string; readonly body?: object }> = {
  'GET /healthz': { admits: 'public', url: '/healthz' },
  'GET /readyz': { admits: 'public', url: '/readyz' },
  'GET /metrics': { admits: [O], url: '/metrics' },
  'GET /crew': { admits: 'public', url: '/crew' },
  'GET /crew/crew.js': { admits: 'public', url: '/crew/crew.js' },
  'GET /crew/crew.css': { admits: 'public', url: '/crew/crew.css' },
  'GET /v1/meters': { admits: [B, O], url: '/v1/meters' },
  'GET /v1/meters/:id': { admits: [B, O, C], url: '/v1/meters/M-1' },
  'GET /v1/meters/:id/reads': { admits: [B, O], url: '/v1/meters/M-1/reads' },
  'GET /v1/meters/:id/register': { admits: [B, O], url: '/v1/meters/M-1/register?at=2026-11-01T00:00:00Z' },
  'GET /v1/billing/reads': { admits: [B, O], url: '/v1/billing/reads?at=2026-11-01' },
  'GET /v1/billing/consumption': { admits: [B, O], url: '/v1/billing/consumption?from=2026-09-01&to=2026-11-01' },
  'GET /v1/meters/:id/replacements': { admits: [B, O], url: '/v1/meters/M-1/replacements' },
  'POST /v1/meters/:id/replacements': { admits: [O], url: '/v1/meters/M-1/replacements', body: {} },
  'GET /v1/dead-letters': { admits: [O], url: '/v1/dead-letters' },
  'GET /v1/alerts': { admits: [C, O], url: '/v1/alerts' },
  'GET /v1/alerts/stream': { admits: [C, O], url: '/v1/alerts/stream' },
  'GET /v1/alerts/:id': { admits: [C, O], url: '/v1/alerts/1' },
  // Without a version these stop at 428 once admitted: the test changes nothing.
  'POST /v1/alerts/:id/ack': { admits: [C], url: '/v1/alerts/1/ack', body: {} },
  'POST /v1/alerts/:id/resolve': { admits: [C], url: '/v1/alerts/1/resolve', body: { resolution: 'repaired' } },
};

type Caller = { readonly name: string; readonly role: Role | null; readonly headers: Record<string, string> };

describe('access to every route, by every kind of caller (real server)', () => {
  let store: SqliteStore;
  let app: FastifyInstance;
  let base: string;
  const callers: Caller[] = [];

  beforeAll(async () => {
    store = new SqliteStore({ path: ':memory:' });
    await store.upsertDevices([{ id: 'M-1', kind: 'meter' }, { id: 'S-1', kind: 'sensor' }]);
    await store.commitAlertChanges({ actor: 'detector', states: [], changes: [{ op: 'raise', kind: 'leak', sourceKind: 'sensor', sourceId: 'S-1', atMs: Date.now(), score: 0.9 }] });
    app = await buildApi({ store, registry: new Registry(), log: pino({ level: 'silent' }), alertStream: { pollMs: 50 } });
    base = await app.listen({ host: '127.0.0.1', port: 0 });

    const revoked = await issueApiKey(store, { role: 'admin', name: 'revoked-admin', by: 'test' });
    await store.revokeApiKey(revoked.record.id, 'test', Date.now());
    callers.push(
      { name: 'no key', role: null, headers: {} },
      { name: 'a revoked admin key', role: null, headers: { authorization: `Bearer ${revoked.key}` } },
      // Well-formed, but never issued.
      { name: 'an unknown key', role: null, headers: { authorization: `Bearer ${generateApiKey('admin')}` } },
      { name: 'not a key', role: null, headers: { 'x-api-key': 'letmein' } },
    );
    for (const role of ROLES) {
      const { key } = await issueApiKey(store, { role, name: `${role}-1`, by: 'test' });
      // Half the roles by each header, so both stay covered.
      callers.push({ name: role, role, headers: role === 'crew' || role === 'admin' ? { authorization: `Bearer ${key}` } : { 'x-api-key': key } });
    }
  });
  afterAll(async () => {
    // The stream's connections would keep close() waiting.
    app.server.closeAllConnections();
    await app.close();
    await store.close();
  });

  it('has an expectation for every route fastify serves, and no more; HEAD routes share their GET route access', () => {
    const rules = app.accessRules;
    const served = rules.filter((r) => r.method !== 'HEAD').map((r) => `${r.method} ${r.url}`);
    expect(served.sort()).toEqual(Object.keys(EXPECTED).sort());
    for (const head of rules.filter((r) => r.method === 'HEAD')) {
      expect(rules.find((r) => r.method === 'GET' && r.url === head.url)).toMatchObject({ roles: head.roles, queryToken: head.queryToken });
    }
  });

  for (const [route, expected] of Object.entries(EXPECTED)) {
    const who = expected.admits === 'public' ? 'public: anyone, with or without a key' : `${[expected.admits].flat().join(', ')} and admin; other roles 403; no key or a bad one 401`;
    it(`${route}: ${who}`, async () => {
      const method = route.split(' ')[0]!;
      for (const caller of callers) {
        const abort = new AbortController();
        const res = await fetch(`${base}${expected.url}`, {
          method,
          headers: { ...caller.headers, ...(expected.body ? { 'content-type': 'application/json' } : {}) },
          body: expected.body ? JSON.stringify(expected.body) : undefined,
          signal: abort.signal,
        });
        const body = (res.headers.get('content-type')?.includes('json') ? await res.json() : undefined) as { code?: string } | undefined;
        abort.abort(); // ends the event stream; nothing else is still open
        const what = `${route} by ${caller.name}: ${res.status} ${JSON.stringify(body)}`;
        if (expected.admits === 'public') {
          expect(res.status, what).toBe(200);
        } else if (caller.role === null) {
          expect(res.status, what).toBe(401);
          expect(body?.code, what).toBe(caller.name === 'no key' ? 'AUTH_REQUIRED' : 'AUTH_INVALID');
          expect(res.headers.get('www-authenticate'), what).toMatch(/^Bearer realm="suido"/);
        } else if (caller.role === 'admin' || expected.admits.includes(caller.role)) {
          // Admitted: whatever the route then says (200, 404, 400, 428), never a refusal or a failure.
          expect([401, 403], what).not.toContain(res.status);
          expect(res.status, what).toBeLessThan(500);
        } else {
          expect(res.status, what).toBe(403);
          expect(body?.code, what).toBe('FORBIDDEN_ROLE');
        }
      }
    });
  }
});
