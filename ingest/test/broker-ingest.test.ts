import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  IngestService,
  SqliteStore,
  encodeAcousticFrame,
  encodeMeterReads,
  loadIngestConfig,
  topics,
  type Store,
} from '../src/index.ts';

const HOUR = 3_600_000;
const log = pino({ level: 'silent' });

describe('embedded broker → ingest → SQLite, over real MQTT/TCP', () => {
  let dir: string;
  let store: SqliteStore;
  let service: IngestService;
  let clients: MqttClient[];

  async function startService(s: SqliteStore = store): Promise<IngestService> {
    // Ingest's behaviour, not access (test/device-acl.test.ts): clients connect anonymously.
    const config = loadIngestConfig({ SUIDO_DATA_DIR: dir, MQTT_PORT: '0', INGEST_BATCH_MAX_DELAY_MS: '5', MQTT_ALLOW_ANONYMOUS: 'true' });
    return IngestService.start({ config, store: s, registry: new Registry(), log });
  }

  async function connect(clientId: string): Promise<MqttClient> {
    const c = await mqtt.connectAsync(service.broker.url, { clientId, reconnectPeriod: 0, connectTimeout: 5000 });
    clients.push(c);
    return c;
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'suido-ingest-'));
    store = new SqliteStore({ path: join(dir, 'suido.db') });
    service = await startService();
    clients = [];
  });

  afterEach(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true)));
    await service.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('stores a batch before its PUBACK, once however often it is sent', async () => {
    const now = Date.now();
    const reads = Array.from({ length: 24 }, (_, h) => ({ ts: now - (24 - h) * HOUR, registerL: 5000 + h * 13 }));
    const meter = await connect('meter-M-1');
    await meter.publishAsync(topics.meterReads('M-1'), encodeMeterReads(reads), { qos: 1 });
    // No flush, no wait: the PUBACK itself promises the reads are committed.
    const stored = await store.readsInRange('M-1', now - 30 * HOUR, now, 100);
    expect(stored.map((r) => r.registerL)).toEqual(reads.map((r) => r.registerL));

    await meter.publishAsync(topics.meterReads('M-1'), encodeMeterReads(reads), { qos: 1 });
    await meter.publishAsync(topics.meterReads('M-1'), encodeMeterReads(reads.slice(0, 5)), { qos: 1 });
    expect(await store.readsInRange('M-1', now - 30 * HOUR, now, 100)).toHaveLength(24);
    expect(service.metrics.totals).toMatchObject({ readsStored: 24, readsDuplicate: 29, messagesAccepted: 3 });
  });

  it('dead-letters malformed payloads with their reason and stores every valid neighbour', async () => {
    const now = Date.now();
    const c = await connect('mixed-gateway');
    const good = (id: string) => c.publishAsync(topics.meterReads(id), encodeMeterReads([{ ts: now - HOUR, registerL: 42 }]), { qos: 1 });
    await Promise.all([
      good('M-1'),
      c.publishAsync(topics.meterReads('M-2'), Buffer.from('{"reads": [{"ts": "soon", "registerL": 1}]}'), { qos: 1 }),
      good('M-3'),
      c.publishAsync(topics.meterReads('M-4'), Buffer.from([0xff, 0x00, 0x13]), { qos: 1 }),
      c.publishAsync(topics.sensorAcoustic('S-1'), Buffer.from('RIFF....'), { qos: 1 }),
      c.publishAsync('water/v1/meters/M-5/readz', Buffer.from('{}'), { qos: 1 }),
      good('M-6'),
    ]);
    for (const id of ['M-1', 'M-3', 'M-6']) expect((await store.latestRead(id))?.registerL).toBe(42);
    const letters = await store.deadLetters({ limit: 10 });
    expect(letters.map((l) => [l.topic, l.code, l.clientId])).toEqual([
      ['water/v1/meters/M-2/reads', 'READ_TS_INVALID', 'mixed-gateway'],
      ['water/v1/meters/M-4/reads', 'READS_JSON_INVALID', 'mixed-gateway'],
      ['water/v1/sensors/S-1/acoustic', 'FRAME_TOO_SHORT', 'mixed-gateway'],
      ['water/v1/meters/M-5/readz', 'TOPIC_UNKNOWN', 'mixed-gateway'],
    ]);
    expect(Buffer.from(letters[1]!.payload)).toEqual(Buffer.from([0xff, 0x00, 0x13]));
    expect(service.metrics.totals.rejectedByCode).toEqual({ READ_TS_INVALID: 1, READS_JSON_INVALID: 1, FRAME_TOO_SHORT: 1, TOPIC_UNKNOWN: 1 });
  });

  it('keeps the first register when a read is resent with another value, and dead-letters the contradiction', async () => {
    const ts = Date.now() - HOUR;
    const c = await connect('meter-M-7');
    await c.publishAsync(topics.meterReads('M-7'), encodeMeterReads([{ ts, registerL: 100 }]), { qos: 1 });
    await c.publishAsync(topics.meterReads('M-7'), encodeMeterReads([{ ts, registerL: 999 }]), { qos: 1 });
    expect((await store.latestRead('M-7'))?.registerL).toBe(100);
    const [letter] = await store.deadLetters({ code: 'READ_CONFLICT', limit: 5 });
    expect(letter?.message).toContain('999');
    expect(JSON.parse(Buffer.from(letter!.payload).toString())).toMatchObject({ registerL: 999, storedRegisterL: 100 });
  });

  it('stores acoustic frames with their level, once', async () => {
    const startMs = Date.now() - 60_000;
    const samples = Int16Array.from({ length: 4000 }, (_, i) => Math.round(3276.8 * Math.sin(i / 3)));
    const c = await connect('sensor-S-2');
    const payload = encodeAcousticFrame({ startMs, sampleRateHz: 4000, gainDb: 30, samples });
    await c.publishAsync(topics.sensorAcoustic('S-2'), payload, { qos: 1 });
    await c.publishAsync(topics.sensorAcoustic('S-2'), payload, { qos: 1 });
    const frames = await store.framesInRange('S-2', startMs, startMs + 1, 10);
    expect(frames).toHaveLength(1);
    expect(frames[0]!.samples).toEqual(samples);
    // A sine at 0.1 of full scale has an RMS of 0.1/√2: −23.0 dBFS.
    expect(frames[0]!.summary.rmsDbfs).toBeCloseTo(-23.01, 1);
  });

  it('does not acknowledge what it could not store', async () => {
    const c = await connect('meter-M-8');
    await store.close(); // the database goes away under the broker
    const closed = new Promise<void>((resolve) => c.once('close', () => resolve()));
    let acked = false;
    c.publishAsync(topics.meterReads('M-8'), encodeMeterReads([{ ts: Date.now() - HOUR, registerL: 1 }]), { qos: 1 }).then(
      () => (acked = true),
      () => {},
    );
    await closed; // aedes drops the connection instead of sending PUBACK
    expect(acked).toBe(false);
    expect((await service.metrics.storeErrors.get()).values[0]?.value).toBe(1);
    store = new SqliteStore({ path: join(dir, 'suido.db') });
  });

  it('loses nothing across a restart on the same data directory', async () => {
    const now = Date.now();
    const c = await connect('meter-M-9');
    const reads = Array.from({ length: 48 }, (_, h) => ({ ts: now - (48 - h) * HOUR, registerL: h * 10 }));
    await c.publishAsync(topics.meterReads('M-9'), encodeMeterReads(reads.slice(0, 24)), { qos: 1 });
    await c.endAsync();
    await service.close();
    await store.close();

    store = new SqliteStore({ path: join(dir, 'suido.db') });
    service = await startService();
    const again = await connect('meter-M-9b');
    await again.publishAsync(topics.meterReads('M-9'), encodeMeterReads(reads), { qos: 1 });
    const stored = await store.readsInRange('M-9', now - 49 * HOUR, now, 100);
    expect(stored.map((r) => r.registerL)).toEqual(reads.map((r) => r.registerL));
    expect(service.metrics.totals).toMatchObject({ readsStored: 24, readsDuplicate: 24 });
  });
});
