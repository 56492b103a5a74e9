/**
 * The billing export of a whole city: the register of 600,000 meters at a
 * cut-off, `GET /v1/billing/reads?at=` over real HTTP from the API running
 * as its own process, streamed as NDJSON and as CSV, following the route's
 * cursors page by page (X-Next-Cursor). Measured per format: the total time
 * of the export (goal: under a minute) and the peak resident memory of the
 * API process while it streams (bounded whatever the fleet's size).
 * Baseline, in the same run: the same rows read straight from the store in
 * this process, through the calls the export itself makes (the registry in
 * batches of 2,000, replacements, read brackets at the cut-off): what the
 * answer costs before the billing rules, serialisation and HTTP.
 *
 * The store is prepared first (api/bench/city-store.ts): the meters and six
 * hourly reads each around the cut-off, written through the store's commit
 * API; every export must answer each meter once with the expected quality.
 *
 *   npm run bench -w api
 *   BENCH_METERS  meters in the store (default 600000)
 *   BENCH_RUNS    exports per format (default 3; median reported)
 *   BENCH_LIMIT   rows per page, the route's `limit` (default: the route's own, 100,000)
 *   e.g. a quick trial: BENCH_METERS=20000 BENCH_RUNS=1 npx tsx bench/billing-export.bench.ts
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore, type BracketQuery } from '@suido/ingest';
import { median, printReport, type ServiceProcess } from '@suido/infra/bench';
import { prepareCityStore, startApiProcess, type CityStore } from './city-store.ts';

const METERS = Number(process.env.BENCH_METERS ?? 600_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const LIMIT = process.env.BENCH_LIMIT === undefined ? undefined : Number(process.env.BENCH_LIMIT);
const TIME_GOAL_S = 60;
const MEMORY_GOAL_MIB = 1024;
/** The export's own batch (api/src/billing/billing-export.ts BATCH). */
const STORE_BATCH = 2_000;

const FORMATS = { ndjson: 'application/x-ndjson', csv: 'text/csv' } as const;
type Format = keyof typeof FORMATS;

interface ExportRun {
  readonly seconds: number;
  readonly rows: number;
  readonly pages: number;
  readonly bytes: number;
  readonly peakRssMiB: number;
}

/**
 * Resets the kernel's peak-RSS mark of a process (`5` to clear_refs, Linux
 * 4.0+), so that each export's peak is its own; false where that is refused.
 */
async function resetPeak(pid: number): Promise<boolean> {
  return writeFile(`/proc/${pid}/clear_refs`, '5').then(
    () => true,
    () => false,
  );
}

/** One whole export, all pages, counting rows by quality from the body itself. */
async function exportAll(url: string, city: CityStore, api: ServiceProcess, format: Format): Promise<ExportRun> {
  const peakResettable = await resetPeak(api.pid);
  let sampledPeak = api.rssMiB() ?? 0;
  const sampler = setInterval(() => (sampledPeak = Math.max(sampledPeak, api.rssMiB() ?? 0)), 100);
  const counts = { actual: 0, estimated: 0, missing: 0 };
  const marks = { actual: /"quality":"actual"|^[^,]*,[^,]*,actual,/, estimated: /"quality":"estimated"|^[^,]*,[^,]*,estimated,/, missing: /"quality":"missing"|^[^,]*,[^,]*,missing,/ };
  let rows = 0;
  let bytes = 0;
  let pages = 0;
  const t0 = performance.now();
  let next: string | null = `/v1/billing/reads?at=${city.cutoffDate}${LIMIT === undefined ? '' : `&limit=${LIMIT}`}`;
  try {
    while (next !== null) {
      const res: Response = await fetch(`${url}${next}`, { headers: { authorization: `Bearer ${city.billingKey}`, accept: FORMATS[format] } });
      if (res.status !== 200) throw new Error(`${next}: ${res.status} ${await res.text()}`);
      pages++;
      const cursor = res.headers.get('x-next-cursor');
      next = cursor === null ? null : `/v1/billing/reads?cursor=${encodeURIComponent(cursor)}&at=${city.cutoffDate}${LIMIT === undefined ? '' : `&limit=${LIMIT}`}`;
      let carry = '';
      let header = format === 'csv';
      const decoder = new TextDecoder();
      for await (const chunk of res.body! as AsyncIterable<Uint8Array>) {
        bytes += chunk.byteLength;
        const lines = (carry + decoder.decode(chunk, { stream: true })).split('\n');
        carry = lines.pop()!;
        for (const line of lines) {
          if (header) {
            header = false;
            continue;
          }
          rows++;
          if (marks.actual.test(line)) counts.actual++;
          else if (marks.estimated.test(line)) counts.estimated++;
          else if (marks.missing.test(line)) counts.missing++;
        }
      }
      if (carry !== '') throw new Error(`${format} page ${pages} ends without a newline`);
    }
  } finally {
    clearInterval(sampler);
  }
  const seconds = (performance.now() - t0) / 1000;
  if (rows !== city.meters || counts.actual !== city.expected.actual || counts.estimated !== city.expected.estimated || counts.missing !== city.expected.missing) {
    throw new Error(`${format} export: ${rows} rows ${JSON.stringify(counts)}; expected ${city.meters} ${JSON.stringify(city.expected)}`);
  }
  const peakRssMiB = peakResettable ? Math.max(api.peakRssMiB() ?? 0, sampledPeak) : sampledPeak;
  return { seconds, rows, pages, bytes, peakRssMiB };
}

/** The baseline: the export's store calls, in this process, for every meter. */
async function storeOnly(city: CityStore): Promise<number> {
  const store = new SqliteStore({ path: city.path });
  try {
    const t0 = performance.now();
    let after: string | undefined;
    let rows = 0;
    for (;;) {
      const meters = await store.listBillingMeters({ afterId: after, limit: STORE_BATCH });
      if (meters.length === 0) break;
      const ids = meters.map((m) => m.id);
      await store.replacementsOf(ids);
      const queries: BracketQuery[] = ids.map((meterId) => ({ meterId, atMs: city.cutoffMs }));
      rows += (await store.readBrackets(queries)).length;
      after = ids[ids.length - 1];
    }
    if (rows !== city.meters) throw new Error(`store baseline read ${rows} brackets, expected ${city.meters}`);
    return (performance.now() - t0) / 1000;
  } finally {
    await store.close();
  }
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'suido-bench-billing-'));
  try {
    const city = await prepareCityStore(join(dir, 'suido.db'), METERS);
    process.stderr.write(`  prepared ${METERS} meters, ${city.reads} reads in ${city.seconds.toFixed(1)} s\n`);
    const { api, url } = await startApiProcess(city);
    const readyRssMiB = api.rssMiB() ?? Number.NaN;
    const results: Record<Format | 'store', number[]> = { ndjson: [], csv: [], store: [] };
    const peaks: Record<Format, number[]> = { ndjson: [], csv: [] };
    const shape: Partial<Record<Format, ExportRun>> = {};
    try {
      // Interleaved, so that drift in the machine's load hits each alike.
      for (let run = 0; run < RUNS; run++) {
        results.store.push(await storeOnly(city));
        for (const format of ['ndjson', 'csv'] as const) {
          const r = await exportAll(url, city, api, format);
          results[format].push(r.seconds);
          peaks[format].push(r.peakRssMiB);
          shape[format] = r;
        }
        process.stderr.write(`  run ${run + 1}/${RUNS} done\n`);
      }
    } finally {
      await api.stop();
    }
    const storeS = median(results.store);
    const peak = (f: Format) => Math.max(...peaks[f]);
    printReport({
      bench: 'api-billing-export',
      title: `API: billing export of ${METERS.toLocaleString('en-US')} meters at a cut-off (GET /v1/billing/reads), over HTTP`,
      params: {
        meters: METERS,
        readsInStore: city.reads,
        rowsPerPage: LIMIT ?? 'route default',
        pages: shape.ndjson?.pages ?? 0,
        runs: RUNS,
        api: 'separate process, sqlite (WAL)',
        cutoff: `${city.cutoffDate} (Asia/Tokyo midnight)`,
      },
      figures: (['ndjson', 'csv'] as const).flatMap((f) => [
        {
          name: `export as ${f.toUpperCase()}, all pages`,
          value: median(results[f]),
          unit: 's',
          baseline: { name: 'the same rows read straight from the store', value: storeS },
          goal: { on: 'value' as const, op: '<=' as const, target: TIME_GOAL_S, source: 'issue 7' },
        },
        {
          name: `peak RSS of the API process, ${f.toUpperCase()} export`,
          value: peak(f),
          unit: 'MiB',
          baseline: { name: 'its RSS when ready', value: readyRssMiB },
          goal: { on: 'value' as const, op: '<=' as const, target: MEMORY_GOAL_MIB, source: 'issue 7 (bounded; 1 GiB as for ingest)' },
        },
      ]),
      notes: [
        `times are medians of ${RUNS} runs; the peak RSS is the largest of them (the kernel's VmHWM, reset before each export)`,
        `body: NDJSON ${((shape.ndjson?.bytes ?? 0) / 2 ** 20).toFixed(0)} MiB, CSV ${((shape.csv?.bytes ?? 0) / 2 ** 20).toFixed(0)} MiB; ${(METERS / median(results.ndjson)).toFixed(0)} rows/s as NDJSON`,
        `answers checked on every export: ${city.expected.actual} actual, ${city.expected.estimated} estimated (interpolated), ${city.expected.missing} missing`,
        `the store was prepared in ${city.seconds.toFixed(0)} s (${city.reads} reads through Store.commit); the client reading the body runs on the same cores`,
      ],
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
