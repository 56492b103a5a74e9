import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IngestService, MQTT_SERVICE_USERNAME, SqliteStore, loadIngestConfig, type AlertChange } from '@suido/ingest';
import { alertTopic, type AlertMessage, type AlertPublisher } from './alert-publisher.ts';
import { AlertRelay } from './alert-relay.ts';
import { MqttAlertPublisher } from './mqtt-alert-publisher.ts';

const log = pino({ level: 'silent' });
const T0 = Date.parse('2026-11-24T02:30:00+09:00');

const leak = (op: 'raise' | 'clear', sourceId: string, atMs: number, score = 0.9): AlertChange =>
  op === 'raise' ? { op, kind: 'leak', sourceKind: 'sensor', sourceId, atMs, score } : { op, kind: 'leak', sourceKind: 'sensor', sourceId, atMs };

async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('alert relay', () => {
  let dir: string;
  let store: SqliteStore;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'suido-alert-relay-'));
    store = new SqliteStore({ path: join(dir, 'suido.db') });
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('retries an event that could not be published from the event table, in order, and resumes after a restart', async () => {
    const delivered: number[] = [];
    let failuresLeft = 3;
    const flaky: AlertPublisher = {
      async publish(event) {
        if (failuresLeft-- > 0) throw new Error('broker away');
        delivered.push(event.id);
      },
      async close() {},
    };
    await store.commitAlertChanges({ actor: 'detector', changes: [leak('raise', 'S-1', T0), leak('raise', 'S-2', T0)], states: [] });
    const relay = new AlertRelay({ store, publisher: flaky, log, pollMs: 5, retryMs: 5 });
    relay.start();
    try {
      await until('two events', () => delivered.length === 2);
      await store.commitAlertChanges({ actor: 'detector', changes: [leak('clear', 'S-1', T0 + 1)], states: [] });
      relay.nudge();
      await until('three events', () => delivered.length === 3);
    } finally {
      await relay.stop();
    }
    expect(delivered).toEqual([1, 2, 3]);
    // A new relay (a restart) starts after the last event acknowledged.
    await store.commitAlertChanges({ actor: 'detector', changes: [leak('clear', 'S-2', T0 + 2)], states: [] });
    expect(await new AlertRelay({ store, publisher: flaky, log }).runOnce()).toEqual({ published: 1, more: false });
    expect(delivered).toEqual([1, 2, 3, 4]);
  });

  describe('over MQTT, to a real broker and a real subscriber', () => {
    let service: IngestService | undefined;
    let clients: MqttClient[];
    let publisher: MqttAlertPublisher | undefined;

    // The relay and the crews' subscriber log in as the service principal, as in production.
    const serviceLogin = { username: MQTT_SERVICE_USERNAME, password: 'relay-test-service-password-0123456789' };
    async function startBroker(port = 0): Promise<IngestService> {
      const config = loadIngestConfig({ SUIDO_DATA_DIR: dir, MQTT_PORT: String(port), MQTT_SERVICE_PASSWORD: serviceLogin.password });
      service = await IngestService.start({ config, store, registry: new Registry(), log });
      return service;
    }

    async function subscriber(url: string): Promise<{ client: MqttClient; messages: { topic: string; body: AlertMessage }[] }> {
      const client = await mqtt.connectAsync(url, { clientId: `crew-phone-${clients.length}`, reconnectPeriod: 50, ...serviceLogin });
      clients.push(client);
      const messages: { topic: string; body: AlertMessage }[] = [];
      client.on('message', (topic, payload) => messages.push({ topic, body: JSON.parse(payload.toString()) as AlertMessage }));
      await client.subscribeAsync('water/v1/alerts/#', { qos: 1 });
      return { client, messages };
    }

    beforeEach(() => {
      clients = [];
      service = undefined;
      publisher = undefined;
    });
    afterEach(async () => {
      await publisher?.close();
      await Promise.all(clients.map((c) => c.endAsync(true)));
      await service?.close();
    });

    it('publishes raised, updated and cleared as JSON on water/v1/alerts/{kind}/{sourceId} at QoS 1', async () => {
      const broker = await startBroker();
      const phone = await subscriber(broker.broker.url);
      publisher = new MqttAlertPublisher({ url: broker.broker.url, log, clientId: 'suido-alerts-test', ...serviceLogin });
      await until('publisher connected', () => publisher!.connected);

      await store.commitAlertChanges({ actor: 'detector', changes: [leak('raise', 'S-1', T0, 0.8), leak('raise', 'S-1', T0 + 60_000, 0.95)], states: [] });
      await store.commitAlertChanges({ actor: 'detector', changes: [leak('clear', 'S-1', T0 + 3_600_000)], states: [] });
      const relay = new AlertRelay({ store, publisher, log });
      expect(await relay.runOnce()).toEqual({ published: 3, more: false });
      await until('three messages', () => phone.messages.length === 3);

      expect(phone.messages.map((m) => [m.topic, m.body.action, m.body.alert.state])).toEqual([
        [alertTopic('leak', 'S-1'), 'raised', 'open'],
        ['water/v1/alerts/leak/S-1', 'updated', 'open'],
        ['water/v1/alerts/leak/S-1', 'cleared', 'cleared'],
      ]);
      const [raised] = phone.messages;
      expect(raised!.body).toMatchObject({
        eventId: 1,
        actor: 'detector',
        at: new Date(T0).toISOString(),
        details: { score: 0.8 },
        alert: { id: 1, kind: 'leak', sourceKind: 'sensor', sourceId: 'S-1', raisedAt: '2026-11-23T17:30:00.000Z', clearedAt: null, peakScore: 0.8, version: 1 },
      });
      expect(phone.messages[2]!.body.alert).toMatchObject({ clearedAt: '2026-11-23T18:30:00.000Z', peakScore: 0.95, version: 3 });
      // The stored cursor says all three went out.
      expect((await store.getConsumerState('alert-publisher'))?.value).toEqual({ v: 1, cursor: 3 });
    });

    it('keeps events committed while the broker is down and publishes them once it is back', async () => {
      let broker = await startBroker();
      const port = broker.broker.port;
      publisher = new MqttAlertPublisher({ url: broker.broker.url, log, reconnectPeriodMs: 50, publishTimeoutMs: 2000, ...serviceLogin });
      await until('publisher connected', () => publisher!.connected);
      const relay = new AlertRelay({ store, publisher, log });

      await store.commitAlertChanges({ actor: 'detector', changes: [leak('raise', 'S-1', T0)], states: [] });
      expect(await relay.runOnce()).toMatchObject({ published: 1 });

      await broker.close();
      service = undefined;
      await until('publisher offline', () => !publisher!.connected);
      await store.commitAlertChanges({ actor: 'detector', changes: [leak('raise', 'S-2', T0), leak('clear', 'S-1', T0 + 1)], states: [] });
      await expect(relay.runOnce()).rejects.toMatchObject({ code: 'ALERT_PUBLISH_UNAVAILABLE' });
      expect((await store.getConsumerState('alert-publisher'))?.value).toEqual({ v: 1, cursor: 1 });

      broker = await startBroker(port);
      const phone = await subscriber(broker.broker.url);
      await until('publisher reconnected', () => publisher!.connected);
      expect(await relay.runOnce()).toEqual({ published: 2, more: false });
      await until('two messages', () => phone.messages.length === 2);
      expect(phone.messages.map((m) => [m.topic, m.body.eventId, m.body.action])).toEqual([
        ['water/v1/alerts/leak/S-2', 2, 'raised'],
        ['water/v1/alerts/leak/S-1', 3, 'cleared'],
      ]);
    });
  });
});
