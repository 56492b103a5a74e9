import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, connect, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startInfluxd, type RunningInfluxd } from '@suido/infra/services';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { INFLUX_DEFAULTS, InfluxHttp, type InfluxConnection } from '../src/store/influx/influx-http.ts';
import { continuousQueries, DOWNSAMPLED_RP } from '../src/store/influx/influx-schema.ts';
import { InfluxStore } from '../src/store/influx/influx-store.ts';
import { rowsOf } from '../src/store/influx/influxql.ts';
import { SqliteStore } from '../src/store/sqlite-store.ts';
import { batch, describeStoreContract, hourlyReads } from '../src/store/store-contract.ts';

const HOUR = 3_600_000;
const T0 = Date.parse('2026-11-01T00:00:00Z');
const log = pino({ level: 'silent' });

// One server for the whole file (starting influxd costs a second of a shared CPU); one database per test.
// The series index production needs (README: Sizing InfluxDB), so the suite runs on it.
let influxd: RunningInfluxd;
beforeAll(async () => {
  influxd = await startInfluxd({ indexVersion: 'tsi1', maxValuesPerTag: 0, maxSeriesPerDatabase: 3_000_000 });
});
afterAll(async () => {
  await influxd?.stop();
});

let databases = 0;
function connection(database: string, patch: Partial<InfluxConnection> = {}): InfluxConnection {
  // Short back-off: a test of a failing write must fail in seconds, not the production 20 s.
  return { ...INFLUX_DEFAULTS, url: influxd.url, database, retentionPolicy: 'raw', writeApi: 'v1', maxRetries: 2, minRetryDelayMs: 50, maxRetryDelayMs: 200, ...patch };
}

async function raw(q: string, db: string, epoch?: string): Promise<any> {
  const params = new URLSearchParams({ db, q, ...(epoch ? { epoch } : {}) });
  const res = await fetch(`${influxd.url}/query?${params}`);
  expect(res.status).toBe(200);
  return res.json();
}

describeStoreContract('influxdb 1.x (v1 writes) + sqlite state', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'suido-influx-'));
  const database = `contract_${++databases}`;
  return {
    open: async () =>
      new InfluxStore({ influx: connection(database), state: new SqliteStore({ path: join(dir, 'state.db') }), manageSchema: true, log }),
    dispose: async () => {
      await new InfluxHttp(connection(database)).query([`DROP DATABASE "${database}"`], { database: null });
      await rm(dir, { recursive: true, force: true });
    },
  };
});

describe('influxdb store: what only a real InfluxDB can show', () => {
  let dir: string;
  let database: string;
  let store: InfluxStore;
  const open = (patch: Partial<InfluxConnection> = {}, manageSchema = true) =>
    new InfluxStore({ influx: connection(database, patch), state: new SqliteStore({ path: join(dir, 'state.db') }), manageSchema, log });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'suido-influx-'));
    database = `only_${++databases}`;
    store = open();
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('writes millisecond timestamps that InfluxDB reads as the same instants (no 1970), registers as integers', async () => {
    await store.commit(batch({ reads: hourlyReads('M-1', 2) }));
    const ns = await raw(`SELECT "register" FROM "raw"."meter_reads" WHERE "meter" = 'M-1'`, database, 'ns');
    expect(ns.results[0].series[0].values.map((v: [number, number]) => v[0])).toEqual([T0 * 1e6, (T0 + HOUR) * 1e6]);
    const rfc = await raw(`SELECT "register" FROM "raw"."meter_reads" WHERE time = '2026-11-01T01:00:00Z'`, database);
    expect(rfc.results[0].series[0].values).toEqual([['2026-11-01T01:00:00Z', 1007]]);
    const fields = await raw('SHOW FIELD KEYS FROM "raw"."meter_reads"', database);
    expect(fields.results[0].series[0].values).toEqual(expect.arrayContaining([['register', 'integer'], ['received_ms', 'integer']]));
    expect((await store.readAtOrBefore('M-1', T0 + HOUR))?.ts).toBe(T0 + HOUR);
  });

  it('keeps the first register in InfluxDB itself: a conflicting resend is never written', async () => {
    await store.commit(batch({ reads: [{ meterId: 'M-1', ts: T0, registerL: 100, flags: [] }] }));
    // The conflicting register comes last: written, it would overwrite (last write wins in 1.x).
    const again = await store.commit(batch({ reads: [{ meterId: 'M-1', ts: T0, registerL: 100, flags: [] }, { meterId: 'M-1', ts: T0, registerL: 1, flags: [] }] }));
    expect(again).toMatchObject({ readsInserted: 0, readsDuplicate: 1, conflicts: [{ index: 1, storedRegisterL: 100 }] });
    const points = await raw(`SELECT "register", "received_ms" FROM "raw"."meter_reads" WHERE "meter" = 'M-1'`, database, 'ms');
    expect(points.results[0].series[0].values).toEqual([[T0, 100, T0 + 100 * HOUR]]);
  });

  it('leaves the ledger\'s register in InfluxDB when two ingest processes race for one read and the loser writes last', async () => {
    // Two stores on one database and one state file, as two ingest processes.
    // A checks the ledger (the read is new), then B stores the same read with
    // another register end to end, then A writes to InfluxDB (overwriting B's
    // point) and commits to the ledger, which keeps B's and reports A's as a conflict.
    const other = open();
    const read = { meterId: 'M-1', ts: T0 };
    const winner = batch({ receivedAtMs: T0 + 5 * HOUR, reads: [{ ...read, registerL: 100, flags: [] }] });
    let raced = false;
    const state = new SqliteStore({ path: join(dir, 'state.db') });
    const racing = new Proxy(state, {
      get(target, prop, receiver) {
        // getDevice (the district lookup) runs after the ledger check and before the InfluxDB write.
        if (prop === 'getDevice' && !raced) {
          raced = true;
          return async (id: string) => {
            await other.commit(winner);
            return target.getDevice(id);
          };
        }
        const value = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const loser = new InfluxStore({ influx: connection(database), state: racing, manageSchema: true, log });
    try {
      const result = await loser.commit(batch({ receivedAtMs: T0 + 6 * HOUR, reads: [{ ...read, registerL: 1, flags: ['tamper'] }] }));
      expect(raced).toBe(true);
      expect(result).toMatchObject({ readsInserted: 0, conflicts: [{ index: 0, storedRegisterL: 100 }] });
      const points = await raw(`SELECT "register", "received_ms", "flags" FROM "raw"."meter_reads" WHERE "meter" = 'M-1'`, database, 'ms');
      expect(points.results[0].series[0].values).toEqual([[T0, 100, T0 + 5 * HOUR, '']]);
      expect(await store.readsInRange('M-1', T0, T0 + 1, 10)).toMatchObject([{ registerL: 100, flags: [] }]);
    } finally {
      await loser.close();
      await other.close();
    }
  });

  it('acknowledges nothing when InfluxDB does not take the write: the ledger stays as it was', async () => {
    await store.commit(batch({ reads: hourlyReads('M-1', 1) }));
    await store.close();
    // A port nothing listens on: the write is refused, retried with back-off, then given up.
    store = open({ url: 'http://127.0.0.1:9', maxRetries: 1, maxRetryTimeMs: 2000 }, false);
    const started = Date.now();
    await expect(store.commit(batch({ reads: hourlyReads('M-1', 3) }))).rejects.toMatchObject({ code: 'INFLUX_WRITE_FAILED' });
    expect(Date.now() - started).toBeLessThan(10_000);
    await store.close();
    store = open();
    expect((await store.readsAfter(0, 100)).reads).toHaveLength(1);
    // The device resends (it got no PUBACK): now it is stored, once.
    expect(await store.commit(batch({ reads: hourlyReads('M-1', 3) }))).toMatchObject({ readsInserted: 2, readsDuplicate: 1 });
    expect(await store.readsInRange('M-1', T0, T0 + 3 * HOUR, 10)).toHaveLength(3);
  });

  it('retries with back-off while InfluxDB is unreachable, and acknowledges once the write got through', async () => {
    await store.commit(batch({ reads: hourlyReads('M-1', 1) }));
    await store.close();
    // A port that refuses connections until a relay to influxd opens on it: a real network fault, no fake server.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    store = open({ url: `http://127.0.0.1:${port}`, maxRetries: 8, maxRetryTimeMs: 10_000, minRetryDelayMs: 100, maxRetryDelayMs: 400 }, false);
    const committing = store.commit(batch({ reads: hourlyReads('M-1', 3) }));
    let settled = false;
    void committing.finally(() => (settled = true)).catch(() => {});
    await new Promise((r) => setTimeout(r, 300));
    expect(settled).toBe(false);
    const target = new URL(influxd.url);
    const sockets = new Set<{ destroy(): void }>();
    const relay: Server = createServer((socket) => {
      const upstream = connect(Number(target.port), target.hostname);
      sockets.add(socket).add(upstream);
      socket.pipe(upstream).pipe(socket);
      socket.on('error', () => upstream.destroy());
      upstream.on('error', () => socket.destroy());
    });
    await new Promise<void>((r) => relay.listen(port, '127.0.0.1', r));
    try {
      await expect(committing).resolves.toMatchObject({ readsInserted: 2, readsDuplicate: 1 });
      expect((await store.readsInRange('M-1', T0, T0 + 3 * HOUR, 10)).map((r) => r.ts)).toEqual([T0, T0 + HOUR, T0 + 2 * HOUR]);
    } finally {
      await store.close();
      store = open();
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => relay.close(() => r()));
    }
  });

  it('gives up at once on a write InfluxDB refuses (4xx), and records nothing', async () => {
    await store.commit(batch({ reads: hourlyReads('M-1', 1) }));
    // Another writer made "score" an integer field: InfluxDB refuses our float with 400 (field type conflict).
    const res = await fetch(`${influxd.url}/write?db=${database}&rp=raw&precision=ms`, { method: 'POST', body: `leak_scores,model=m,sensor=S-0 score=1i ${T0}` });
    expect(res.status).toBe(204);
    const started = Date.now();
    const err = await store.appendScores([{ sensorId: 'S-1', windowStartMs: T0, windowEndMs: T0 + 1000, score: 0.5, modelVersion: 'm' }]).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'INFLUX_WRITE_FAILED', statusCode: 400 });
    expect(Date.now() - started).toBeLessThan(2000);
    expect((await store.scoresAfter(0, 10)).scores).toEqual([]);
  });

  it('writes through the v2 API only where the server has it: InfluxDB 1.6 answers 404, and nothing is acknowledged', async () => {
    // /api/v2/write exists from 1.8 on; this is as far as the v2 path can be exercised on 1.6 (README: v2 is untested here).
    await store.commit(batch({ reads: hourlyReads('M-1', 1) }));
    await store.close();
    store = open({ writeApi: 'v2', bucket: `${database}/raw` });
    const err = await store.commit(batch({ reads: hourlyReads('M-2', 1) })).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'INFLUX_WRITE_FAILED', statusCode: 404 });
    expect((await store.readsAfter(0, 100)).reads.map((r) => r.meterId)).toEqual(['M-1']);
  });

  it('creates the retention policies and continuous queries, whose daily statement computes registers per local (Tokyo) day', async () => {
    // Reads every hour from 2026-11-01 00:00 to 2026-11-03 00:00 +09:00.
    const start = Date.parse('2026-11-01T00:00:00+09:00');
    await store.commit(batch({ reads: hourlyReads('M-1', 49, 1000, start) }));
    const rps = await raw(`SHOW RETENTION POLICIES ON "${database}"`, database);
    expect(rps.results[0].series[0].values.map((v: unknown[]) => [v[0], v[4]])).toEqual(expect.arrayContaining([['raw', true], [DOWNSAMPLED_RP, false]]));
    const cqs = await raw('SHOW CONTINUOUS QUERIES', database);
    const mine = cqs.results[0].series.find((s: { name: string }) => s.name === database);
    expect(mine.values.map((v: string[]) => v[0]).sort()).toEqual(['meter_daily', 'reads_hourly', 'sensor_daily']);

    // Run the CQ's own SELECT once, over the three days (the CQ service would run it every hour).
    const daily = continuousQueries(database, 'raw').find((q) => q.name === 'meter_daily')!;
    const select = /BEGIN (.*) GROUP BY/.exec(daily.text)![1]!;
    const group = /GROUP BY (.*) END$/.exec(daily.text)![1]!;
    const http = new InfluxHttp(connection(database));
    await http.query([`${select} WHERE time >= '2026-10-31T15:00:00Z' AND time < '2026-11-03T15:00:00Z' GROUP BY ${group}`]);
    const [out] = await http.query([`SELECT "register_first", "register_last", "reads" FROM "${DOWNSAMPLED_RP}"."meter_daily" WHERE "meter" = 'M-1'`]);
    expect(rowsOf(out!).map((r) => [new Date(r.time as number).toISOString(), r.register_first, r.register_last, r.reads])).toEqual([
      ['2026-10-31T15:00:00.000Z', 1000, 1000 + 23 * 7, 24],
      ['2026-11-01T15:00:00.000Z', 1000 + 24 * 7, 1000 + 47 * 7, 24],
      ['2026-11-02T15:00:00.000Z', 1000 + 48 * 7, 1000 + 48 * 7, 1],
    ]);
  });

  it("tags reads with the meter's district from the registry, one series per meter, and selects by meter across a district change", async () => {
    await store.upsertDevices([
      { id: 'M-1', kind: 'meter', district: 'Naka' },
      { id: 'M-2', kind: 'meter' },
    ]);
    await store.commit(batch({ reads: [...hourlyReads('M-1', 2), ...hourlyReads('M-2', 1)] }));
    const series = await raw('SHOW SERIES FROM "raw"."meter_reads"', database);
    expect(series.results[0].series[0].values.map((v: string[]) => v[0]).sort()).toEqual(['meter_reads,district=Naka,meter=M-1', 'meter_reads,meter=M-2']);
    const naka = await raw(`SELECT count("register") FROM "raw"."meter_reads" WHERE "district" = 'Naka'`, database);
    expect(naka.results[0].series[0].values[0][1]).toBe(2);

    // Moved to another district: later reads form a second series; the meter's reads are still one answer.
    await store.upsertDevices([{ id: 'M-1', kind: 'meter', district: 'Minami' }]);
    await store.commit(batch({ reads: hourlyReads('M-1', 3) }));
    expect((await store.readsInRange('M-1', T0, T0 + 3 * HOUR, 10)).map((r) => r.ts)).toEqual([T0, T0 + HOUR, T0 + 2 * HOUR]);
    const minami = await raw(`SELECT count("register") FROM "raw"."meter_reads" WHERE "district" = 'Minami'`, database);
    expect(minami.results[0].series[0].values[0][1]).toBe(1);
  });

  it('writes one ingest_batches point per commit and ingest_rejections by code, with lag as fields; a shared receive time never overwrites', async () => {
    const letter = (code: 'READS_JSON_INVALID' | 'READ_CONFLICT') => ({ receivedAtMs: T0, clientId: 'c', topic: 't', code, message: 'm', payload: new Uint8Array(1), payloadBytes: 1 });
    const receivedAtMs = T0 + 30 * HOUR;
    await store.commit(batch({ receivedAtMs, reads: hourlyReads('M-1', 3), deadLetters: [letter('READS_JSON_INVALID'), letter('READS_JSON_INVALID')] }));
    // A resend with one new read, in the same millisecond (as the ingestor commits a batch's conflicts).
    await store.commit(batch({ receivedAtMs, reads: hourlyReads('M-1', 4), deadLetters: [letter('READ_CONFLICT')] }));
    await store.close();
    store = open();
    const batches = await raw(
      'SELECT "reads", "reads_stored", "reads_duplicate", "dead_letters", "read_lag_sum_ms", "read_lag_max_ms", "commit_ms" FROM "raw"."ingest_batches"',
      database,
      'ms',
    );
    const rows = batches.results[0].series[0].values;
    expect(rows.map((v: number[]) => v.slice(0, 7))).toEqual([
      [receivedAtMs, 3, 3, 0, 2, (30 + 29 + 28) * HOUR, 30 * HOUR],
      [receivedAtMs + 1, 4, 1, 3, 1, 27 * HOUR, 27 * HOUR],
    ]);
    expect(rows.every((v: number[]) => v[7]! >= 0)).toBe(true);
    const rejections = await raw('SELECT sum("count") FROM "raw"."ingest_rejections" GROUP BY "code"', database);
    expect(rejections.results[0].series.map((s: { tags: { code: string }; values: number[][] }) => [s.tags.code, s.values[0]![1]])).toEqual([
      ['READS_JSON_INVALID', 2],
      ['READ_CONFLICT', 1],
    ]);
  });

  it('reports not ready while InfluxDB is unreachable, and recovers when it answers', async () => {
    await store.close();
    store = open({ url: 'http://127.0.0.1:9', maxRetries: 0 });
    await expect(store.ping()).rejects.toThrow();
    await store.close();
    store = open();
    await expect(store.ping()).resolves.toBeUndefined();
  });
});
