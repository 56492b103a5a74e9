import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type IConnackPacket } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { MosquittoMissingError, SUIDO_MOSQUITTO_CONF_D, startMosquitto } from './mosquitto.ts';

describe('mosquitto launcher', () => {
  it('starts a broker on loopback with the production behaviour, restarts it on the same port, and stops it leaving nothing behind', async () => {
    const broker = await startMosquitto({ users: { svc: 'svc-password-1' } });
    const firstPid = broker.pid();
    try {
      expect(broker.url).toMatch(/^mqtt:\/\/127\.0\.0\.1:\d+$/);
      const c = mqtt.connect(broker.url, { protocolVersion: 5, username: 'svc', password: 'svc-password-1', reconnectPeriod: 0 });
      const connack = await new Promise<IConnackPacket>((resolve) => c.once('connect', resolve));
      // conf.d/suido-broker.conf was read: retained messages are off there.
      expect(connack.properties?.retainAvailable).toBe(false);
      await c.endAsync();
      await expect(mqtt.connectAsync(broker.url, { protocolVersion: 5, reconnectPeriod: 0 })).rejects.toThrow(/Not authorized|Bad User Name or Password/i);
      await broker.restart();
      expect(broker.pid()).not.toBe(firstPid);
      const again = await mqtt.connectAsync(broker.url, { protocolVersion: 5, username: 'svc', password: 'svc-password-1', reconnectPeriod: 0 });
      await again.endAsync();
    } finally {
      await broker.stop();
    }
    expect(existsSync(broker.dir)).toBe(false);
    expect(() => process.kill(broker.pid(), 0)).toThrow();
  });

  it('the production ACLs: a device publishes only under its own id, ingest reads device topics through a shared subscription', async () => {
    // Production splits them by listener (per_listener_settings); one listener here takes both.
    const dir = await mkdtemp(join(tmpdir(), 'suido-acl-'));
    const acl = join(dir, 'all.acl');
    const files = await Promise.all(['services.acl', 'devices.acl'].map((f) => readFile(join(SUIDO_MOSQUITTO_CONF_D, '..', f), 'utf8')));
    await writeFile(acl, files.join('\n'));
    const broker = await startMosquitto({ users: { 'suido-ingest': 'ingest-password-1', 'M-1': 'device-password-1' }, aclFile: acl });
    try {
      const ingest = await mqtt.connectAsync(broker.url, { protocolVersion: 5, username: 'suido-ingest', password: 'ingest-password-1', reconnectPeriod: 0 });
      await ingest.subscribeAsync(['$share/g/water/v1/meters/+/reads', '$share/g/water/v1/meters/+/status'], { qos: 1 });
      const got: string[] = [];
      ingest.on('message', (topic) => got.push(topic));
      const meter = await mqtt.connectAsync(broker.url, { protocolVersion: 5, username: 'M-1', password: 'device-password-1', reconnectPeriod: 0 });
      await meter.publishAsync('water/v1/meters/M-1/reads', '{}', { qos: 1 });
      await meter.publishAsync('water/v1/meters/M-1/status', '{}', { qos: 1 });
      await expect(meter.publishAsync('water/v1/meters/M-2/reads', '{}', { qos: 1 })).rejects.toThrow(/Not authorized/);
      await expect(meter.publishAsync('water/v1/alerts/leak/S-1', '{}', { qos: 1 })).rejects.toThrow(/Not authorized/);
      for (let i = 0; i < 100 && got.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
      expect(got).toEqual(['water/v1/meters/M-1/reads', 'water/v1/meters/M-1/status']);
      await Promise.all([ingest.endAsync(), meter.endAsync()]);
    } finally {
      await broker.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('fails clearly, naming the package, when there is no mosquitto', async () => {
    const start = startMosquitto({ binary: 'mosquitto-that-does-not-exist' });
    await expect(start).rejects.toBeInstanceOf(MosquittoMissingError);
    await expect(start).rejects.toThrow(/apt-get install mosquitto/);
  });
});
