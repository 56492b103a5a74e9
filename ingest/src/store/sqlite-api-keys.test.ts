import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeApiKeyStoreContract } from './api-key-store-contract.ts';
import { SqliteStore } from './sqlite-store.ts';

describeApiKeyStoreContract('SqliteStore', () => {
  const dir = mkdtempSync(join(tmpdir(), 'suido-keys-'));
  return {
    open: async () => new SqliteStore({ path: join(dir, 'suido.db'), synchronous: 'normal' }),
    dispose: async () => rmSync(dir, { recursive: true, force: true }),
  };
});
