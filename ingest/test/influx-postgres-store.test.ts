import { startInfluxd, startPostgres, type RunningInfluxd, type RunningPostgres } from '@suido/infra/services';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll } from 'vitest';
import { INFLUX_DEFAULTS, InfluxHttp, type InfluxConnection } from '../src/store/influx/influx-http.ts';
import { InfluxStore } from '../src/store/influx/influx-store.ts';
import { PostgresStore } from '../src/store/postgres/postgres-store.ts';
import { describeStoreContract } from '../src/store/store-contract.ts';

// The production pairing for a city (README: Storage): series in InfluxDB, state and the ledger in PostgreSQL.
// One server of each for the file; a database and a schema per test.
let influxd: RunningInfluxd;
let postgres: RunningPostgres;
let admin: pg.Pool;
beforeAll(async () => {
  [influxd, postgres] = await Promise.all([startInfluxd(), startPostgres()]);
  admin = new pg.Pool({ connectionString: postgres.url, max: 2 });
  admin.on('error', () => {});
}, 60_000);
afterAll(async () => {
  await admin?.end();
  await Promise.all([influxd?.stop(), postgres?.stop()]);
});

let n = 0;
describeStoreContract('influxdb 1.x + postgresql state', async () => {
  const name = `c${process.pid}_${++n}`;
  const influx: InfluxConnection = { ...INFLUX_DEFAULTS, url: influxd.url, database: name, retentionPolicy: 'raw', writeApi: 'v1', maxRetries: 2, minRetryDelayMs: 50, maxRetryDelayMs: 200 };
  return {
    open: async () =>
      new InfluxStore({ influx, state: new PostgresStore({ url: postgres.url, schema: name, poolMax: 4 }), manageSchema: true, log: pino({ level: 'silent' }) }),
    dispose: async () => {
      await new InfluxHttp(influx).query([`DROP DATABASE "${name}"`], { database: null });
      await admin.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
    },
  };
});
