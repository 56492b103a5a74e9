/**
 * Meter reads per second end to end (MQTT QoS 1 → aedes → decode → validate →
 * dedup → durable SQLite commit → PUBACK), beside raw aedes moving the same
 * messages in the same run:
 *   - aedes publish→PUBACK: the broker alone, nothing stored (the ceiling);
 *   - aedes publish→subscribe: the broker delivering to one QoS 1 subscriber;
 *   - Mosquitto publish→subscribe (Debian's mosquitto 2, started here with
 *     Suido's production conf.d): the same, through the broker that
 *     external-broker mode runs behind; its subscriber is MQTT 5 with the
 *     Receive Maximum an ingest worker states (1000), as Mosquitto would
 *     otherwise hold it to 20 messages in flight.
 * And the same pipeline on the InfluxDB store (reads written to a real
 * influxd 1.x started here, PUBACK once InfluxDB acknowledged them), beside
 * the embedded store in the same run.
 * Absolute figures vary with the machine; the ratios are the result.
 *
 *   npm run bench -w ingest            (BENCH_MESSAGES, BENCH_RUNS, BENCH_CONNECTIONS to change)
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { median, printReport } from '@suido/infra/bench';
import { startInfluxd, startMosquitto } from '@suido/infra/services';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { IngestService, encodeMeterReads, loadIngestConfig, openStore, topics } from '../src/index.ts';

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 4000);
const READS_PER_MESSAGE = 24;
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 8);
const HOUR = 3_600_000;

/** One daily batch of 24 hourly reads per meter, as meters send them. */
function makeMessages(): { topic: string; payload: Buffer }[] {
  const end = Math.floor(Date.now() / HOUR) * HOUR;
  return Array.from({ length: MESSAGES }, (_, m) => {
    const id = `M-${String(m).padStart(6, '0')}`;
    const reads = Array.from({ length: READS_PER_MESSAGE }, (_, h) => ({ ts: end - (READS_PER_MESSAGE - h) * HOUR, registerL: 100_000 + m * 7 + h * 11 }));
    return { topic: topics.meterReads(id), payload: encodeMeterReads(reads) };
  });
}

async function connectAll(url: string, n: number, prefix: string): Promise<MqttClient[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => mqtt.connectAsync(url, { clientId: `${prefix}-${i}`, reconnectPeriod: 0 })));
}

/** Publishes every message at QoS 1 across the connections; resolves when all are PUBACKed. */
async function publishAll(clients: MqttClient[], messages: { topic: string; payload: Buffer }[]): Promise<void> {
  await Promise.all(
    clients.map(async (c, i) => {
      const mine = messages.filter((_, m) => m % clients.length === i);
      await Promise.all(mine.map((msg) => c.publishAsync(msg.topic, msg.payload, { qos: 1 })));
    }),
  );
}

async function rawAedes(messages: { topic: string; payload: Buffer }[], withSubscriber: boolean): Promise<number> {
  const broker = await Aedes.createBroker();
  const server = createServer(broker.handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const seconds = await rawBroker(`mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`, messages, withSubscriber);
  await new Promise<void>((r) => broker.close(() => r()));
  await new Promise<void>((r) => server.close(() => r()));
  return seconds;
}

/** What `mosquitto -h` says of itself (the launcher runs the same binary: PATH, then Debian's /usr/sbin). */
function mosquittoVersion(): string {
  const out = spawnSync('sh', ['-c', '"$(command -v mosquitto || echo /usr/sbin/mosquitto)" -h'], { encoding: 'utf8' }).stdout ?? '';
  return /mosquitto version (\S+)/.exec(out)?.[1] ?? '?';
}

/** A fresh Mosquitto per run, so that no run inherits another's sessions. */
async function rawMosquitto(messages: { topic: string; payload: Buffer }[]): Promise<number> {
  const mosquitto = await startMosquitto();
  try {
    return await rawBroker(mosquitto.url, messages, true, { protocolVersion: 5, properties: { receiveMaximum: 1000 } });
  } finally {
    await mosquitto.stop();
  }
}

/** Publishes every message at QoS 1; with a subscriber, until it has received them all, else until all are PUBACKed. */
async function rawBroker(url: string, messages: { topic: string; payload: Buffer }[], withSubscriber: boolean, subscriberOptions: IClientOptions = {}): Promise<number> {
  const publishers = await connectAll(url, CONNECTIONS, 'raw-pub');
  let subscriber: MqttClient | undefined;
  let received = 0;
  let allReceived: Promise<void> = Promise.resolve();
  if (withSubscriber) {
    subscriber = await mqtt.connectAsync(url, { clientId: 'raw-sub', reconnectPeriod: 0, ...subscriberOptions });
    await subscriber.subscribeAsync(topics.allMeters, { qos: 1 });
    allReceived = new Promise((resolve) =>
      subscriber!.on('message', () => {
        if (++received === messages.length) resolve();
      }),
    );
  }
  const t0 = performance.now();
  await publishAll(publishers, messages);
  await allReceived;
  const seconds = (performance.now() - t0) / 1000;
  await Promise.all([...publishers, ...(subscriber ? [subscriber] : [])].map((c) => c.endAsync(true)));
  return seconds;
}

/** With `influx`, on the InfluxDB store (a new database each run); else on the embedded store. */
async function endToEnd(messages: { topic: string; payload: Buffer }[], influx?: { url: string; database: string }): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'suido-bench-'));
  const config = loadIngestConfig({ SUIDO_DATA_DIR: dir, MQTT_PORT: '0', MQTT_ALLOW_ANONYMOUS: 'true' });
  const store = influx
    ? openStore(loadIngestConfig({ SUIDO_DATA_DIR: dir, SUIDO_STORE: 'influxdb', INFLUX_URL: influx.url, INFLUX_DATABASE: influx.database }))
    : openStore(config);
  const service = await IngestService.start({ config, store, registry: new Registry(), log: pino({ level: 'silent' }) });
  const publishers = await connectAll(service.broker.url, CONNECTIONS, 'e2e-pub');
  const t0 = performance.now();
  await publishAll(publishers, messages);
  const seconds = (performance.now() - t0) / 1000;
  const stored = service.metrics.totals.readsStored;
  if (stored !== messages.length * READS_PER_MESSAGE) throw new Error(`stored ${stored} reads, expected ${messages.length * READS_PER_MESSAGE}`);
  await Promise.all(publishers.map((c) => c.endAsync(true)));
  await service.close();
  await store.close();
  await rm(dir, { recursive: true, force: true });
  return seconds;
}

async function main(): Promise<void> {
  const messages = makeMessages();
  const results = { puback: [] as number[], pubsub: [] as number[], mosquitto: [] as number[], e2e: [] as number[], influx: [] as number[] };
  const influxd = await startInfluxd();
  // Interleave them so that drift in machine load hits each alike.
  for (let run = 0; run < RUNS; run++) {
    results.puback.push(await rawAedes(messages, false));
    results.pubsub.push(await rawAedes(messages, true));
    results.mosquitto.push(await rawMosquitto(messages));
    results.e2e.push(await endToEnd(messages));
    results.influx.push(await endToEnd(messages, { url: influxd.url, database: `bench_${run}` }));
    process.stderr.write(`  run ${run + 1}/${RUNS} done\n`);
  }
  const rate = (s: number[]) => (messages.length * READS_PER_MESSAGE) / median(s);
  const INFLUXD_VERSION = (await fetch(`${influxd.url}/ping`)).headers.get('x-influxdb-version') ?? '?';
  await influxd.stop();
  const e2e = rate(results.e2e);
  printReport({
    bench: 'ingest-pipeline',
    title: 'Ingest: meter reads per second end to end, on the embedded store and on InfluxDB, beside aedes and Mosquitto',
    params: {
      messages: MESSAGES,
      readsPerMessage: READS_PER_MESSAGE,
      qos: 1,
      connections: CONNECTIONS,
      runs: RUNS,
      store: 'sqlite synchronous=full',
      influx: `influxd ${INFLUXD_VERSION} on this machine, v1 writes`,
      mosquitto: `mosquitto ${mosquittoVersion()} on this machine, Suido's conf.d`,
    },
    figures: [
      {
        name: 'Suido end to end (stored, then PUBACK)',
        value: e2e,
        unit: 'reads/s',
        baseline: { name: 'aedes publish→subscribe, same messages', value: rate(results.pubsub) },
        goal: { on: 'ratio', op: '>=', target: 0.5, source: 'issue 7' },
      },
      { name: 'Suido end to end (stored, then PUBACK)', value: e2e, unit: 'reads/s', baseline: { name: 'aedes publish→PUBACK, nothing stored', value: rate(results.puback) } },
      { name: 'Suido end to end (stored, then PUBACK)', value: e2e, unit: 'reads/s', baseline: { name: 'Mosquitto publish→subscribe, same messages', value: rate(results.mosquitto) } },
      { name: 'aedes publish→subscribe', value: rate(results.pubsub), unit: 'reads/s', baseline: { name: 'Mosquitto publish→subscribe, same messages', value: rate(results.mosquitto) } },
      {
        name: 'Suido end to end on InfluxDB 1.x (v1 writes; SQLite ledger and state)',
        value: rate(results.influx),
        unit: 'reads/s',
        baseline: { name: 'the same on the embedded store (SQLite)', value: e2e },
      },
    ],
    notes: [
      `${READS_PER_MESSAGE} hourly reads per message (one meter's daily batch); rates are medians of ${RUNS} interleaved runs`,
      "Mosquitto: a fresh broker per run; publishers MQTT 3.1.1 as devices, the subscriber MQTT 5 with Receive Maximum 1000 as an ingest worker (external-broker mode); nothing stored but Mosquitto's own snapshot every 30 s",
    ],
  });
}

await main();
