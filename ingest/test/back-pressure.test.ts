import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { IngestService, SqliteStore, encodeMeterReads, loadIngestConfig, topics, type Store } from '../src/index.ts';

/**
 * A store that stalls (a slow disk, a database failing over) must not make
 * ingest buffer without bound: past INGEST_MAX_BACKLOG_ITEMS messages wait
 * undecoded and unacknowledged, aedes reads nothing more from their
 * connections, the backlog metric shows it, and when the store comes back
 * everything flows. The stall is a real SQLite store behind a gate.
 */
const HOUR = 3_600_000;
const log = pino({ level: 'silent' });

function gated(store: SqliteStore): { store: SqliteStore; close(): void; open(): void; commitsStarted(): number } {
  let release: (() => void) | undefined;
  let gate: Promise<void> | undefined;
  let started = 0;
  const proxy = new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'commit') {
        return async (batch: Parameters<Store['commit']>[0]) => {
          started++;
          if (gate) await gate;
          return target.commit(batch);
        };
      }
      const value = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return {
    store: proxy,
    close: () => {
      gate = new Promise((r) => (release = r));
    },
    open: () => {
      gate = undefined;
      release?.();
    },
    commitsStarted: () => started,
  };
}

async function gauge(registry: Registry, name: string): Promise<number> {
  const m = await registry.getSingleMetric(name)?.get();
  return m?.values[0]?.value ?? NaN;
}

describe('back-pressure when the store stalls (real aedes over TCP, real SQLite behind a gate)', () => {
  let dir: string;
  let sqlite: SqliteStore;
  let service: IngestService | undefined;
  const clients: MqttClient[] = [];

  afterEach(async () => {
    for (const c of clients.splice(0)) await c.endAsync(true);
    await service?.close();
    await sqlite?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('holds the backlog at its limit, acknowledges nothing while stalled, and lets everything through after', async () => {
    dir = await mkdtemp(join(tmpdir(), 'suido-backpressure-'));
    sqlite = new SqliteStore({ path: join(dir, 'suido.db') });
    const gate = gated(sqlite);
    const registry = new Registry();
    const MAX_BACKLOG = 2_400; // items: 100 messages of 24 reads
    const config = loadIngestConfig({
      SUIDO_DATA_DIR: dir,
      MQTT_PORT: '0',
      INGEST_HTTP_PORT: '0',
      MQTT_ALLOW_ANONYMOUS: 'true',
      INGEST_BATCH_MAX_DELAY_MS: '5',
      INGEST_BATCH_MAX_ITEMS: '480',
      INGEST_MAX_BACKLOG_ITEMS: String(MAX_BACKLOG),
    });
    service = await IngestService.start({ config, store: gate.store, registry, log });
    gate.close();

    const METERS = 10;
    const MESSAGES = 60; // 600 messages, 14,400 reads: six times the backlog limit
    const end = Math.floor(Date.now() / HOUR) * HOUR;
    let acked = 0;
    const publishes: Promise<unknown>[] = [];
    for (let i = 0; i < METERS; i++) {
      const id = `M-${i}`;
      const c = await mqtt.connectAsync(service.broker.url, { clientId: `meter-${id}`, reconnectPeriod: 0 });
      clients.push(c);
      for (let m = 0; m < MESSAGES; m++) {
        const reads = Array.from({ length: 24 }, (_, h) => ({ ts: end - (MESSAGES * 24 - m * 24 - h) * HOUR, registerL: 1000 * i + m * 24 + h }));
        publishes.push(c.publishAsync(topics.meterReads(id), encodeMeterReads(reads), { qos: 1 }).then(() => acked++));
      }
    }

    // Stalled: let the devices send all they can.
    let maxBacklog = 0;
    for (let t = 0; t < 30; t++) {
      await new Promise((r) => setTimeout(r, 50));
      maxBacklog = Math.max(maxBacklog, await gauge(registry, 'suido_ingest_backlog_items'));
    }
    expect(acked).toBe(0);
    expect(gate.commitsStarted()).toBeGreaterThan(0);
    // At most the limit plus what one released message per connection can add on top.
    expect(maxBacklog).toBeGreaterThanOrEqual(MAX_BACKLOG);
    expect(maxBacklog).toBeLessThanOrEqual(MAX_BACKLOG + METERS * 24);
    expect(await gauge(registry, 'suido_ingest_held_messages')).toBeGreaterThan(0);

    gate.open();
    await Promise.all(publishes);
    expect(acked).toBe(METERS * MESSAGES);
    let stored = 0;
    for (let i = 0; i < METERS; i++) stored += (await sqlite.readsInRange(`M-${i}`, end - 2000 * HOUR, end, 10_000)).length;
    expect(stored).toBe(METERS * MESSAGES * 24);
    expect(await gauge(registry, 'suido_ingest_backlog_items')).toBe(0);
  }, 60_000);
});
