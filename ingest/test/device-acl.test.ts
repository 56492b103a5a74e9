import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  IngestService,
  MQTT_SERVICE_USERNAME,
  SqliteStore,
  encodeAcousticFrame,
  encodeMeterReads,
  issueMqttCredential,
  loadIngestConfig,
  topics,
} from '../src/index.ts';

const HOUR = 3_600_000;
const SERVICE_PASSWORD = 'acl-test-service-password-9f8e7d6c5b4a';

describe('device ACL on the embedded broker, over real MQTT/TCP', () => {
  let dir: string;
  let store: SqliteStore;
  let service: IngestService;
  let clients: MqttClient[];
  let logLines: string[];
  const secrets = new Map<string, string>();

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'suido-acl-'));
    store = new SqliteStore({ path: join(dir, 'suido.db') });
    await store.upsertDevices([
      { id: 'M-1', kind: 'meter', district: 'Naka' },
      { id: 'M-2', kind: 'meter', district: 'Naka' },
      { id: 'M-3', kind: 'meter', district: 'Aki', gatewayId: 'hes-1' },
      { id: 'S-1', kind: 'sensor', district: 'Naka', pipeId: 'P-1', pipeMaterial: 'pvc' },
    ]);
    for (const id of ['M-1', 'M-2', 'S-1']) secrets.set(id, (await issueMqttCredential(store, id, 'device')).secret);
    secrets.set('hes-1', (await issueMqttCredential(store, 'hes-1', 'gateway')).secret);
    logLines = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        logLines.push(chunk.toString());
        done();
      },
    });
    const config = loadIngestConfig({ SUIDO_DATA_DIR: dir, MQTT_PORT: '0', INGEST_BATCH_MAX_DELAY_MS: '5', MQTT_SERVICE_PASSWORD: SERVICE_PASSWORD });
    service = await IngestService.start({
      // A fast recheck so that revocation of a live connection shows within the test.
      config: { ...config, mqttAuth: { ...config.mqttAuth, credentialRecheckMs: 50 } },
      store,
      registry: new Registry(),
      log: pino({ level: 'debug' }, sink),
    });
    clients = [];
  });

  afterEach(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true)));
    await service.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  function connect(clientId: string, login: Pick<IClientOptions, 'username' | 'password'> = {}): Promise<MqttClient> {
    return mqtt.connectAsync(service.broker.url, { clientId, reconnectPeriod: 0, connectTimeout: 5000, ...login }).then((c) => {
      clients.push(c);
      return c;
    });
  }
  const asDevice = (id: string) => connect(`dev-${id}`, { username: id, password: secrets.get(id)! });
  /** The CONNACK return code of a refused connection. */
  const refusedWith = (login: Pick<IClientOptions, 'username' | 'password'>) =>
    connect('intruder', login).then(
      () => 0,
      (err: { code?: number }) => err.code,
    );
  const readsAt = (registerL: number) => encodeMeterReads([{ ts: Date.now() - HOUR, registerL }]);

  /** Publishes and reports whether a PUBACK came before the broker closed the connection. */
  async function publishOutcome(c: MqttClient, topic: string, payload: Buffer): Promise<'acked' | 'closed'> {
    const closed = new Promise<'closed'>((resolve) => c.once('close', () => resolve('closed')));
    const acked = c.publishAsync(topic, payload, { qos: 1 }).then(
      () => 'acked' as const,
      () => new Promise<never>(() => {}),
    );
    return Promise.race([acked, closed]);
  }

  it("stores a device's own reads, acknowledged", async () => {
    const m1 = await asDevice('M-1');
    expect(await publishOutcome(m1, topics.meterReads('M-1'), readsAt(100))).toBe('acked');
    expect((await store.latestRead('M-1'))?.registerL).toBe(100);
  });

  it("refuses a device publishing under another device's id: nothing stored, no dead letter, no PUBACK, and the broker serves the others", async () => {
    const m1 = await asDevice('M-1');
    expect(await publishOutcome(m1, topics.meterReads('M-2'), readsAt(666))).toBe('closed');
    expect(await store.latestRead('M-2')).toBeUndefined();
    expect(await store.deadLetters({ limit: 10 })).toEqual([]);
    expect(service.metrics.totals.messagesAccepted + service.metrics.totals.messagesRejected).toBe(0);
    expect(service.broker.refusals).toEqual({ MQTT_TOPIC_NOT_OWN_DEVICE: 1 });

    // Its own kind's collection only: a meter's id under sensors/ is not its topic.
    const again = await asDevice('M-1');
    const frame = encodeAcousticFrame({ startMs: Date.now() - 60_000, sampleRateHz: 4000, gainDb: 0, samples: new Int16Array(400) });
    expect(await publishOutcome(again, topics.sensorAcoustic('M-1'), frame)).toBe('closed');
    expect(await store.framesInRange('M-1', 0, Date.now(), 10)).toEqual([]);

    const m2 = await asDevice('M-2');
    expect(await publishOutcome(m2, topics.meterReads('M-2'), readsAt(7))).toBe('acked');
    const s1 = await asDevice('S-1');
    expect(await publishOutcome(s1, topics.sensorAcoustic('S-1'), frame)).toBe('acked');
    expect((await store.latestRead('M-2'))?.registerL).toBe(7);
    expect(await store.framesInRange('S-1', 0, Date.now(), 10)).toHaveLength(1);
  });

  it('refuses a device publishing outside device topics (alerts, other trees)', async () => {
    for (const topic of ['water/v1/alerts/leak/S-1', 'elsewhere/M-1', '$SYS/fake']) {
      const m1 = await asDevice('M-1');
      expect(await publishOutcome(m1, topic, Buffer.from('{}')), topic).toBe('closed');
    }
    expect(service.broker.refusals).toEqual({ MQTT_TOPIC_NOT_ALLOWED: 3 });
  });

  it('answers CONNACK 5 to anonymous clients and 4 to a wrong, unknown or revoked credential', async () => {
    expect(await refusedWith({})).toBe(5);
    expect(await refusedWith({ username: 'M-1', password: 'not-the-secret' })).toBe(4);
    expect(await refusedWith({ username: 'M-1' })).toBe(4);
    expect(await refusedWith({ username: 'M-404', password: secrets.get('M-1')! })).toBe(4);
    expect(await refusedWith({ username: MQTT_SERVICE_USERNAME, password: secrets.get('M-1')! })).toBe(4);
    expect(await store.revokeMqttCredential('M-2', Date.now())).toBe(true);
    expect(await refusedWith({ username: 'M-2', password: secrets.get('M-2')! })).toBe(4);
    expect(service.broker.refusals).toEqual({ MQTT_ANONYMOUS_REFUSED: 1, MQTT_SECRET_WRONG: 3, MQTT_CREDENTIAL_UNKNOWN: 2 });
    // A rotated secret replaces the old one.
    const rotated = await issueMqttCredential(store, 'M-1', 'device');
    expect(await refusedWith({ username: 'M-1', password: secrets.get('M-1')! })).toBe(4);
    await connect('M-1-rotated', { username: 'M-1', password: rotated.secret });
  });

  it('disconnects a live connection once its credential is revoked', async () => {
    const gateway = await connect('hes-1-a', { username: 'hes-1', password: secrets.get('hes-1')! });
    const closed = new Promise<void>((resolve) => gateway.once('close', () => resolve()));
    await store.revokeMqttCredential('hes-1', Date.now());
    await closed;
    expect(service.broker.refusals).toEqual({ MQTT_CREDENTIAL_REVOKED: 1 });
  });

  it('lets a gateway publish for the devices the registry routes through it, and no others', async () => {
    const login = { username: 'hes-1', password: secrets.get('hes-1')! };
    const gateway = await connect('hes-1-a', login);
    expect(await publishOutcome(gateway, topics.meterReads('M-3'), readsAt(33))).toBe('acked');
    expect(await publishOutcome(gateway, topics.meterReads('M-1'), readsAt(666))).toBe('closed');
    expect((await store.latestRead('M-3'))?.registerL).toBe(33);
    expect(await store.latestRead('M-1')).toBeUndefined();
    // Re-import moves M-3 off the gateway: it applies at once.
    await store.upsertDevices([{ id: 'M-3', kind: 'meter', district: 'Aki' }]);
    const again = await connect('hes-1-b', login);
    expect(await publishOutcome(again, topics.meterReads('M-3'), readsAt(34))).toBe('closed');
    expect((await store.latestRead('M-3'))?.registerL).toBe(33);
  });

  it('lets devices subscribe to nothing, and the service subscribe to everything and publish alerts only', async () => {
    const m1 = await asDevice('M-1');
    // SUBACK 0x80 (mqtt.js rejects on it); the connection stays up.
    await expect(m1.subscribeAsync('water/v1/#', { qos: 1 })).rejects.toThrow(/Subscribe error/);
    expect(await publishOutcome(m1, topics.meterReads('M-1'), readsAt(5))).toBe('acked');

    const svc = await connect('suido-detect', { username: MQTT_SERVICE_USERNAME, password: SERVICE_PASSWORD });
    const [granted] = await svc.subscribeAsync('water/v1/#', { qos: 1 });
    expect(granted?.qos).toBe(1);
    const got = new Promise<string>((resolve) => svc.once('message', (topic) => resolve(topic)));
    expect(await publishOutcome(svc, 'water/v1/alerts/leak/S-1', Buffer.from('{"eventId":1}'))).toBe('acked');
    expect(await got).toBe('water/v1/alerts/leak/S-1');
    // Device data comes from devices and their gateways only.
    expect(await publishOutcome(svc, topics.meterReads('M-1'), readsAt(1))).toBe('closed');
    expect((await store.latestRead('M-1'))?.registerL).toBe(5);
    expect(service.broker.refusals).toEqual({ MQTT_SUBSCRIBE_NOT_ALLOWED: 1, MQTT_TOPIC_NOT_ALLOWED: 1 });
  });

  it('never writes a password or secret to the log', async () => {
    await refusedWith({ username: 'M-1', password: 'a-wrong-password-to-look-for' });
    await refusedWith({ username: MQTT_SERVICE_USERNAME, password: 'another-wrong-one-to-look-for' });
    const m1 = await asDevice('M-1');
    await publishOutcome(m1, topics.meterReads('M-2'), readsAt(1));
    const log = logLines.join('');
    expect(log).toContain('MQTT_SECRET_WRONG');
    expect(log).toContain('MQTT_TOPIC_NOT_OWN_DEVICE');
    for (const secret of [...secrets.values(), SERVICE_PASSWORD, 'a-wrong-password-to-look-for', 'another-wrong-one-to-look-for']) {
      expect(log).not.toContain(secret);
    }
  });
});
