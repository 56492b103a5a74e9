import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ApiKeyStore, NewApiKey } from './api-key-store.ts';

/** The suite every ApiKeyStore implementation must pass; `open` again on the same location sees the same data. */
export interface ApiKeyStoreFixture {
  open(): Promise<ApiKeyStore & { close(): Promise<void> }>;
  dispose(): Promise<void>;
}

const T0 = Date.parse('2026-11-01T00:00:00Z');
const hash = (n: number) => n.toString(16).padStart(64, '0');
const key = (n: number, patch: Partial<NewApiKey> = {}): NewApiKey => ({
  name: `key-${n}`,
  role: 'crew',
  secretHash: hash(n),
  createdAtMs: T0 + n,
  createdBy: 'cli:admin',
  ...patch,
});

export function describeApiKeyStoreContract(name: string, fixture: () => ApiKeyStoreFixture): void {
  describe(`ApiKeyStore contract: ${name}`, () => {
    let f: ApiKeyStoreFixture;
    let store: ApiKeyStore & { close(): Promise<void> };
    beforeEach(async () => {
      f = fixture();
      store = await f.open();
    });
    afterEach(async () => {
      await store.close();
      await f.dispose();
    });

    it('creates keys, finds them by hash only, and lists them by id', async () => {
      const a = await store.createApiKey(key(1, { role: 'billing', name: 'billing-sap' }));
      const b = await store.createApiKey(key(2));
      expect(a).toEqual({ id: a.id, name: 'billing-sap', role: 'billing', createdAtMs: T0 + 1, createdBy: 'cli:admin', lastUsedAtMs: null, revokedAtMs: null, revokedBy: null });
      expect(b.id).toBeGreaterThan(a.id);
      expect(await store.apiKeyByHash(hash(2))).toEqual(b);
      expect(await store.apiKeyByHash(hash(3))).toBeUndefined();
      expect(await store.listApiKeys()).toEqual([a, b]);
      // Nothing the store returns carries the hash.
      expect(JSON.stringify(await store.listApiKeys())).not.toContain(hash(1));
    });

    it('refuses a second key with the same secret hash', async () => {
      await store.createApiKey(key(1));
      await expect(store.createApiKey(key(1, { name: 'other' }))).rejects.toThrow();
      expect(await store.listApiKeys()).toHaveLength(1);
      expect(await store.apiKeyEvents(0, 10)).toHaveLength(1);
    });

    it('revokes once, keeping the key for the record; a second revocation changes nothing', async () => {
      const k = await store.createApiKey(key(1));
      const first = await store.revokeApiKey(k.id, 'cli:ops', T0 + 100);
      expect(first).toEqual({ key: { ...k, revokedAtMs: T0 + 100, revokedBy: 'cli:ops' }, revokedNow: true });
      expect(await store.revokeApiKey(k.id, 'cli:other', T0 + 200)).toEqual({ key: first!.key, revokedNow: false });
      expect(await store.revokeApiKey(999, 'cli:ops', T0)).toBeUndefined();
      expect(await store.apiKeyByHash(hash(1))).toMatchObject({ revokedAtMs: T0 + 100 });
    });

    it('audits who created and revoked which key, oldest first, after a cursor', async () => {
      const a = await store.createApiKey(key(1, { createdBy: 'cli:alice', role: 'admin', name: 'ops' }));
      await store.createApiKey(key(2, { createdBy: 'system:demo' }));
      await store.revokeApiKey(a.id, 'cli:bob', T0 + 50);
      await store.revokeApiKey(a.id, 'cli:bob', T0 + 60);
      const events = await store.apiKeyEvents(0, 10);
      expect(events.map((e) => [e.keyId, e.action, e.actor, e.atMs, e.keyName, e.role])).toEqual([
        [a.id, 'created', 'cli:alice', T0 + 1, 'ops', 'admin'],
        [a.id + 1, 'created', 'system:demo', T0 + 2, 'key-2', 'crew'],
        [a.id, 'revoked', 'cli:bob', T0 + 50, 'ops', 'admin'],
      ]);
      expect(await store.apiKeyEvents(events[0]!.id, 1)).toEqual([events[1]]);
    });

    it('moves last use forward only, and keeps everything across a reopen', async () => {
      const k = await store.createApiKey(key(1));
      await store.touchApiKey(k.id, T0 + 1000);
      await store.touchApiKey(k.id, T0 + 500);
      expect((await store.apiKeyByHash(hash(1)))!.lastUsedAtMs).toBe(T0 + 1000);
      await store.close();
      store = await f.open();
      expect(await store.listApiKeys()).toEqual([{ ...k, lastUsedAtMs: T0 + 1000 }]);
    });
  });
}
