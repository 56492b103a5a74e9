import { startPostgres, type RunningPostgres } from '@suido/infra/services';
import { PG_MIGRATE_LOCK_ID } from 'node-pg-migrate';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { describeApiKeyStoreContract } from '../src/store/api-key-store-contract.ts';
import { describeDeviceCredentialStoreContract } from '../src/store/device-credential-store-contract.ts';
import { AlertError, type AlertChange } from '../src/store/alert-lifecycle.ts';
import { MIGRATIONS_TABLE } from '../src/store/postgres/pg-migrate.ts';
import { PostgresStore } from '../src/store/postgres/postgres-store.ts';
import { batch, describeStoreContract, hourlyReads } from '../src/store/store-contract.ts';
import { ConsumerStateConflictError, type LeakScore } from '../src/store/store.ts';

const HOUR = 3_600_000;
const T0 = Date.parse('2026-11-01T00:00:00Z');

// One server for the whole file (initdb and start cost seconds of a shared CPU); one schema per test.
let server: RunningPostgres;
let admin: pg.Pool;
beforeAll(async () => {
  server = await startPostgres();
  admin = new pg.Pool({ connectionString: server.url, max: 4 });
  // The server's shutdown ends idle connections (57P01): not a test failure.
  admin.on('error', () => {});
}, 60_000);
afterAll(async () => {
  await admin?.end();
  await server?.stop();
});

let schemas = 0;
const newSchema = () => `t${process.pid}_${++schemas}`;
const dropSchema = async (schema: string) => {
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
};
const open = (schema: string, poolMax = 4) => new PostgresStore({ url: server.url, schema, poolMax });

describeStoreContract('postgresql', async () => {
  const schema = newSchema();
  return { open: async () => open(schema), dispose: () => dropSchema(schema) };
});

describeApiKeyStoreContract('PostgresStore', () => {
  const schema = newSchema();
  return { open: async () => open(schema), dispose: () => dropSchema(schema) };
});

describeDeviceCredentialStoreContract('PostgresStore', () => {
  const schema = newSchema();
  return { open: async () => open(schema), dispose: () => dropSchema(schema) };
});

function raise(sourceId: string, atMs: number, score: number, kind = 'leak'): AlertChange {
  return { op: 'raise', kind, sourceKind: 'sensor', sourceId, atMs, score, details: {} };
}

function score(sensorId: string, hour: number, value: number): LeakScore {
  return { sensorId, windowStartMs: T0 + hour * HOUR, windowEndMs: T0 + hour * HOUR + 60_000, score: value, modelVersion: 'm1' };
}

describe('postgres store: races decided by the database (two pools, as two processes)', () => {
  let schema: string;
  let a: PostgresStore;
  let b: PostgresStore;
  beforeEach(async () => {
    schema = newSchema();
    a = open(schema);
    await a.ready();
    b = open(schema);
  });
  afterEach(async () => {
    await a.close();
    await b.close();
    await dropSchema(schema);
  });

  it('two crews acknowledging one version at once: one wins, the other gets ALERT_VERSION_CONFLICT', async () => {
    for (let n = 0; n < 8; n++) {
      const { events } = await a.commitAlertChanges({ actor: 'detector', changes: [raise(`S-${n}`, 100, 0.9)], states: [] });
      const id = events[0]!.alertId;
      const results = await Promise.allSettled([
        a.acknowledgeAlert({ id, expectedVersion: 1, by: 'crew-a', atMs: 200 }),
        b.acknowledgeAlert({ id, expectedVersion: 1, by: 'crew-b', atMs: 200 }),
      ]);
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect(lost[0]).toBeInstanceOf(AlertError);
      expect(lost[0]).toMatchObject({ code: 'ALERT_VERSION_CONFLICT', current: { version: 2, state: 'acknowledged' } });
      expect((await a.alertEvents(id)).map((e) => e.action)).toEqual(['raised', 'acknowledged']);
    }
  });

  it('two detectors raising the same alert at once: one alert, one raised event', async () => {
    for (let n = 0; n < 8; n++) {
      const results = await Promise.all([
        a.commitAlertChanges({ actor: 'detector', changes: [raise(`S-${n}`, 100, 0.9)], states: [] }),
        b.commitAlertChanges({ actor: 'detector', changes: [raise(`S-${n}`, 100, 0.9)], states: [] }),
      ]);
      expect(results.flatMap((r) => r.events.map((e) => e.action))).toEqual(['raised']);
      expect(await a.listAlerts({ sourceId: `S-${n}`, limit: 10 })).toHaveLength(1);
    }
  });

  it('a raise that loses the insert to a concurrent transaction applies to the alert that won', async () => {
    // Another writer inserts the subject's alert and holds its transaction open: the store's lookup finds
    // nothing, its INSERT waits on the unique index, and after the other commit it finds the conflict.
    const other = await admin.connect();
    try {
      await other.query(`SET search_path = ${schema}`);
      await other.query('BEGIN');
      const { rows } = await other.query<{ id: string }>(
        `INSERT INTO alerts (kind, source_kind, source_id, state, raised_at, last_seen_at, peak_score, details, version)
         VALUES ('leak', 'sensor', 'S-1', 'open', 50, 50, 0.5, '{}', 1) RETURNING id`,
      );
      const pending = a.commitAlertChanges({ actor: 'detector', changes: [raise('S-1', 100, 0.9)], states: [] });
      await waitForLockWait();
      await other.query('COMMIT');
      const { events } = await pending;
      expect(events.map((e) => [e.action, e.alertId])).toEqual([['updated', Number(rows[0]!.id)]]);
      expect(await a.listAlerts({ limit: 10 })).toMatchObject([{ id: Number(rows[0]!.id), peakScore: 0.9, version: 2 }]);
    } finally {
      await other.query('ROLLBACK').catch(() => {});
      other.release();
    }
  });

  it('two copies of a consumer writing the same version: one is fenced off', async () => {
    await a.putConsumerState('engine', { cursor: 1 }, 0);
    const results = await Promise.allSettled([a.putConsumerState('engine', { cursor: 2 }, 1), b.putConsumerState('engine', { cursor: 3 }, 1)]);
    expect(results.filter((r) => r.status === 'fulfilled').map((r) => r.value)).toEqual([2]);
    const lost = results.find((r) => r.status === 'rejected')!.reason as unknown;
    expect(lost).toBeInstanceOf(ConsumerStateConflictError);
    expect(lost).toMatchObject({ expectedVersion: 1, actualVersion: 2 });
    const created = await Promise.allSettled([a.putConsumerState('new', 1, 0), b.putConsumerState('new', 2, 0)]);
    expect(created.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
  });

  it('the same reads and frames delivered to two ingest processes are stored once', async () => {
    const reads = hourlyReads('M-1', 48);
    const frame = (startMs: number) => ({ sensorId: 'S-1', startMs, sampleRateHz: 8000, gainDb: 20, samples: new Int16Array(8).fill(1), summary: { rmsDbfs: -40, clippedRatio: 0 } });
    const frames = [frame(T0), frame(T0 + 1000)];
    const [x, y] = await Promise.all([a.commit(batch({ reads, frames })), b.commit(batch({ reads: [...reads].reverse(), frames }))]);
    expect(x.readsInserted + y.readsInserted).toBe(48);
    expect(x.readsDuplicate + y.readsDuplicate).toBe(48);
    expect(x.framesInserted + y.framesInserted).toBe(2);
    const feed = await a.readsAfter(0, 1000);
    expect(feed.reads.map((r) => r.ts)).toEqual(reads.map((r) => r.ts));
    expect((await a.framesAfter(0, 10)).frames).toHaveLength(2);
  });

  it('keeps the first of a (meter, ts) repeated inside one batch, and reports the second', async () => {
    const r = { meterId: 'M-1', ts: T0, registerL: 10, flags: [] };
    const result = await a.commit(batch({ reads: [r, { ...r, registerL: 11 }, r] }));
    expect(result).toMatchObject({ readsInserted: 1, readsDuplicate: 1, conflicts: [{ index: 1, storedRegisterL: 10 }] });
  });

  it('feeds follow commit order: an id drawn later is not visible before an earlier one commits', async () => {
    // Another writer takes the scores feed lock (its insert) and holds its transaction open.
    await a.appendScores([score('S-1', 0, 0.1)]);
    const other = await admin.connect();
    try {
      await other.query(`SET search_path = ${schema}`);
      await other.query('BEGIN');
      await other.query(`INSERT INTO leak_scores (sensor_key, window_start, window_end, score, model_version) SELECT key, $1, $1, 0.5, 'm1' FROM devices WHERE id = 'S-1'`, [
        T0 + HOUR,
      ]);
      // A second writer (another process) must wait for the lock, not draw a larger id and commit first.
      let done = false;
      const second = b.appendScores([score('S-1', 2, 0.9)]).then(() => (done = true));
      await waitForLockWait();
      expect(done).toBe(false);
      const before = await a.scoresAfter(0, 10);
      expect(before.scores.map((s) => s.score)).toEqual([0.1]);
      await other.query('COMMIT');
      await second;
      const after = await a.scoresAfter(before.cursor, 10);
      expect(after.scores.map((s) => s.score)).toEqual([0.5, 0.9]);
    } finally {
      await other.query('ROLLBACK').catch(() => {});
      other.release();
    }
  });

  it('concurrent commits from several pools: every feed is gap-free in what it delivers and in commit order', async () => {
    const stores = [a, b, open(schema), open(schema)];
    try {
      const cursorSeen: number[] = [];
      let cursor = 0;
      const delivered: string[] = [];
      let writing = true;
      // A consumer polls while four writers commit: it must end up with every read exactly once.
      const consumer = (async () => {
        for (;;) {
          // Whether the writers were done BEFORE this page was read: an empty
          // page read while the last commit was still landing is not the end.
          const writersDone = !writing;
          const page = await a.readsAfter(cursor, 500);
          for (const r of page.reads) delivered.push(`${r.meterId}@${r.ts}`);
          cursorSeen.push(page.cursor);
          cursor = page.cursor;
          if (writersDone && page.reads.length === 0) return;
          await new Promise((r) => setTimeout(r, 2));
        }
      })();
      await Promise.all(
        stores.map(async (s, w) => {
          for (let i = 0; i < 10; i++) await s.commit(batch({ reads: hourlyReads(`M-${w}-${i}`, 24) }));
        }),
      );
      writing = false;
      await consumer;
      expect(delivered).toHaveLength(4 * 10 * 24);
      expect(new Set(delivered).size).toBe(delivered.length);
    } finally {
      await stores[2]!.close();
      await stores[3]!.close();
    }
  });

  /** Until a backend of this server waits on a lock (the interleaving the test needs). */
  async function waitForLockWait(): Promise<void> {
    for (let i = 0; i < 200; i++) {
      const { rows } = await admin.query<{ n: string }>("SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock'");
      if (Number(rows[0]!.n) > 0) return;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error('no backend started waiting on a lock');
  }
});

describe('postgres store: migrations', () => {
  let schema: string;
  beforeEach(() => {
    schema = newSchema();
  });
  afterEach(async () => {
    await dropSchema(schema);
  });

  it('several processes starting at once migrate once: the others wait for the first and find nothing to do', async () => {
    const stores = Array.from({ length: 4 }, () => open(schema, 2));
    try {
      await Promise.all(stores.map((s) => s.ping()));
      const { rows } = await admin.query<{ name: string }>(`SELECT name FROM ${schema}.${MIGRATIONS_TABLE}`);
      expect(rows.map((r) => r.name)).toEqual(['1764547200000_suido-state', '1765000000000_sensor-site', '1765100000000_score-band-levels', '1765200000000_sensor-chainage']);
      await stores[0]!.commit(batch({ reads: hourlyReads('M-1', 2) }));
      expect(await stores[3]!.readsInRange('M-1', T0, T0 + 2 * HOUR, 10)).toHaveLength(2);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it('waits while another migration holds node-pg-migrate’s lock, then proceeds', async () => {
    const holder = await admin.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1)', [PG_MIGRATE_LOCK_ID]);
      const store = open(schema);
      try {
        let ready = false;
        const pinged = store.ping().then(() => (ready = true));
        await new Promise((r) => setTimeout(r, 400));
        expect(ready).toBe(false);
        await holder.query('SELECT pg_advisory_unlock($1)', [PG_MIGRATE_LOCK_ID]);
        await pinged;
        expect(ready).toBe(true);
      } finally {
        await store.close();
      }
    } finally {
      await holder.query('SELECT pg_advisory_unlock_all()');
      holder.release();
    }
  });

  it('refuses a second not-resolved alert for one source and kind in the schema itself, and keeps ids in byte order', async () => {
    const store = open(schema);
    await store.ready();
    await store.close();
    const insert = (state: string) =>
      admin.query(`INSERT INTO ${schema}.alerts (kind, source_kind, source_id, state, raised_at, last_seen_at, details, version) VALUES ('leak', 'sensor', 'S-1', $1, 0, 0, '{}', 1)`, [state]);
    await insert('resolved');
    await insert('resolved');
    await insert('cleared');
    await expect(insert('open')).rejects.toThrow(/alerts_one_not_resolved/);
    const reopened = open(schema);
    try {
      await reopened.upsertDevices([{ id: 'hes-1', kind: 'meter' }, { id: 'M-2', kind: 'meter' }, { id: 'M-1', kind: 'meter' }]);
      expect((await reopened.listDevices({ limit: 10 })).map((d) => d.id)).toEqual(['M-1', 'M-2', 'hes-1']);
    } finally {
      await reopened.close();
    }
  });

  it('names itself without the password', async () => {
    const store = new PostgresStore({ url: `postgresql://suido:s3cret-pw@127.0.0.1:${server.port}/postgres?password=also-secret`, schema });
    try {
      expect(store.name).toBe(`postgres:postgresql://suido@127.0.0.1:${server.port}/postgres (schema ${schema})`);
      await store.ping();
    } finally {
      await store.close();
    }
  });
});
