import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeStoreContract } from './store-contract.ts';
import { SqliteStore } from './sqlite-store.ts';

describeStoreContract('sqlite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'suido-sqlite-'));
  return {
    open: async () => new SqliteStore({ path: join(dir, 'suido.db') }),
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
});
