/**
 * Scaling ingest out (README: Scaling out): reads/s stored through 1, 2 and
 * 3 ingest processes (separate OS processes, INGEST_MQTT_MODE=external)
 * sharing one Mosquitto shared subscription ($share/…), on PostgreSQL state
 * (SUIDO_STORE=postgres, durable: fsync and synchronous_commit on). Each
 * count gets a fresh database and share group; the fleet publishes meter
 * days (24 reads a message) at QoS 1 over BENCH_SCALE_CONNECTIONS
 * connections as fast as the broker acknowledges; the figure is the reads
 * stored divided by the time from the first publish to the last read
 * stored. Baseline: one process. On a 2-core machine the publisher,
 * Mosquitto, PostgreSQL and the ingest processes share the cores, so the
 * factor shows where the cores saturate, not what separate hosts give.
 *
 *   npx tsx bench/scale-out.bench.ts
 *   BENCH_SCALE_MESSAGES     messages per run (default 4000, 96,000 reads)
 *   BENCH_SCALE_PROCESSES    counts to run (default 1,2,3)
 *   BENCH_SCALE_CONNECTIONS  publisher connections (default 4)
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, httpOk, printReport, startServiceProcess, type ServiceProcess } from '@suido/infra/bench';
import { startMosquitto, startPostgres } from '@suido/infra/services';
import mqtt from 'mqtt';
import pg from 'pg';
import { encodeMeterReads, topics } from '../src/index.ts';

const MESSAGES = Number(process.env.BENCH_SCALE_MESSAGES ?? 4000);
const COUNTS = (process.env.BENCH_SCALE_PROCESSES ?? '1,2,3').split(',').map(Number);
const CONNECTIONS = Number(process.env.BENCH_SCALE_CONNECTIONS ?? 4);
const IN_FLIGHT = 64;
const INGEST = { username: 'suido-ingest', password: 'bench-ingest-3f9c1a' };
const FLEET = { username: 'fleet', password: 'bench-fleet-8b27e4' };
const HOUR = 3_600_000;
const T0 = Math.floor(Date.now() / HOUR) * HOUR - 40 * 24 * HOUR;

const broker = await startMosquitto({ users: { [INGEST.username]: INGEST.password, [FLEET.username]: FLEET.password } });
const server = await startPostgres({ settings: { fsync: 'on', synchronous_commit: 'on', full_page_writes: 'on', shared_buffers: '256MB' } });
const admin = new pg.Pool({ connectionString: server.url, max: 2 });
admin.on('error', () => {});
const dir = await mkdtemp(join(tmpdir(), 'suido-bench-scale-'));
const results = new Map<number, { readsPerS: number; seconds: number; perProcessCpu: string }>();

try {
  for (const n of COUNTS) {
    const db = `scale_${n}`;
    await admin.query(`CREATE DATABASE ${db}`);
    const url = server.databaseUrl(db);
    const procs: ServiceProcess[] = [];
    for (let i = 0; i < n; i++) {
      const http = await freePort();
      procs.push(
        await startServiceProcess({
          entry: 'ingest/src/main.ts',
          env: {
            SUIDO_DATA_DIR: dir,
            SUIDO_STORE: 'postgres',
            DATABASE_URL: url,
            INGEST_MQTT_MODE: 'external',
            MQTT_URL: broker.url,
            MQTT_CLIENT_ID: `bench-${n}-${i}`,
            MQTT_SHARE_GROUP: `bench-${n}`,
            MQTT_USERNAME: INGEST.username,
            MQTT_PASSWORD: INGEST.password,
            INGEST_HTTP_PORT: String(http),
          },
          ready: () => httpOk(`http://127.0.0.1:${http}/readyz`),
          timeoutMs: 60_000,
        }),
      );
    }
    const count = new pg.Pool({ connectionString: url, max: 1 });
    count.on('error', () => {});
    const stored = async () => Number((await count.query<{ n: string }>('SELECT count(*) AS n FROM meter_reads')).rows[0]!.n);
    const conns = await Promise.all(
      Array.from({ length: CONNECTIONS }, (_, c) => mqtt.connectAsync(broker.url, { ...FLEET, clientId: `bench-fleet-${n}-${c}`, protocolVersion: 5, reconnectPeriod: 200 })),
    );
    const cpu0 = procs.map((p) => cpuSeconds(p.pid));
    const t0 = performance.now();
    let next = 0;
    const lane = async (c: mqtt.MqttClient) => {
      for (let i = next++; i < MESSAGES; i = next++) {
        const meterId = `M-${n}-${i}`;
        const reads = Array.from({ length: 24 }, (_, h) => ({ ts: T0 + h * HOUR, registerL: 100_000 + h * 9 }));
        await c.publishAsync(topics.meterReads(meterId), encodeMeterReads(reads), { qos: 1 });
      }
    };
    await Promise.all(conns.flatMap((c) => Array.from({ length: IN_FLIGHT / CONNECTIONS }, () => lane(c))));
    const publishedS = (performance.now() - t0) / 1000;
    const deadline = Date.now() + 180_000;
    while ((await stored()) < MESSAGES * 24) {
      if (Date.now() > deadline) throw new Error(`${n} processes: not all reads stored within 3 minutes`);
      await new Promise((r) => setTimeout(r, 25));
    }
    const seconds = (performance.now() - t0) / 1000;
    const cpu = procs.map((p, i) => ((cpuSeconds(p.pid) - cpu0[i]!) / seconds) * 100);
    results.set(n, { readsPerS: (MESSAGES * 24) / seconds, seconds, perProcessCpu: cpu.map((c) => `${c.toFixed(0)}%`).join('/') });
    console.error(`[bench] ${n} ingest process(es): ${MESSAGES * 24} reads in ${seconds.toFixed(2)} s (published in ${publishedS.toFixed(2)} s); ingest CPU ${results.get(n)!.perProcessCpu}`);
    await Promise.all(conns.map((c) => c.endAsync()));
    await count.end();
    await Promise.all(procs.map((p) => p.stop()));
  }
} finally {
  await admin.end();
  await server.stop();
  await broker.stop();
  await rm(dir, { recursive: true, force: true });
}

/** User + system CPU seconds of a process so far (Linux /proc). */
function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

const one = results.get(COUNTS[0]!)!;
printReport({
  bench: 'ingest-scale-out',
  title: 'Ingest scale-out: N ingest processes behind one Mosquitto shared subscription, PostgreSQL state (durable)',
  params: { messages: MESSAGES, readsPerMessage: 24, connections: CONNECTIONS, inFlight: IN_FLIGHT, processes: COUNTS.join('/'), cores: cpus().length },
  figures: COUNTS.map((n) => ({
    name: `${n} ingest process${n === 1 ? '' : 'es'} (reads stored/s)`,
    value: results.get(n)!.readsPerS,
    unit: 'reads/s',
    ...(n !== COUNTS[0] && { baseline: { name: `${COUNTS[0]} process`, value: one.readsPerS } }),
  })),
  notes: [
    ...COUNTS.map((n) => `${n} process(es): ${results.get(n)!.seconds.toFixed(2)} s, ingest CPU per process ${results.get(n)!.perProcessCpu} of one core`),
    `one machine with ${cpus().length} cores runs the publisher, Mosquitto, PostgreSQL and every ingest process; an ingest process far under one core means it waits on its commits (durable PostgreSQL commits under the feed's advisory lock, README: Storage) or on the broker, not on its own CPU`,
  ],
});
