import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore, encodeMeterReads, topics } from '@suido/ingest';
import { freePort, httpOk, printTally, startSuidoProcess, type SuidoProcess, publishUntilAcked } from './suido-process.ts';

/**
 * Acknowledged means stored, under kill -9: meters publish daily batches at
 * QoS 1 to the embedded broker while the ingest process is SIGKILLed again
 * and again mid-stream and restarted on the same data directory. Every read
 * whose PUBACK a meter received must be in the store exactly once, and the
 * store's read feed (what the meter rules consume) must not repeat any.
 */
const METERS = Number(process.env.FAULT_METERS ?? 12);
const MESSAGES_PER_METER = Number(process.env.FAULT_MESSAGES ?? 30);
const KILLS = Number(process.env.FAULT_KILLS ?? 4);
const IN_FLIGHT_PER_METER = 4;
const READS_PER_MESSAGE = 24;
const HOUR = 3_600_000;

describe('fault: ingest killed with SIGKILL mid-stream (separate OS process)', () => {
  let dir: string | undefined;
  let proc: SuidoProcess | undefined;
  /** The kill/restart loop: a failing test must wait for it, or a process it starts is left behind. */
  let killer: Promise<void> | undefined;
  let aborted = false;
  const clients: MqttClient[] = [];

  afterAll(async () => {
    for (const c of clients) c.end(true);
    aborted = true;
    await killer?.catch(() => {});
    await proc?.kill9();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it(`loses and duplicates nothing over ${KILLS} kills`, async () => {
    dir = await mkdtemp(join(tmpdir(), 'suido-fault-ingest-'));
    const mqttPort = await freePort();
    const httpPort = await freePort();
    const env = {
      SUIDO_DATA_DIR: dir,
      MQTT_PORT: String(mqttPort),
      INGEST_HTTP_PORT: String(httpPort),
      INGEST_BATCH_MAX_DELAY_MS: '5',
      MQTT_ALLOW_ANONYMOUS: 'true',
    };
    const start = () => startSuidoProcess({ entry: 'ingest/src/main.ts', env, ready: () => httpOk(`http://127.0.0.1:${httpPort}/readyz`) });
    proc = await start();

    const end = Math.floor(Date.now() / HOUR) * HOUR;
    const firstTs = end - MESSAGES_PER_METER * READS_PER_MESSAGE * HOUR;
    /** Message m of meter i: 24 consecutive hourly reads. */
    const batch = (i: number, m: number) =>
      Array.from({ length: READS_PER_MESSAGE }, (_, h) => {
        const k = m * READS_PER_MESSAGE + h;
        return { ts: firstTs + k * HOUR, registerL: 10_000 * i + 3 * k };
      });

    let sent = 0;
    let resends = 0;
    let acked = 0;
    const ackedReads = new Map<string, number>();
    const publishers = Array.from({ length: METERS }, async (_, i) => {
      const id = `M-${String(i).padStart(4, '0')}`;
      const client = mqtt.connect(`mqtt://127.0.0.1:${mqttPort}`, { clientId: `meter-${id}`, reconnectPeriod: 100, connectTimeout: 3000 });
      clients.push(client);
      client.on('error', () => {}); // reconnects; errors are the point of this test
      let next = 0;
      const lane = async () => {
        while (next < MESSAGES_PER_METER) {
          const m = next++;
          const reads = batch(i, m);
          sent += reads.length;
          // mqtt.js fails a publish queued while it replays its session and the
          // connection drops again ("Connection closed"): not acknowledged, so
          // the device sends it again, as real firmware does.
          resends += await publishUntilAcked(client, topics.meterReads(id), encodeMeterReads(reads), 50);
          acked += reads.length;
          for (const r of reads) ackedReads.set(`${id}@${r.ts}`, r.registerL);
        }
      };
      await Promise.all(Array.from({ length: IN_FLIGHT_PER_METER }, lane));
    });

    let kills = 0;
    let restarts = 0;
    const total = METERS * MESSAGES_PER_METER * READS_PER_MESSAGE;
    // Kill at even steps of progress, so every kill lands mid-stream
    // whatever the machine's speed.
    killer = (async () => {
      while (kills < KILLS && acked < total) {
        const at = ((kills + 1) / (KILLS + 1)) * total;
        while (acked < at && !aborted) await new Promise((r) => setTimeout(r, 10));
        if (aborted) return;
        await proc!.kill9();
        kills++;
        proc = await start();
        restarts++;
      }
    })();
    await Promise.all([...publishers, killer]);
    await proc.stop();
    proc = undefined;

    const store = new SqliteStore({ path: join(dir, 'suido.db') });
    try {
      let stored = 0;
      let lost = 0;
      for (let i = 0; i < METERS; i++) {
        const id = `M-${String(i).padStart(4, '0')}`;
        const rows = await store.readsInRange(id, firstTs, end + HOUR, total);
        stored += rows.length;
        const byTs = new Map(rows.map((r) => [r.ts, r.registerL]));
        for (const [key, registerL] of ackedReads) {
          if (!key.startsWith(`${id}@`)) continue;
          if (byTs.get(Number(key.slice(id.length + 1))) !== registerL) lost++;
        }
      }
      // The feed: every stored read once, whatever was redelivered.
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
      printTally({ scenario: 'kill -9 ingest (embedded broker) mid-stream', kills, restarts, sent, acked, stored, duplicates, lost });
      console.log(`  messages the devices sent again after a refused publish: ${resends}`);
      expect(kills).toBe(KILLS);
      expect(acked).toBe(total);
      expect(lost).toBe(0);
      expect(duplicates).toBe(0);
      expect(stored).toBe(total);
      expect(seen.size).toBe(total);
    } finally {
      await store.close();
    }
  }, 180_000);
});
