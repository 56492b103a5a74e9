import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '@suido/ingest';
import { buildApi } from '../build-api.ts';
import { runAdmin } from './admin.ts';

describe('keys commands, on the store file the services use', () => {
  let dir: string;
  let out: string[];
  let err: string[];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'suido-keys-cli-'));
    out = [];
    err = [];
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const admin = (...argv: string[]) =>
    runAdmin(argv, { env: { SUIDO_DATA_DIR: dir, SUIDO_SQLITE_SYNCHRONOUS: 'normal' }, out: (l) => out.push(l), err: (l) => err.push(l), actor: 'cli:hanako' });

  /** Calls GET /v1/alerts with a key on an API over the same file, as the API service would. */
  async function statusWith(key: string): Promise<number> {
    const store = new SqliteStore({ path: join(dir, 'suido.db') });
    const app = await buildApi({ store, registry: new Registry(), log: pino({ level: 'silent' }) });
    try {
      return (await app.inject({ method: 'GET', url: '/v1/alerts', headers: { authorization: `Bearer ${key}` } })).statusCode;
    } finally {
      await app.close();
      await store.close();
    }
  }

  it('creates a key shown once, which the API accepts; the store keeps only its hash; revoking it shuts it out', async () => {
    expect(await admin('keys', 'create', '--role', 'crew', '--name', 'crew-3-tablet')).toBe(0);
    expect(out[0]).toBe("Created API key 1 'crew-3-tablet' (role crew). It is shown this once; only its hash is kept:");
    const key = out[1]!;
    expect(key).toMatch(/^sk_crew_[A-Za-z0-9_-]{43}$/);
    expect(await statusWith(key)).toBe(200);

    // Neither the database nor its WAL holds the key, or its secret part.
    for (const file of readdirSync(dir)) expect(readFileSync(join(dir, file)).includes(key.slice('sk_crew_'.length))).toBe(false);

    out = [];
    expect(await admin('keys', 'create', '--role', 'billing', '--name', 'billing-sap', '--json')).toBe(0);
    expect(JSON.parse(out[0]!)).toEqual({ id: 2, name: 'billing-sap', role: 'billing', key: expect.stringMatching(/^sk_billing_/) });

    out = [];
    expect(await admin('keys', 'revoke', '1')).toBe(0);
    expect(out).toEqual(["Revoked API key 1 'crew-3-tablet' (role crew)."]);
    expect(await statusWith(key)).toBe(401);
    out = [];
    expect(await admin('keys', 'revoke', '1')).toBe(0);
    expect(out[0]).toMatch(/^API key 1 'crew-3-tablet' was already revoked at .* by cli:hanako\.$/);

    out = [];
    expect(await admin('keys', 'list')).toBe(0);
    expect(out[0]).toMatch(/^ID +NAME +ROLE +CREATED +BY +LAST USED \(±15 min\) +REVOKED$/);
    expect(out[1]).toMatch(/^1 +crew-3-tablet +crew +\S+Z +cli:hanako +\S+Z +\S+Z by cli:hanako$/);
    expect(out[2]).toMatch(/^2 +billing-sap +billing +\S+Z +cli:hanako +- +-$/);
    expect(out.join('\n')).not.toContain('sk_');

    out = [];
    expect(await admin('keys', 'audit', '--json')).toBe(0);
    expect(out.map((l) => JSON.parse(l)).map((e) => [e.keyId, e.action, e.keyName, e.role, e.actor])).toEqual([
      [1, 'created', 'crew-3-tablet', 'crew', 'cli:hanako'],
      [2, 'created', 'billing-sap', 'billing', 'cli:hanako'],
      [1, 'revoked', 'crew-3-tablet', 'crew', 'cli:hanako'],
    ]);
  });

  it('refuses a bad role, a bad name, a missing option (usage, 2) and an unknown key (1)', async () => {
    expect(await admin('keys', 'create', '--role', 'root', '--name', 'x')).toBe(2);
    expect(err.at(-1)).toContain("role 'root' must be one of billing, crew, operator, admin");
    expect(await admin('keys', 'create', '--role', 'crew', '--name', 'has space')).toBe(2);
    expect(await admin('keys', 'create', '--role', 'crew')).toBe(2);
    expect(await admin('keys', 'revoke', 'one')).toBe(2);
    expect(await admin('keys', 'revoke', '7')).toBe(1);
    expect(err.at(-1)).toBe('suido-admin: no API key 7 (npm run admin -- keys list)');
    expect(await admin('keys', 'list')).toBe(0);
    expect(out.at(-1)).toContain('No API keys yet');
  });
});
