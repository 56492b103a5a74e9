import type { FastifyPluginAsync } from 'fastify';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { expect, it, vi } from 'vitest';
import { SqliteStore } from '@suido/ingest';
import { buildApi } from '../build-api.ts';

// The dead-letter routes as shipped, plus one route that forgot its roles.
vi.mock('../dead-letters/dead-letter-routes.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../dead-letters/dead-letter-routes.ts')>();
  const withForgotten: FastifyPluginAsync<{ store: SqliteStore }> = async (app, opts) => {
    await real.deadLetterRoutes(app, opts);
    app.get('/v1/forgotten', async () => 'open to anyone?');
  };
  return { deadLetterRoutes: withForgotten };
});

it('buildApi refuses to start when a route declares no access', async () => {
  const store = new SqliteStore({ path: ':memory:' });
  try {
    await expect(buildApi({ store, registry: new Registry(), log: pino({ level: 'silent' }) })).rejects.toThrow(
      "route GET /v1/forgotten declares no access: add config: { roles: [...] } or { roles: 'public' }",
    );
  } finally {
    await store.close();
  }
});
