import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '@suido/ingest';
import { SUIDO_MOSQUITTO_CONF_D, startMosquitto, type RunningMosquitto } from '@suido/infra/services';
import type { AlertMessage } from '../src/alerts/alert-publisher.ts';
import { AlertRelay } from '../src/alerts/alert-relay.ts';
import { MqttAlertPublisher } from '../src/alerts/mqtt-alert-publisher.ts';
import { loadDetectConfig } from '../src/config.ts';

const RELAY_PASSWORD = 'relay-password-for-mosquitto-0123';
const CREW_PASSWORD = 'crew-app-password-0123';

/** The relay at an external broker: its own login (ALERTS_MQTT_USERNAME) and the production ACL. */
describe('alert relay to Mosquitto (external broker mode)', () => {
  let dir: string;
  let broker: RunningMosquitto;
  let store: SqliteStore;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'suido-relay-mosquitto-'));
    broker = await startMosquitto({
      users: { 'suido-alerts': RELAY_PASSWORD, 'suido-crew-app': CREW_PASSWORD },
      aclFile: join(SUIDO_MOSQUITTO_CONF_D, '..', 'services.acl'),
    });
    store = new SqliteStore({ path: join(dir, 'suido.db') });
  });
  afterEach(async () => {
    await store.close();
    await broker.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('logs in as ALERTS_MQTT_USERNAME and delivers alert events to a crew app allowed to read them', async () => {
    const config = loadDetectConfig({ SUIDO_DATA_DIR: dir, ALERTS_MQTT_URL: broker.url, ALERTS_MQTT_USERNAME: 'suido-alerts', MQTT_SERVICE_PASSWORD: RELAY_PASSWORD });
    expect(config.alertsMqttUsername).toBe('suido-alerts');
    const crew = await mqtt.connectAsync(broker.url, { protocolVersion: 5, username: 'suido-crew-app', password: CREW_PASSWORD, reconnectPeriod: 0 });
    const got: AlertMessage[] = [];
    crew.on('message', (_topic, payload) => got.push(JSON.parse(payload.toString()) as AlertMessage));
    await crew.subscribeAsync('water/v1/alerts/#', { qos: 1 });

    const log = pino({ level: 'silent' });
    const publisher = new MqttAlertPublisher({ url: config.alertsMqttUrl!, username: config.alertsMqttUsername, password: config.alertsMqttPassword, log });
    const relay = new AlertRelay({ store, publisher, log, pollMs: 10, retryMs: 20 });
    try {
      await store.commitAlertChanges({ actor: 'detector', changes: [{ op: 'raise', kind: 'leak', sourceKind: 'sensor', sourceId: 'S-1', atMs: Date.now(), score: 0.9 }], states: [] });
      relay.start();
      for (let i = 0; i < 500 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(got).toHaveLength(1);
      expect(got[0]).toMatchObject({ alert: { kind: 'leak', sourceId: 'S-1' } });
    } finally {
      await relay.stop();
      await publisher.close();
      await crew.endAsync();
    }
  });
});
