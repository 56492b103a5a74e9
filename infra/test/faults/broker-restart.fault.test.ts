import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore, encodeMeterReads, topics } from '@suido/ingest';
import { startMosquitto, type RunningMosquitto } from '../../src/services/index.ts';
import { freePort, httpOk, printTally, startSuidoProcess, type SuidoProcess, publishUntilAcked } from './suido-process.ts';

/**
 * The external broker (Mosquitto, production conf.d: persistence, bounded
 * queues) restarted mid-stream while meters publish through it at QoS 1 and
 * an ingest process (external mode, persistent session) consumes. Mosquitto
 * writes its snapshot on SIGTERM, the meters resend what was in flight, the
 * ingest session resumes: every read a meter had acknowledged by the broker
 * ends up stored once.
 */
const METERS = 8;
const MESSAGES_PER_METER = Number(process.env.FAULT_MESSAGES ?? 20);
const READS_PER_MESSAGE = 24;
const HOUR = 3_600_000;

async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('fault: the external broker restarted mid-stream (Mosquitto, separate OS processes)', () => {
  let dir: string | undefined;
  let broker: RunningMosquitto | undefined;
  let ingest: SuidoProcess | undefined;
  const clients: MqttClient[] = [];

  afterAll(async () => {
    for (const c of clients) c.end(true);
    await ingest?.kill9();
    await broker?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('loses and duplicates nothing the broker had acknowledged', async () => {
    dir = await mkdtemp(join(tmpdir(), 'suido-fault-broker-'));
    const users = { 'suido-ingest': 'ingest-secret-for-the-fault-test', meter: 'meter-secret-for-the-fault-test' };
    broker = await startMosquitto({ users });
    const httpPort = await freePort();
    ingest = await startSuidoProcess({
      entry: 'ingest/src/main.ts',
      env: {
        SUIDO_DATA_DIR: dir,
        INGEST_MQTT_MODE: 'external',
        MQTT_URL: broker.url,
        MQTT_CLIENT_ID: 'suido-ingest-fault',
        MQTT_USERNAME: 'suido-ingest',
        MQTT_PASSWORD: users['suido-ingest'],
        INGEST_HTTP_PORT: String(httpPort),
        INGEST_BATCH_MAX_DELAY_MS: '5',
      },
      ready: () => httpOk(`http://127.0.0.1:${httpPort}/readyz`),
    });

    const end = Math.floor(Date.now() / HOUR) * HOUR;
    const firstTs = end - MESSAGES_PER_METER * READS_PER_MESSAGE * HOUR;
    const total = METERS * MESSAGES_PER_METER * READS_PER_MESSAGE;
    let sent = 0;
    let acked = 0;
    let resends = 0;
    const ackedReads = new Map<string, number>();
    const publishers = Array.from({ length: METERS }, async (_, i) => {
      const id = `M-${String(i).padStart(4, '0')}`;
      const client = mqtt.connect(broker!.url, {
        clientId: `meter-${id}`,
        username: 'meter',
        password: users.meter,
        reconnectPeriod: 200,
        connectTimeout: 5000,
      });
      clients.push(client);
      client.on('error', () => {});
      for (let m = 0; m < MESSAGES_PER_METER; m++) {
        const reads = Array.from({ length: READS_PER_MESSAGE }, (_, h) => {
          const k = m * READS_PER_MESSAGE + h;
          return { ts: firstTs + k * HOUR, registerL: 70_000 * i + 9 * k };
        });
        sent += reads.length;
        resends += await publishUntilAcked(client, topics.meterReads(id), encodeMeterReads(reads), 100);
        acked += reads.length;
        for (const r of reads) ackedReads.set(`${id}@${r.ts}`, r.registerL);
      }
    });
    let restarts = 0;
    const fault = (async () => {
      while (acked < total / 3) await new Promise((r) => setTimeout(r, 10));
      await broker!.restart();
      restarts++;
    })();
    await Promise.all([...publishers, fault]);

    // The broker acknowledged every read; ingest stores them as it consumes.
    const store = new SqliteStore({ path: join(dir, 'suido.db') });
    try {
      const storedCount = async () => {
        let n = 0;
        for (let i = 0; i < METERS; i++) n += (await store.readsInRange(`M-${String(i).padStart(4, '0')}`, firstTs, end + HOUR, total)).length;
        return n;
      };
      await waitFor('ingest to store every acknowledged read', async () => (await storedCount()) >= total);
      await ingest.stop();
      ingest = undefined;

      let stored = 0;
      let lost = 0;
      for (let i = 0; i < METERS; i++) {
        const id = `M-${String(i).padStart(4, '0')}`;
        const rows = await store.readsInRange(id, firstTs, end + HOUR, total);
        stored += rows.length;
        const byTs = new Map(rows.map((r) => [r.ts, r.registerL]));
        for (const [key, registerL] of ackedReads) {
          if (key.startsWith(`${id}@`) && byTs.get(Number(key.slice(id.length + 1))) !== registerL) lost++;
        }
      }
      const seen = new Set<string>();
      let duplicates = 0;
      for (let cursor = 0; ; ) {
        const page = await store.readsAfter(cursor, 5000);
        for (const r of page.reads) {
          const key = `${r.meterId}@${r.ts}`;
          if (seen.has(key)) duplicates++;
          seen.add(key);
        }
        if (page.cursor === cursor) break;
        cursor = page.cursor;
      }
      printTally({ scenario: 'external broker (Mosquitto) restarted mid-stream', kills: 1, restarts, sent, acked, stored, duplicates, lost });
      console.log(`  messages the devices sent again after a failed publish: ${resends}`);
      expect(restarts).toBe(1);
      expect(acked).toBe(total);
      expect(lost).toBe(0);
      expect(duplicates).toBe(0);
      expect(stored).toBe(total);
    } finally {
      await store.close();
    }
  }, 240_000);
});
