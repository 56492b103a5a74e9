import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';
import { pino, type Logger } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startMosquitto, type RunningMosquitto } from '@suido/infra/services';
import { IngestService, SqliteStore, encodeMeterReads, loadIngestConfig, topics } from '../src/index.ts';

const HOUR = 3_600_000;
const INGEST_LOGIN = { username: 'suido-ingest', password: 'ingest-secret-4b1f0c9e27a8' };
const FLEET_LOGIN = { username: 'fleet', password: 'fleet-secret-93d2e5a1c07b' };
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const silent = pino({ level: 'silent' });

/** One read's identity in the store: (meter, ts). */
const key = (meterId: string, ts: number) => `${meterId}@${ts}`;

/**
 * Runs against one real Mosquitto for the whole file (started with the
 * production behaviour from infra/mosquitto/conf.d and a password file).
 * The tests share its topics, so each ends by removing the sessions its
 * workers left, or a later test's messages would queue for them.
 */
describe('external broker mode: ingest as a client of Mosquitto', () => {
  let broker: RunningMosquitto;
  let dir: string;
  let clients: MqttClient[];
  let services: IngestService[];
  let stores: SqliteStore[];
  let children: ChildProcess[];
  let sessions: Set<string>;
  const hourNow = Math.floor(Date.now() / HOUR) * HOUR - HOUR;

  beforeAll(async () => {
    broker = await startMosquitto({ users: { [INGEST_LOGIN.username]: INGEST_LOGIN.password, [FLEET_LOGIN.username]: FLEET_LOGIN.password } });
  });
  afterAll(async () => {
    await broker?.stop();
  });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'suido-external-'));
    clients = [];
    services = [];
    stores = [];
    children = [];
    sessions = new Set();
  });

  afterEach(async () => {
    for (const c of children) c.kill('SIGKILL');
    await Promise.all(clients.map((c) => c.endAsync(true)));
    await Promise.all(services.map((s) => s.close()));
    await Promise.all(stores.map((s) => s.close()));
    for (const clientId of sessions) await forgetSession(clientId);
    await rm(dir, { recursive: true, force: true });
  });

  function openStore(): SqliteStore {
    // One file for every worker of a test, as workers on one host share it (WAL).
    const store = new SqliteStore({ path: join(dir, 'suido.db'), synchronous: 'normal' });
    stores.push(store);
    return store;
  }

  function workerEnv(clientId: string, extra: Record<string, string> = {}): Record<string, string> {
    return {
      SUIDO_DATA_DIR: dir,
      INGEST_MQTT_MODE: 'external',
      MQTT_URL: broker.url,
      MQTT_CLIENT_ID: clientId,
      MQTT_USERNAME: INGEST_LOGIN.username,
      MQTT_PASSWORD: INGEST_LOGIN.password,
      MQTT_RECONNECT_MIN_MS: '50',
      MQTT_RECONNECT_MAX_MS: '400',
      INGEST_BATCH_MAX_DELAY_MS: '5',
      INGEST_HTTP_PORT: '0',
      ...extra,
    };
  }

  async function startWorker(clientId: string, extra: Record<string, string> = {}, opts: { store?: SqliteStore; log?: Logger } = {}): Promise<IngestService> {
    sessions.add(clientId);
    const config = loadIngestConfig(workerEnv(clientId, extra));
    const service = await IngestService.start({ config, store: opts.store ?? openStore(), registry: new Registry(), log: opts.log ?? silent });
    services.push(service);
    return service;
  }

  async function stopWorker(service: IngestService): Promise<void> {
    services.splice(services.indexOf(service), 1);
    await service.close();
  }

  async function forgetSession(clientId: string): Promise<void> {
    const c = await mqtt.connectAsync(broker.url, { ...INGEST_LOGIN, clientId, protocolVersion: 5, clean: true, reconnectPeriod: 0, properties: { sessionExpiryInterval: 0 } });
    await c.endAsync();
  }

  async function fleetConnection(clientId: string): Promise<MqttClient> {
    const c = await mqtt.connectAsync(broker.url, { ...FLEET_LOGIN, clientId, protocolVersion: 5, reconnectPeriod: 100, connectTimeout: 5000 });
    clients.push(c);
    return c;
  }

  interface Message {
    readonly meterId: string;
    readonly reads: { ts: number; registerL: number }[];
  }

  /** A day of 24 hourly reads per message, as meters send them; day d of each meter ends d days before now. */
  function meterDays(prefix: string, meters: number, days: number, firstDay = 0): Message[] {
    const out: Message[] = [];
    for (let d = firstDay; d < firstDay + days; d++) {
      for (let m = 0; m < meters; m++) {
        const meterId = `${prefix}-${m}`;
        const reads = Array.from({ length: 24 }, (_, h) => {
          const hoursAgo = d * 24 + (24 - h);
          return { ts: hourNow - hoursAgo * HOUR, registerL: 1_000_000 - hoursAgo * 7 };
        });
        out.push({ meterId, reads });
      }
    }
    return out;
  }

  /**
   * Publishes at QoS 1 over several connections, a few messages in flight on
   * each, and returns the keys of every read whose PUBACK came back.
   */
  async function publish(conns: MqttClient[], messages: readonly Message[], inFlightPerConnection = 8): Promise<string[]> {
    const acked: string[] = [];
    let next = 0;
    const lane = async (c: MqttClient) => {
      for (let i = next++; i < messages.length; i = next++) {
        const m = messages[i]!;
        await c.publishAsync(topics.meterReads(m.meterId), encodeMeterReads(m.reads), { qos: 1 });
        for (const r of m.reads) acked.push(key(m.meterId, r.ts));
      }
    };
    await Promise.all(conns.flatMap((c) => Array.from({ length: inFlightPerConnection }, () => lane(c))));
    return acked;
  }

  async function storedKeys(store: SqliteStore): Promise<string[]> {
    const keys: string[] = [];
    for (let cursor = 0; ; ) {
      const page = await store.readsAfter(cursor, 10_000);
      if (page.reads.length === 0) return keys;
      for (const r of page.reads) keys.push(key(r.meterId, r.ts));
      cursor = page.cursor;
    }
  }

  async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  const sorted = (xs: readonly string[]) => [...xs].sort();

  it('stores every read the fleet had acknowledged, exactly once, within a bounded window', async () => {
    const worker = await startWorker('ingest-solo', { MQTT_RECEIVE_MAXIMUM: '20', INGEST_BATCH_MAX_DELAY_MS: '30' });
    const store = stores[0]!;
    const conns = await Promise.all([1, 2, 3].map((i) => fleetConnection(`fleet-solo-${i}`)));
    const acked = await publish(conns, meterDays('M-solo', 60, 5));
    expect(acked).toHaveLength(60 * 5 * 24);
    await until('every acknowledged read stored', async () => (await storedKeys(store)).length >= acked.length);
    expect(sorted(await storedKeys(store))).toEqual(sorted(acked));

    const totals = worker.subscriber!.metrics.totals;
    await until('every message acknowledged to the broker', () => totals.acknowledged === 300);
    expect(worker.metrics.totals).toMatchObject({ readsStored: 7200, readsDuplicate: 0, messagesAccepted: 300 });
    expect(totals.received).toBe(300);
    // The window: never more than MQTT_RECEIVE_MAXIMUM waiting for a commit, and it did fill (back-pressure ran).
    expect(totals.maxUnacked).toBeLessThanOrEqual(20);
    expect(totals.windowFull).toBeGreaterThan(0);
    expect((await worker.subscriber!.metrics.unacked.get()).values[0]?.value).toBe(0);
  });

  it('splits the load across two workers of one share group, and a worker stopped mid-stream gets its queued share on return', async () => {
    const shared = { MQTT_SHARE_GROUP: 'suido-ingest' };
    const a = await startWorker('ingest-a', shared);
    let b = await startWorker('ingest-b', shared);
    const conns = await Promise.all([1, 2].map((i) => fleetConnection(`fleet-share-${i}`)));

    const first = await publish(conns, meterDays('M-share', 40, 3));
    const bFirst = b;
    await stopWorker(b); // commits and acknowledges what it holds, then DISCONNECT: the session stays
    const second = await publish(conns, meterDays('M-share', 40, 3, 3));
    b = await startWorker('ingest-b', shared, { store: openStore() });

    const expected = [...first, ...second];
    const store = stores[0]!;
    await until('every acknowledged read stored', async () => (await storedKeys(store)).length >= expected.length);
    expect(sorted(await storedKeys(store))).toEqual(sorted(expected));

    const aTotals = a.metrics.totals;
    const bTotals = b.metrics.totals;
    expect(a.subscriber!.metrics.totals.received).toBeGreaterThan(0);
    expect(bFirst.subscriber!.metrics.totals.received).toBeGreaterThan(0);
    // What Mosquitto routed to B's session while B was away, delivered when it came back.
    expect(b.subscriber!.metrics.totals.sessionsResumed).toBe(1);
    expect(b.subscriber!.metrics.totals.received - b.subscriber!.metrics.totals.redelivered).toBeGreaterThan(0);
    // Each message went to one worker only: no read reached the store twice.
    expect(aTotals.readsStored + bFirst.metrics.totals.readsStored + bTotals.readsStored).toBe(expected.length);
    expect(aTotals.readsDuplicate + bFirst.metrics.totals.readsDuplicate + bTotals.readsDuplicate).toBe(0);
  });

  it('loses nothing when a worker is killed (SIGKILL) holding uncommitted messages: they were never acknowledged', async () => {
    const opsPort = await freePort();
    sessions.add('ingest-killed');
    // Commits wait 10 s: everything the worker takes is still uncommitted when it dies.
    const env = { ...process.env, ...workerEnv('ingest-killed', { INGEST_HTTP_PORT: String(opsPort), INGEST_BATCH_MAX_DELAY_MS: '10000', INGEST_BATCH_MAX_ITEMS: '1000000', LOG_LEVEL: 'warn' }) };
    const child = spawn(process.execPath, ['--import', 'tsx', 'ingest/src/main.ts'], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let output = '';
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const unacked = async () => {
      try {
        const text = await (await fetch(`http://127.0.0.1:${opsPort}/metrics`)).text();
        return Number(/^suido_ingest_mqtt_unacked_messages (\d+)/m.exec(text)?.[1] ?? -1);
      } catch {
        return -1;
      }
    };
    // A cold tsx start on a busy machine takes seconds.
    await until('worker process ready', async () => (await unacked()) === 0, 40_000).catch((err: Error) => {
      throw new Error(`${err.message}; its output:\n${output}`);
    });

    const conn = await fleetConnection('fleet-kill');
    const acked = await publish([conn], meterDays('M-kill', 25, 2));
    await until('the worker holds all 50 messages unacknowledged', async () => (await unacked()) === 50);
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    const store = openStore();
    expect(await storedKeys(store)).toEqual([]);

    const again = await startWorker('ingest-killed', {}, { store });
    await until('every acknowledged read stored', async () => (await storedKeys(store)).length >= acked.length);
    expect(sorted(await storedKeys(store))).toEqual(sorted(acked));
    expect(again.subscriber!.metrics.totals).toMatchObject({ sessionsResumed: 1, redelivered: 50 });
  }, 60_000);

  it('dead-letters malformed payloads and acknowledges them, so they never block the window', async () => {
    const worker = await startWorker('ingest-dlq', { MQTT_RECEIVE_MAXIMUM: '4' });
    const store = stores[0]!;
    const c = await fleetConnection('fleet-dlq');
    const good = meterDays('M-dlq', 10, 1);
    for (let i = 0; i < 10; i++) {
      // Three bad messages before each good one: more than a window of them in a row.
      await c.publishAsync(topics.meterReads(`M-bad-${i}`), Buffer.from('{"reads": [{"ts": "soon", "registerL": 1}]}'), { qos: 1 });
      await c.publishAsync(topics.meterReads(`M-bad-${i}`), Buffer.from([0xff, 0x00, 0x13]), { qos: 1 });
      await c.publishAsync(topics.meterStatus(`M-bad-${i}`), Buffer.from('not json'), { qos: 1 });
      await c.publishAsync(topics.meterReads(good[i]!.meterId), encodeMeterReads(good[i]!.reads), { qos: 1 });
    }
    await until('the good reads stored', async () => (await storedKeys(store)).length >= 240);
    const totals = worker.subscriber!.metrics.totals;
    await until('all 40 messages acknowledged', () => totals.acknowledged === 40);
    const letters = await store.deadLetters({ limit: 100 });
    expect(letters).toHaveLength(30);
    expect(new Set(letters.map((l) => l.code))).toEqual(new Set(['READ_TS_INVALID', 'READS_JSON_INVALID', 'STATUS_JSON_INVALID']));
    // The publisher's id does not travel through an external broker (MQTT 5 has no field for it).
    expect(letters.every((l) => l.clientId === null)).toBe(true);
    expect(totals.maxUnacked).toBeLessThanOrEqual(4);
  });

  it('does not acknowledge a failed commit: it reconnects with back-off and the broker redelivers', async () => {
    const real = openStore();
    let failuresLeft = 2;
    const flaky = Object.create(real) as SqliteStore;
    flaky.commit = (batch) => (failuresLeft-- > 0 ? Promise.reject(new Error('disk I/O error (injected)')) : real.commit(batch));
    const worker = await startWorker('ingest-flaky', {}, { store: flaky });
    const c = await fleetConnection('fleet-flaky');
    const acked = await publish([c], meterDays('M-flaky', 10, 2), 4);
    await until('every acknowledged read stored', async () => (await storedKeys(real)).length >= acked.length);
    expect(sorted(await storedKeys(real))).toEqual(sorted(acked));
    const totals = worker.subscriber!.metrics.totals;
    expect(totals.storeFailures).toBeGreaterThanOrEqual(1);
    expect(totals.redelivered).toBeGreaterThan(0);
    expect(totals.connects).toBeGreaterThanOrEqual(2);
    expect(totals.sessionsResumed).toBe(totals.connects - 1);
    expect((await worker.metrics.storeErrors.get()).values[0]?.value).toBeGreaterThanOrEqual(1);
  });

  it('gets back what the broker queued for it across a broker restart, and reconnects by itself', async () => {
    let worker = await startWorker('ingest-restart');
    const store = stores[0]!;
    await stopWorker(worker);
    const c = await fleetConnection('fleet-restart');
    const queued = await publish([c], meterDays('M-restart', 20, 2));
    // SIGTERM: Mosquitto writes its snapshot; the queue for ingest-restart must survive it.
    await broker.restart();
    worker = await startWorker('ingest-restart', {}, { store });
    await until('the queued reads stored', async () => (await storedKeys(store)).length >= queued.length);
    expect(worker.subscriber!.metrics.totals.sessionsResumed).toBe(1);

    await broker.restart();
    await until('the worker reconnected', () => worker.mqttReady());
    await until('the fleet reconnected', () => c.connected);
    const later = await publish([c], meterDays('M-restart', 20, 1, 2));
    const expected = [...queued, ...later];
    await until('the later reads stored', async () => (await storedKeys(store)).length >= expected.length);
    expect(sorted(await storedKeys(store))).toEqual(sorted(expected));
    expect(worker.subscriber!.metrics.totals.connects).toBe(2);
  });

  it('refuses wrong credentials at start, naming the variables, and never logs the password', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const log = pino({ level: 'trace' }, sink);
    const wrong = 'not-the-password-7d1e';
    await expect(startWorker('ingest-wrong', { MQTT_PASSWORD: wrong }, { log })).rejects.toMatchObject({
      code: 'MQTT_CONNECT_REFUSED',
      message: expect.stringContaining('MQTT_PASSWORD'),
    });
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join('')).not.toContain(wrong);
  });
});

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
