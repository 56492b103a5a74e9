import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { batch, describeStoreContract, hourlyReads } from './store-contract.ts';
import { MIGRATIONS, SqliteStore } from './sqlite-store.ts';

describeStoreContract('sqlite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'suido-sqlite-'));
  return {
    open: async () => new SqliteStore({ path: join(dir, 'suido.db') }),
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
});

const HOUR = 3_600_000;
const T0 = Date.parse('2026-11-01T00:00:00Z');

describe('sqlite store: what only SQLite can show', () => {
  let dir: string;
  let path: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'suido-sqlite-'));
    path = join(dir, 'suido.db');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses a second not-resolved alert for one source and kind in the schema itself', async () => {
    const store = new SqliteStore({ path });
    await store.close();
    const db = new Database(path);
    const insert = db.prepare(
      `INSERT INTO alerts (kind, source_kind, source_id, state, raised_at, last_seen_at, details, version) VALUES ('leak', 'sensor', 'S-1', ?, 0, 0, '{}', 1)`,
    );
    try {
      insert.run('resolved');
      insert.run('resolved');
      insert.run('cleared');
      expect(() => insert.run('open')).toThrow(/UNIQUE/);
      expect(() => insert.run('acknowledged')).toThrow(/UNIQUE/);
    } finally {
      db.close();
    }
  });

  it('migrates a version 1 database: reads stored before the feed join it, in meter order', async () => {
    const db = new Database(path);
    db.exec(MIGRATIONS[0]!);
    db.pragma('user_version = 1');
    db.prepare(`INSERT INTO devices (key, id, kind) VALUES (1, 'M-2', 'meter'), (2, 'M-1', 'meter')`).run();
    const insert = db.prepare('INSERT INTO meter_reads (meter_key, ts, register_l, flags, received_at) VALUES (?, ?, ?, 0, 0)');
    for (let h = 0; h < 30; h++) insert.run(2, T0 + h * HOUR, 100 + h);
    insert.run(1, T0, 5);
    db.close();

    const store = new SqliteStore({ path });
    try {
      const page = await store.readsAfter(0, 1000);
      // Meter key order (M-2 was registered first), one group per meter and UTC day.
      expect(page.reads.map((r) => r.meterId)).toEqual(['M-2', ...Array<string>(30).fill('M-1')]);
      expect(page.reads.slice(1).map((r) => r.registerL)).toEqual(Array.from({ length: 30 }, (_, h) => 100 + h));
      expect((await store.readsAfter(0, 10)).reads).toHaveLength(1);
      expect((await store.readsAfter(1, 10)).reads).toHaveLength(24);
      await store.commit(batch({ reads: hourlyReads('M-1', 31) }));
      expect((await store.readsAfter(page.cursor, 100)).reads.map((r) => r.ts)).toEqual([T0 + 30 * HOUR]);
    } finally {
      await store.close();
    }
  });

  it('forgets device keys cached by a transaction that rolled back', async () => {
    const store = new SqliteStore({ path });
    try {
      const broken = batch({ reads: hourlyReads('M-NEW', 1), statuses: [{ deviceId: 'X', deviceKind: 'gateway' as never, ts: T0 }] });
      await expect(store.commit(broken)).rejects.toThrow();
      await store.commit(batch({ reads: hourlyReads('M-NEW', 1) }));
      expect(await store.readsInRange('M-NEW', T0, T0 + HOUR, 10)).toHaveLength(1);
    } finally {
      await store.close();
    }
  });
});
