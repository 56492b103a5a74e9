import { expect, it } from 'vitest';
import { describeDeviceCredentialStoreContract } from './device-credential-store-contract.ts';
import { SqliteStore } from './sqlite-store.ts';

describeDeviceCredentialStoreContract('SqliteStore', () => ({
  open: async () => new SqliteStore({ path: ':memory:' }),
  dispose: async () => {},
}));

it('SQLite refuses a hash that is not SHA-256 sized in the schema (CHECK)', async () => {
  const store = new SqliteStore({ path: ':memory:' });
  try {
    await expect(store.issueMqttCredential({ username: 'M-1', role: 'device', secretSha256: new Uint8Array(16), issuedAtMs: 0 })).rejects.toThrow(/CHECK/);
  } finally {
    await store.close();
  }
});
