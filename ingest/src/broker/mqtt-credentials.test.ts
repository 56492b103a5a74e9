import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../store/sqlite-store.ts';
import { CredentialError, hashMqttSecret, issueMqttCredential, mqttSecretMatches, newMqttSecret } from './mqtt-credentials.ts';

describe('MQTT credentials', () => {
  it('makes 256-bit secrets and checks a password against the stored hash only', () => {
    const secret = newMqttSecret();
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(newMqttSecret()).not.toBe(secret);
    const hash = hashMqttSecret(secret);
    expect(mqttSecretMatches(Buffer.from(secret), hash)).toBe(true);
    expect(mqttSecretMatches(Buffer.from(secret.slice(1)), hash)).toBe(false);
    expect(mqttSecretMatches(undefined, hash)).toBe(false);
    expect(mqttSecretMatches(Buffer.alloc(0), hash)).toBe(false);
  });

  it('issues to registered devices and to gateways that are not devices, storing no secret', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    try {
      await store.upsertDevices([{ id: 'M-1', kind: 'meter' }]);
      const issued = await issueMqttCredential(store, 'M-1', 'device', 1000);
      expect(issued.credential).toMatchObject({ username: 'M-1', role: 'device', issuedAtMs: 1000, revokedAtMs: null });
      expect(Buffer.from(issued.credential.secretSha256)).toEqual(Buffer.from(hashMqttSecret(issued.secret)));
      expect(Buffer.from(issued.credential.secretSha256).toString()).not.toContain(issued.secret);

      const refusal = (p: Promise<unknown>) => p.then(() => 'issued', (err: CredentialError) => err.code);
      expect(await refusal(issueMqttCredential(store, 'M-2', 'device'))).toBe('DEVICE_NOT_REGISTERED');
      expect(await refusal(issueMqttCredential(store, 'M-1', 'gateway'))).toBe('GATEWAY_ID_IS_DEVICE');
      expect(await refusal(issueMqttCredential(store, 'hes/1', 'gateway'))).toBe('CREDENTIAL_USERNAME_INVALID');
      expect(await refusal(issueMqttCredential(store, 'hes-1', 'gateway'))).toBe('issued');
    } finally {
      await store.close();
    }
  });
});
