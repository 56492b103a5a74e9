/**
 * Single-meter register queries under load: autocannon keeps
 * BENCH_HTTP_CONNECTIONS connections busy with `GET /v1/meters/{id}/register?at=`
 * for meters drawn at random from the whole city (every request another
 * meter: billing systems and call-centre screens ask about any meter, not a
 * hot few), against the API running as its own process on the prepared
 * store (api/bench/city-store.ts: 600,000 meters, reads around the cut-off).
 * Figures: requests/s and p50/p99 latency, beside `GET /healthz` under the
 * same load in the same run (the framework's floor: routing, the reply, no
 * key and no store). The register route also checks the API key and its
 * role, counts the request against the key's rate limit (set out of reach)
 * and asks the store three things (the meter, the arrival mark, the
 * brackets at the cut-off).
 *
 *   npm run bench -w api
 *   BENCH_METERS       meters in the store (default 600000)
 *   BENCH_HTTP_CONNECTIONS  concurrent HTTP connections (default 10)
 *   BENCH_DURATION_S   seconds per measurement (default 10)
 *   BENCH_RUNS         measurements of each route, interleaved (default 3; median reported)
 *   e.g. a quick trial: BENCH_METERS=20000 BENCH_DURATION_S=3 BENCH_RUNS=1 npx tsx bench/register-queries.bench.ts
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon, { type Result } from 'autocannon';
import { median, printReport } from '@suido/infra/bench';
import { meterId, prepareCityStore, startApiProcess, type CityStore } from './city-store.ts';

const METERS = Number(process.env.BENCH_METERS ?? 600_000);
const CONNECTIONS = Number(process.env.BENCH_HTTP_CONNECTIONS ?? 10);
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

interface Load {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly requests: number;
}

/** mulberry32, seeded: every run asks for the same meters in the same order. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function summarise(what: string, r: Result): Load {
  if (r.errors > 0 || r.timeouts > 0 || r.non2xx > 0) {
    throw new Error(`${what}: ${r.errors} errors, ${r.timeouts} timeouts, ${r.non2xx} answers not 2xx (${JSON.stringify(r.statusCodeStats)})`);
  }
  return { rps: r.requests.total / r.duration, p50: r.latency.p50, p99: r.latency.p99, requests: r.requests.total };
}

async function healthz(url: string): Promise<Load> {
  return summarise('/healthz', await autocannon({ url: `${url}/healthz`, connections: CONNECTIONS, duration: DURATION_S }));
}

async function registers(url: string, city: CityStore, seed: number): Promise<Load> {
  const next = random(seed);
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: DURATION_S,
    headers: { authorization: `Bearer ${city.billingKey}` },
    requests: [
      {
        method: 'GET',
        setupRequest: (req) => ({ ...req, path: `/v1/meters/${meterId(Math.floor(next() * city.meters))}/register?at=${city.cutoffDate}` }),
      },
    ],
  });
  return summarise('/v1/meters/{id}/register', result);
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'suido-bench-register-'));
  try {
    const city = await prepareCityStore(join(dir, 'suido.db'), METERS);
    process.stderr.write(`  prepared ${METERS} meters, ${city.reads} reads in ${city.seconds.toFixed(1)} s\n`);
    const { api, url } = await startApiProcess(city);
    const runs = { healthz: [] as Load[], register: [] as Load[] };
    try {
      // A short warm-up of both routes (JIT, SQLite's page cache), not measured.
      await autocannon({ url: `${url}/healthz`, connections: CONNECTIONS, duration: 1 });
      await autocannon({ url: `${url}/v1/meters/${meterId(0)}/register?at=${city.cutoffDate}`, connections: CONNECTIONS, duration: 1, headers: { authorization: `Bearer ${city.billingKey}` } });
      for (let run = 0; run < RUNS; run++) {
        runs.healthz.push(await healthz(url));
        runs.register.push(await registers(url, city, run + 1));
        process.stderr.write(`  run ${run + 1}/${RUNS} done\n`);
      }
    } finally {
      await api.stop();
    }
    const m = (which: 'healthz' | 'register', k: keyof Load) => median(runs[which].map((l) => l[k]));
    printReport({
      bench: 'api-register-queries',
      title: 'API: single-meter register at a cut-off under load (GET /v1/meters/{id}/register), across the whole city',
      params: { meters: METERS, connections: CONNECTIONS, durationS: DURATION_S, runs: RUNS, api: 'separate process, sqlite (WAL)', load: 'autocannon in the bench process, same cores' },
      figures: [
        { name: 'register queries', value: m('register', 'rps'), unit: 'requests/s', baseline: { name: 'GET /healthz, same load', value: m('healthz', 'rps') } },
        { name: 'register latency p50', value: m('register', 'p50'), unit: 'ms', baseline: { name: 'GET /healthz p50', value: m('healthz', 'p50') } },
        { name: 'register latency p99', value: m('register', 'p99'), unit: 'ms', baseline: { name: 'GET /healthz p99', value: m('healthz', 'p99') } },
      ],
      notes: [
        `medians of ${RUNS} interleaved runs of ${DURATION_S} s each; ${runs.register.reduce((n, l) => n + l.requests, 0)} register answers in all, every one 200, each for a meter drawn at random of ${METERS}`,
        'latency is autocannon\'s, in whole milliseconds (a p50 of 0 is under 1 ms): request written → response read, queueing included (closed loop, so it grows with the connection count)',
      ],
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
