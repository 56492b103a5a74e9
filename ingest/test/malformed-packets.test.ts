import { mkdtemp, rm } from 'node:fs/promises';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import mqtt from 'mqtt';
import mqttPacket from 'mqtt-packet';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IngestService, SqliteStore, encodeMeterReads, loadIngestConfig, topics } from '../src/index.ts';

/**
 * Malformed, truncated and oversize MQTT packets thrown at the real broker
 * over TCP while a well-behaved meter keeps publishing: the broker must not
 * crash, the bad connections must go, and the good meter must not notice.
 */
const CASES = Number(process.env.FUZZ_MQTT_CASES ?? 300);
const CONCURRENCY = 20;
const MAX_PAYLOAD = 64 * 1024;
const HOUR = 3_600_000;
const log = pino({ level: 'silent' });

describe('broker under malformed MQTT packets (real aedes over TCP)', () => {
  let dir: string;
  let store: SqliteStore;
  let service: IngestService;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'suido-fuzz-mqtt-'));
    store = new SqliteStore({ path: join(dir, 'suido.db') });
    const config = loadIngestConfig({
      SUIDO_DATA_DIR: dir,
      MQTT_PORT: '0',
      INGEST_HTTP_PORT: '0',
      INGEST_BATCH_MAX_DELAY_MS: '5',
      INGEST_MAX_PAYLOAD_BYTES: String(MAX_PAYLOAD),
      // The parser's robustness, not access: anonymous CONNECTs get through to the packets behind them.
      MQTT_ALLOW_ANONYMOUS: 'true',
    });
    service = await IngestService.start({ config, store, registry: new Registry(), log });
  });

  afterAll(async () => {
    await service?.close();
    await store?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Sends bytes on a fresh connection; resolves when the broker closes it or after a short wait. */
  function throwBytes(bytes: Uint8Array): Promise<{ closedByBroker: boolean; received: number }> {
    return new Promise((resolve) => {
      const socket = tcpConnect(service.broker.port, '127.0.0.1');
      let received = 0;
      let settled = false;
      const finish = (closedByBroker: boolean) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.destroy();
        resolve({ closedByBroker, received });
      };
      const timer = setTimeout(() => finish(false), 300);
      socket.on('data', (d) => (received += d.length));
      socket.on('error', () => finish(true));
      socket.on('close', () => finish(true));
      socket.on('connect', () => socket.write(bytes));
    });
  }

  const connectPacket = (clientId: string) =>
    mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId, keepalive: 30 });
  const publishPacket = (topic: string, payload: Buffer, messageId: number) =>
    mqttPacket.generate({ cmd: 'publish', topic, payload, qos: 1, messageId, retain: false, dup: false });

  it(`survives ${CASES} malformed and truncated packets while a good meter publishes`, async () => {
    const now = Date.now();
    const validPublish = fc
      .tuple(fc.string({ maxLength: 20 }), fc.uint8Array({ maxLength: 64 }), fc.integer({ min: 1, max: 65535 }))
      .map(([id, body, messageId]) => publishPacket(`water/v1/meters/${id}/reads`, Buffer.from(body), messageId));
    const mutate = (packet: Buffer, at: number, byte: number, cut: number) => {
      const copy = Buffer.from(packet);
      copy[at % copy.length] = byte;
      return cut % 3 === 0 ? copy.subarray(0, cut % copy.length) : copy;
    };
    const caseArb = fc.oneof(
      // Garbage from the first byte.
      fc.uint8Array({ minLength: 1, maxLength: 200 }),
      // A valid CONNECT, then garbage.
      fc.uint8Array({ minLength: 1, maxLength: 200 }).map((junk) => Buffer.concat([connectPacket('fuzz'), junk])),
      // A valid CONNECT, then a PUBLISH with one byte changed or cut short.
      fc
        .tuple(validPublish, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.nat())
        .map(([p, at, byte, cut]) => Buffer.concat([connectPacket('fuzz'), mutate(p, at, byte, cut)])),
      // A CONNECT with one byte changed.
      fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })).map(([at, byte]) => mutate(connectPacket('fuzz'), at, byte, 1)),
    );
    const cases = fc.sample(caseArb, { numRuns: CASES, seed: 20261125 });

    const good = await mqtt.connectAsync(service.broker.url, { clientId: 'meter-good', reconnectPeriod: 0 });
    try {
      let hour = 0;
      for (let i = 0; i < cases.length; i += CONCURRENCY) {
        const goodPublish = good.publishAsync(
          topics.meterReads('M-GOOD'),
          encodeMeterReads([{ ts: now - 200 * HOUR + hour * HOUR, registerL: 1000 + hour }]),
          { qos: 1 },
        );
        hour++;
        await Promise.all([...cases.slice(i, i + CONCURRENCY).map((c) => throwBytes(c)), goodPublish]);
      }
      expect(good.connected).toBe(true);
      const stored = await store.readsInRange('M-GOOD', now - 300 * HOUR, now, 1000);
      expect(stored.map((r) => r.registerL)).toEqual(Array.from({ length: hour }, (_, h) => 1000 + h));
    } finally {
      await good.endAsync(true);
    }
    // Every read stored came from a well-formed message: only the good meter, or
    // a fuzz publish whose payload happened to decode (not plausible here).
    const devices = await store.listDevices({ limit: 100 });
    expect(devices.map((d) => d.id)).toEqual(['M-GOOD']);
  });

  it('closes a connection whose PUBLISH announces more than the limit, before the body arrives, and keeps serving others', async () => {
    const other = await mqtt.connectAsync(service.broker.url, { clientId: 'meter-other', reconnectPeriod: 0 });
    try {
      // Announce a 50 MB PUBLISH, send only its header and the first KiB.
      const header = Buffer.from([0x32, 0x80, 0x80, 0x80, 0x19]); // PUBLISH QoS 1, remaining length 52,428,800
      const result = await throwBytes(Buffer.concat([connectPacket('big'), header, Buffer.alloc(1024)]));
      expect(result.closedByBroker).toBe(true);

      // At the limit a payload still goes through; one byte over the decoder's
      // payload limit is dead-lettered (the packet limit leaves room for the topic).
      const now = Date.now();
      await other.publishAsync(topics.meterReads('M-OTHER'), encodeMeterReads([{ ts: now - HOUR, registerL: 7 }]), { qos: 1 });
      expect((await store.latestRead('M-OTHER'))?.registerL).toBe(7);
      await other.publishAsync(topics.meterReads('M-OTHER'), Buffer.alloc(MAX_PAYLOAD + 1, 0x20), { qos: 1 });
      const letters = await store.deadLetters({ code: 'PAYLOAD_TOO_LARGE', limit: 10 });
      expect(letters.some((l) => l.code === 'PAYLOAD_TOO_LARGE')).toBe(true);
      expect(other.connected).toBe(true);
    } finally {
      await other.endAsync(true);
    }
  });
});
