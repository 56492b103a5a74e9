/**
 * The PostgreSQL store beside the embedded one, in the same run, on a
 * PostgreSQL started by the bench with durability ON (fsync,
 * synchronous_commit: an acknowledged read survives a power cut, as
 * SQLite's synchronous=full):
 *   - ingest commits of BENCH_PG_BATCH reads (24 per meter, as meters send
 *     a day at a time), by one writer and by two (two ingest processes: the
 *     arrivals feed lock serialises their numbered inserts);
 *   - bytes per stored read (meter_reads heap and primary key, read_arrivals);
 *   - BENCH_PG_STATES consumer-state rows (the meter rules' one row per
 *     meter, ~600,000 for a city): their size, and rewrites per second in
 *     commits of 1,000 (HOT updates, fillfactor 70).
 *
 *   npx tsx bench/postgres-store.bench.ts
 *   BENCH_PG_READS   reads per writer (default 240000)
 *   BENCH_PG_BATCH   reads per commit (default 4800: 200 meters' days)
 *   BENCH_PG_STATES  consumer-state rows (default 600000)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgres } from '@suido/infra/services';
import pg from 'pg';
import type { MeterRead } from '../src/contracts/index.ts';
import { PostgresStore } from '../src/store/postgres/postgres-store.ts';
import { SqliteStore } from '../src/store/sqlite-store.ts';
import type { IngestBatch, Store } from '../src/store/store.ts';

const READS = Number(process.env.BENCH_PG_READS ?? 240_000);
const BATCH = Number(process.env.BENCH_PG_BATCH ?? 4_800);
const STATES = Number(process.env.BENCH_PG_STATES ?? 600_000);
const T0 = Date.parse('2026-11-01T00:00:00Z');
const HOUR = 3_600_000;

function batches(writer: string): IngestBatch[] {
  const out: IngestBatch[] = [];
  const meters = READS / 24;
  for (let m0 = 0; m0 < meters; m0 += BATCH / 24) {
    const reads: MeterRead[] = [];
    for (let m = m0; m < Math.min(meters, m0 + BATCH / 24); m++) {
      for (let h = 0; h < 24; h++) reads.push({ meterId: `M-${writer}-${m}`, ts: T0 + h * HOUR, registerL: 1000 + h * 7, flags: [] });
    }
    out.push({ receivedAtMs: T0 + 30 * HOUR, reads, frames: [], statuses: [], deadLetters: [] });
  }
  return out;
}

async function ingest(stores: Store[]): Promise<number> {
  const work = stores.map((_, w) => batches(String(w)));
  const t0 = performance.now();
  await Promise.all(stores.map(async (s, w) => {
    for (const b of work[w]!) await s.commit(b);
  }));
  return (READS * stores.length) / ((performance.now() - t0) / 1000);
}

const server = await startPostgres({ settings: { fsync: 'on', synchronous_commit: 'on', full_page_writes: 'on', shared_buffers: '256MB' } });
const admin = new pg.Pool({ connectionString: server.url, max: 2 });
admin.on('error', () => {});
const dir = await mkdtemp(join(tmpdir(), 'suido-bench-pg-'));
try {
  const sqlite = new SqliteStore({ path: join(dir, 'suido.db'), synchronous: 'full' });
  const sqliteRate = await ingest([sqlite]);
  await sqlite.close();

  const one = new PostgresStore({ url: server.url, schema: 'one' });
  const oneRate = await ingest([one]);
  const two = [new PostgresStore({ url: server.url, schema: 'two' }), new PostgresStore({ url: server.url, schema: 'two' })];
  const twoRate = await ingest(two);
  await one.close();
  await Promise.all(two.map((s) => s.close()));

  await admin.query('VACUUM ANALYZE one.meter_reads');
  const { rows: size } = await admin.query<{ reads: string; arrivals: string; n: string }>(
    `SELECT pg_total_relation_size('one.meter_reads') AS reads, pg_total_relation_size('one.read_arrivals') AS arrivals, (SELECT count(*) FROM one.meter_reads) AS n`,
  );
  const bytesPerRead = (Number(size[0]!.reads) + Number(size[0]!.arrivals)) / Number(size[0]!.n);

  // Consumer state: one row per meter, written by the meter rules at each of their commits.
  const state = new PostgresStore({ url: server.url, schema: 'states' });
  await state.ready();
  await admin.query(
    `INSERT INTO states.consumer_state (name, value, version, updated_at)
     SELECT 'meter-rules/M-' || i, '{"cursor":0,"nightMinL":[3,2,4,1,0,2,3],"lastL":123456}', 1, 0 FROM generate_series(1, $1) i`,
    [STATES],
  );
  await admin.query('VACUUM ANALYZE states.consumer_state');
  const { rows: st } = await admin.query<{ bytes: string }>(`SELECT pg_total_relation_size('states.consumer_state') AS bytes`);
  const rewrites = Math.min(STATES, 50_000);
  const t0 = performance.now();
  for (let i = 1; i <= rewrites; i += 1000) {
    await state.commitAlertChanges({
      actor: 'meter-rules',
      changes: [],
      states: Array.from({ length: Math.min(1000, rewrites - i + 1) }, (_, k) => ({ name: `meter-rules/M-${i + k}`, value: { cursor: 1, nightMinL: [3, 2, 4, 1, 0, 2, 3], lastL: 123457 } })),
    });
  }
  const rewriteRate = rewrites / ((performance.now() - t0) / 1000);
  const { rows: hot } = await admin.query<{ upd: string; hot: string }>(
    `SELECT n_tup_upd AS upd, n_tup_hot_upd AS hot FROM pg_stat_user_tables WHERE schemaname = 'states' AND relname = 'consumer_state'`,
  );
  await state.close();

  const f = (n: number) => Math.round(n).toLocaleString('en');
  console.log(`reads ingested, commits of ${BATCH}, durable commits:`);
  console.log(`  sqlite (synchronous=full), 1 writer:  ${f(sqliteRate)} reads/s  (baseline, same run)`);
  console.log(`  postgresql, 1 writer:                 ${f(oneRate)} reads/s`);
  console.log(`  postgresql, 2 writers (2 pools):      ${f(twoRate)} reads/s`);
  console.log(`  postgresql bytes per read (heap, primary key, arrivals): ${bytesPerRead.toFixed(1)}`);
  console.log(`consumer state: ${f(STATES)} rows take ${(Number(st[0]!.bytes) / 2 ** 20).toFixed(0)} MiB; ${f(rewriteRate)} rewrites/s in commits of 1,000; ${hot[0]!.hot} of ${hot[0]!.upd} updates HOT`);
} finally {
  await admin.end();
  await server.stop();
  await rm(dir, { recursive: true, force: true });
}
