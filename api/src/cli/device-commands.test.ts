import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore, mqttSecretMatches } from '@suido/ingest';
import { runAdmin } from './admin.ts';

const REGISTRY = [
  'kind,id,district,lat,lon,pipe_id,pipe_material,gateway',
  'meter,M-1,Naka,34.3951,132.4594,,,',
  'meter,M-2,Naka,34.4,132.46,,,hes-1',
  'sensor,S-1,Minami,34.37,132.47,P-0001,ductile_iron,',
].join('\n');

describe('devices commands, on the store file the services use', () => {
  let dir: string;
  let out: string[];
  let err: string[];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'suido-devices-cli-'));
    out = [];
    err = [];
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const admin = (...argv: string[]) => {
    out = [];
    err = [];
    return runAdmin(argv, { env: { SUIDO_DATA_DIR: dir, SUIDO_SQLITE_SYNCHRONOUS: 'normal' }, out: (l) => out.push(l), err: (l) => err.push(l), actor: 'cli:hanako' });
  };
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  async function withStore<T>(f: (store: SqliteStore) => Promise<T>): Promise<T> {
    const store = new SqliteStore({ path: join(dir, 'suido.db') });
    try {
      return await f(store);
    } finally {
      await store.close();
    }
  }

  it('imports a registry file, and again (updates), and refuses a bad one whole, line by line', async () => {
    const good = file('registry.csv', REGISTRY);
    expect(await admin('devices', 'import', good)).toBe(0);
    expect(out).toEqual([`Imported 3 devices from ${good}: 3 new, 0 updated.`]);
    expect(await admin('devices', 'import', good)).toBe(0);
    expect(out).toEqual([`Imported 3 devices from ${good}: 0 new, 3 updated.`]);

    const bad = file('bad.csv', `${REGISTRY}\nmeter,M-3,Naka,34.4,132.46,,,\nvalve,V-1,Naka,34.4,132.46,,,\nsensor,S-2,Naka,34.4,north,P-2,pvc,\n`);
    expect(await admin('devices', 'import', bad)).toBe(1);
    expect(out).toEqual([
      `${bad}:6: REGISTRY_KIND_INVALID (kind): kind 'valve' is not meter or sensor`,
      `${bad}:7: REGISTRY_COORDINATE_INVALID (lon): lon 'north' is not a decimal degree from -180 to 180`,
    ]);
    expect(err).toEqual([`suido-admin: 2 problems in ${bad}; nothing was imported`]);
    expect(await withStore((s) => s.getDevice('M-3'))).toBeUndefined();
    expect(await admin('devices', 'import', join(dir, 'missing.csv'))).toBe(1);
    expect(await admin('devices', 'import')).toBe(2);
  });

  it('issues a secret shown once and stored only as a hash; rotates, lists and revokes', async () => {
    await admin('devices', 'import', file('registry.csv', REGISTRY));
    expect(await admin('devices', 'issue', 'M-1')).toBe(0);
    expect(out[0]).toBe('Issued the MQTT credential of device M-1 (username M-1). The password is shown this once; only its hash is kept:');
    const secret = out[1]!;
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const live = await withStore((s) => s.liveMqttCredential('M-1'));
    expect(mqttSecretMatches(Buffer.from(secret), live!.secretSha256)).toBe(true);
    for (const name of readdirSync(dir)) expect(readFileSync(join(dir, name)).includes(secret), name).toBe(false);

    expect(await admin('devices', 'issue', 'hes-1', '--gateway')).toBe(0);
    expect(await admin('devices', 'issue', '--missing', '--csv')).toBe(0);
    expect(out[0]).toBe('username,password');
    expect(out.slice(1).map((l) => l.split(',')[0])).toEqual(['M-2', 'S-1']);
    expect(await admin('devices', 'issue', '--missing')).toBe(0);
    expect(out).toEqual(['Every registered device has a live credential.']);

    expect(await admin('devices', 'issue', 'M-1')).toBe(0);
    expect(mqttSecretMatches(Buffer.from(secret), (await withStore((s) => s.liveMqttCredential('M-1')))!.secretSha256)).toBe(false);

    expect(await admin('devices', 'revoke', 'M-2')).toBe(0);
    expect(await admin('devices', 'revoke', 'M-2')).toBe(1);
    expect(err[0]).toMatch(/'M-2' has no live MQTT credential/);
    expect(await admin('devices', 'credentials')).toBe(0);
    expect(out.map((l) => l.split(/\s+/).slice(0, 2).join(' '))).toEqual(['USERNAME ROLE', 'M-1 device', 'S-1 device', 'hes-1 gateway']);
    expect(await admin('devices', 'credentials', '--all', '--json')).toBe(0);
    expect(out.map((l) => JSON.parse(l) as { username: string; revokedAt: string | null }).map((c) => [c.username, c.revokedAt === null])).toEqual([
      ['M-1', false],
      ['M-1', true],
      ['M-2', false],
      ['S-1', true],
      ['hes-1', true],
    ]);
    for (const line of out) expect(line).not.toContain(secret);
  });

  it('refuses unknown devices and a gateway id that is a device, with the code', async () => {
    await admin('devices', 'import', file('registry.csv', REGISTRY));
    expect(await admin('devices', 'issue', 'M-404')).toBe(1);
    expect(err[0]).toMatch(/^suido-admin: DEVICE_NOT_REGISTERED: /);
    expect(await admin('devices', 'issue', 'M-1', '--gateway')).toBe(1);
    expect(err[0]).toMatch(/GATEWAY_ID_IS_DEVICE/);
    expect(await admin('devices', 'issue')).toBe(2);
    expect(await admin('devices', 'issue', 'M-1', '--missing')).toBe(2);
  });
});
