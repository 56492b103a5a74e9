import { dirname } from 'node:path';
import { SqliteStore, type MeterRead } from '@suido/ingest';
import { freePort, httpOk, startServiceProcess, type ServiceProcess } from '@suido/infra/bench';
import { issueApiKey } from '../src/index.ts';

/**
 * The store a city's billing runs on, made for the API benchmarks: meters in
 * the registry and their hourly reads around one cut-off, written straight
 * through the store's commit API in big batches (MQTT would only slow the
 * preparation down; the ingest benchmarks measure that path).
 *
 * The cut-off is local midnight (Asia/Tokyo, the API's default zone) two
 * days ago, so every read lies in the past and inside ingest's age window.
 * Each meter has six hourly reads, three before the cut-off and three after,
 * in three kinds that exercise the register answer's three outcomes:
 *   - actual (70 %): reads on the hour, one exactly at the cut-off;
 *   - estimated (25 %): reads 17 minutes past the hour, interpolated;
 *   - missing (5 %): the reads after the cut-off never came (NO_READ_AFTER).
 */
export interface CityStore {
  readonly path: string;
  readonly meters: number;
  /** The cut-off as the query string names it (a local date) and as an instant. */
  readonly cutoffDate: string;
  readonly cutoffMs: number;
  /** How many meters each answer should have. */
  readonly expected: { readonly actual: number; readonly estimated: number; readonly missing: number };
  /** A billing key on this store. */
  readonly billingKey: string;
  readonly reads: number;
  readonly seconds: number;
}

const HOUR = 3_600_000;
const TOKYO_OFFSET_MS = 9 * HOUR;
const METERS_PER_COMMIT = 10_000;
const DEVICES_PER_UPSERT = 20_000;

export const meterId = (i: number): string => `M-${String(i).padStart(7, '0')}`;

/** Which of the three kinds meter i is (a fixed pattern, so that the expected counts are exact). */
export function meterKind(i: number): 'actual' | 'estimated' | 'missing' {
  const k = i % 20;
  return k < 14 ? 'actual' : k < 19 ? 'estimated' : 'missing';
}

export async function prepareCityStore(path: string, meters: number): Promise<CityStore> {
  const started = performance.now();
  const localToday = new Date(Date.now() + TOKYO_OFFSET_MS);
  const day = new Date(Date.UTC(localToday.getUTCFullYear(), localToday.getUTCMonth(), localToday.getUTCDate() - 2));
  const cutoffDate = day.toISOString().slice(0, 10);
  const cutoffMs = day.getTime() - TOKYO_OFFSET_MS;
  // synchronous=normal: a benchmark's fixture need not survive a power cut.
  const store = new SqliteStore({ path, synchronous: 'normal' });
  const expected = { actual: 0, estimated: 0, missing: 0 };
  let reads = 0;
  try {
    for (let i = 0; i < meters; i += DEVICES_PER_UPSERT) {
      const n = Math.min(DEVICES_PER_UPSERT, meters - i);
      await store.upsertDevices(Array.from({ length: n }, (_, j) => ({ id: meterId(i + j), kind: 'meter' as const, district: `D-${String((i + j) % 50).padStart(2, '0')}` })));
    }
    for (let i = 0; i < meters; i += METERS_PER_COMMIT) {
      const batch: MeterRead[] = [];
      for (let m = i; m < Math.min(meters, i + METERS_PER_COMMIT); m++) {
        const kind = meterKind(m);
        expected[kind]++;
        const offset = kind === 'estimated' ? 17 * 60_000 : 0;
        const hours = kind === 'missing' ? [-3, -2, -1] : [-3, -2, -1, 0, 1, 2];
        const base = 100_000 + ((m * 37) % 500_000);
        const perHour = 5 + (m % 13);
        for (const h of hours) batch.push({ meterId: meterId(m), ts: cutoffMs + h * HOUR + offset, registerL: base + (h + 3) * perHour, flags: [] });
      }
      reads += batch.length;
      await store.commit({ receivedAtMs: Date.now(), reads: batch, frames: [], statuses: [], deadLetters: [] });
    }
    const { key } = await issueApiKey(store, { role: 'billing', name: 'bench-billing', by: 'bench' });
    return { path, meters, cutoffDate, cutoffMs, expected, billingKey: key, reads, seconds: (performance.now() - started) / 1000 };
  } finally {
    await store.close();
  }
}

/**
 * The API service as its own process (`api/src/main.ts`, as `npm start -w api`
 * runs it) on the prepared file. Request logs off (LOG_LEVEL=warn) and a rate
 * limit no benchmark reaches, so that neither the log pipe nor 429s are measured.
 */
export async function startApiProcess(city: CityStore): Promise<{ api: ServiceProcess; url: string }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const api = await startServiceProcess({
    entry: 'api/src/main.ts',
    env: { SUIDO_SQLITE_PATH: city.path, SUIDO_DATA_DIR: dirname(city.path), API_PORT: String(port), API_RATE_LIMIT_PER_MINUTE: '1000000', LOG_LEVEL: 'warn' },
    ready: () => httpOk(`${url}/readyz`),
  });
  return { api, url };
}
