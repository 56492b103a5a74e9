import { describe, expect, it } from 'vitest';
import { EnvReader } from '../../config/env-reader.ts';
import { readStoreConfig } from '../../config/ingest-config.ts';
import { redactedUrl } from './pg-pool.ts';

const read = (env: Record<string, string>) => {
  const r = new EnvReader({ SUIDO_DATA_DIR: '/tmp/x', ...env });
  const config = readStoreConfig(r);
  r.finish();
  return config;
};

const URL_WITH_PASSWORD = 'postgresql://suido:hunter2-secret@db.example:5432/suido';

describe('PostgreSQL configuration', () => {
  it('selects PostgreSQL for everything with SUIDO_STORE=postgres and DATABASE_URL', () => {
    expect(read({ SUIDO_STORE: 'postgres', DATABASE_URL: URL_WITH_PASSWORD })).toEqual({
      kind: 'postgres',
      postgres: { url: URL_WITH_PASSWORD, schema: 'public', poolMax: 10 },
    });
    expect(read({ SUIDO_STORE: 'postgres', DATABASE_URL: URL_WITH_PASSWORD, DATABASE_SCHEMA: 'suido', DATABASE_POOL_MAX: '30' })).toMatchObject({
      postgres: { schema: 'suido', poolMax: 30 },
    });
  });

  it('puts the state of an InfluxDB deployment in PostgreSQL when DATABASE_URL is set, in SQLite otherwise', () => {
    expect(read({ SUIDO_STORE: 'influxdb', DATABASE_URL: URL_WITH_PASSWORD })).toMatchObject({ kind: 'influxdb', postgres: { url: URL_WITH_PASSWORD } });
    expect(read({ SUIDO_STORE: 'influxdb' })).toMatchObject({ kind: 'influxdb', path: '/tmp/x/suido.db', postgres: undefined });
  });

  it('fails at start-up naming the variable, never showing the URL', () => {
    const problems = (env: Record<string, string>) => {
      try {
        read(env);
      } catch (err) {
        return (err as Error).message;
      }
      throw new Error('no problem reported');
    };
    expect(problems({ SUIDO_STORE: 'postgres' })).toMatch(/SUIDO_STORE=postgres needs DATABASE_URL/);
    expect(problems({ DATABASE_URL: URL_WITH_PASSWORD })).toMatch(/DATABASE_URL is set but SUIDO_STORE is sqlite/);
    for (const bad of ['mysql://u:hunter2-secret@h/db', 'hunter2-secret', 'postgresql://u:hunter2-secret@/db']) {
      const message = problems({ SUIDO_STORE: 'postgres', DATABASE_URL: bad });
      expect(message).toMatch(/DATABASE_URL/);
      expect(message).not.toContain('hunter2');
    }
    expect(problems({ SUIDO_STORE: 'postgres', DATABASE_URL: URL_WITH_PASSWORD, DATABASE_SCHEMA: 'Bad-Name' })).toMatch(/DATABASE_SCHEMA/);
  });

  it('accepts a Unix socket given as ?host=', () => {
    expect(read({ SUIDO_STORE: 'postgres', DATABASE_URL: 'postgresql:///suido?host=/var/run/postgresql' })).toMatchObject({ kind: 'postgres' });
  });

  it('names a database without its password, in the URL or its query', () => {
    expect(redactedUrl(URL_WITH_PASSWORD)).toBe('postgresql://suido@db.example:5432/suido');
    expect(redactedUrl('postgres://db.example/suido?password=hunter2-secret&sslmode=require')).toBe('postgres://db.example/suido');
    expect(redactedUrl('not a url hunter2-secret')).not.toContain('hunter2');
  });
});
