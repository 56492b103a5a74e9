import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startInfluxd, type RunningInfluxd } from '@suido/infra/services';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INFLUX_DEFAULTS } from '../src/store/influx/influx-http.ts';
import { InfluxStore } from '../src/store/influx/influx-store.ts';
import { SqliteStore } from '../src/store/sqlite-store.ts';
import { batch, hourlyReads } from '../src/store/store-contract.ts';

/**
 * InfluxDB 1.x caps the values of one tag (max-values-per-tag, 100,000 by
 * default) and the series of a database (1,000,000): a city's 600,000 meter
 * ids pass the first (README: Storage, sizing InfluxDB). Shown here with a
 * cap of 3: past it the store must refuse the commit (no PUBACK, the device
 * resends), never acknowledge reads InfluxDB dropped.
 */
describe('influxdb store at the server limits', () => {
  let influxd: RunningInfluxd;
  let dir: string;
  beforeAll(async () => {
    influxd = await startInfluxd({ maxValuesPerTag: 3 });
    dir = await mkdtemp(join(tmpdir(), 'suido-influx-limits-'));
  });
  afterAll(async () => {
    await influxd?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses, and records nothing of, a commit with meters past max-values-per-tag', async () => {
    const store = new InfluxStore({
      influx: { ...INFLUX_DEFAULTS, url: influxd.url, database: 'limits', retentionPolicy: 'raw', writeApi: 'v1' },
      state: new SqliteStore({ path: join(dir, 'state.db') }),
      manageSchema: true,
      log: pino({ level: 'silent' }),
    });
    try {
      await store.commit(batch({ reads: ['M-1', 'M-2', 'M-3'].flatMap((m) => hourlyReads(m, 2)) }));
      const err = await store.commit(batch({ reads: [...hourlyReads('M-4', 2), ...hourlyReads('M-1', 3)] })).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'INFLUX_WRITE_FAILED', statusCode: 400 });
      expect((err as Error).message).toMatch(/max-values-per-tag limit exceeded/);
      expect((await store.readsAfter(0, 100)).reads).toHaveLength(6);
      expect(await store.latestRead('M-4')).toBeUndefined();
    } finally {
      await store.close();
    }
  });
});
