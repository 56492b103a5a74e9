import { describe, expect, it } from 'vitest';
import { ConfigError } from './env-reader.ts';
import { loadIngestConfig } from './ingest-config.ts';

const external = { INGEST_MQTT_MODE: 'external', MQTT_URL: 'mqtts://broker.example:8883' };

describe('INGEST_MQTT_MODE and the external broker settings', () => {
  it('is embedded unless told otherwise, and then reads no MQTT_URL', () => {
    expect(loadIngestConfig({}).external).toBeUndefined();
    expect(loadIngestConfig({ MQTT_URL: 'not even a url' }).external).toBeUndefined();
  });

  it('has documented defaults in external mode', () => {
    expect(loadIngestConfig(external).external).toMatchObject({
      url: 'mqtts://broker.example:8883',
      clientId: expect.stringMatching(/^suido-ingest-/),
      username: undefined,
      password: undefined,
      sessionExpirySeconds: 86_400,
      shareGroup: undefined,
      receiveMaximum: 1000,
      reconnectMinMs: 500,
      reconnectMaxMs: 30_000,
    });
    const c = loadIngestConfig({ ...external, MQTT_SHARE_GROUP: 'ingest', MQTT_CLIENT_ID: 'ingest-2', MQTT_USERNAME: 'u', MQTT_PASSWORD: 'p' }).external;
    expect(c).toMatchObject({ shareGroup: 'ingest', clientId: 'ingest-2', username: 'u', password: 'p' });
  });

  it('fails at start naming each bad variable, and never echoes credentials put in the URL', () => {
    const load = (env: Record<string, string>) => {
      try {
        loadIngestConfig(env);
      } catch (err) {
        return (err as ConfigError).problems;
      }
      throw new Error('expected a ConfigError');
    };
    expect(load({ INGEST_MQTT_MODE: 'external' })).toEqual([expect.stringContaining('needs MQTT_URL')]);
    expect(load({ INGEST_MQTT_MODE: 'bridge' })).toEqual([expect.stringContaining('INGEST_MQTT_MODE')]);
    expect(load({ ...external, MQTT_URL: 'http://broker:1883' })).toEqual([expect.stringContaining('mqtt:// or mqtts://')]);
    const leaked = load({ ...external, MQTT_URL: 'mqtt://ingest:hunter2-secret@broker:1883' });
    expect(leaked).toEqual([expect.stringContaining('MQTT_USERNAME and MQTT_PASSWORD')]);
    expect(leaked.join()).not.toContain('hunter2-secret');
    expect(load({ ...external, MQTT_SHARE_GROUP: 'a/b' })).toEqual([expect.stringContaining('MQTT_SHARE_GROUP')]);
    expect(load({ ...external, MQTT_PASSWORD: 'p' })).toEqual([expect.stringContaining('set MQTT_USERNAME too')]);
    expect(load({ ...external, MQTT_RECEIVE_MAXIMUM: '0' })).toEqual([expect.stringContaining('MQTT_RECEIVE_MAXIMUM')]);
    expect(load({ ...external, MQTT_RECONNECT_MIN_MS: '5000', MQTT_RECONNECT_MAX_MS: '1000' })).toEqual([expect.stringContaining('MQTT_RECONNECT_MAX_MS')]);
  });
});
