import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DeviceCredentialStore } from './device-credentials.ts';
import type { Store } from './store.ts';

/** The suite every DeviceCredentialStore implementation must pass (with the registry of its Store). */
export interface DeviceCredentialStoreFixture {
  open(): Promise<DeviceCredentialStore & Pick<Store, 'upsertDevices' | 'getDevice' | 'close'>>;
  dispose(): Promise<void>;
}

const T0 = Date.UTC(2026, 10, 20);
const hash = (byte: number) => new Uint8Array(32).fill(byte);

export function describeDeviceCredentialStoreContract(name: string, fixture: () => DeviceCredentialStoreFixture): void {
  describe(`DeviceCredentialStore contract: ${name}`, () => {
    let f: DeviceCredentialStoreFixture;
    let store: Awaited<ReturnType<DeviceCredentialStoreFixture['open']>>;
    beforeEach(async () => {
      f = fixture();
      store = await f.open();
    });
    afterEach(async () => {
      await store.close();
      await f.dispose();
    });

    it('keeps one live credential per username: issuing again rotates, revoking ends it, history stays', async () => {
      const first = await store.issueMqttCredential({ username: 'M-1', role: 'device', secretSha256: hash(1), issuedAtMs: T0 });
      expect(await store.liveMqttCredential('M-1')).toEqual(first);
      const second = await store.issueMqttCredential({ username: 'M-1', role: 'device', secretSha256: hash(2), issuedAtMs: T0 + 1 });
      expect((await store.liveMqttCredential('M-1'))?.secretSha256).toEqual(hash(2));
      expect(await store.revokeMqttCredential('M-1', T0 + 2)).toBe(true);
      expect(await store.revokeMqttCredential('M-1', T0 + 3)).toBe(false);
      expect(await store.liveMqttCredential('M-1')).toBeUndefined();
      const history = await store.listMqttCredentials({ includeRevoked: true, limit: 10 });
      expect(history.map((c) => [c.id, c.revokedAtMs])).toEqual([
        [first.id, T0 + 1],
        [second.id, T0 + 2],
      ]);
      expect(await store.listMqttCredentials({ limit: 10 })).toEqual([]);
    });

    it('lists live credentials by username (byte order) after a cursor', async () => {
      for (const u of ['hes-1', 'M-2', 'M-1']) await store.issueMqttCredential({ username: u, role: u.startsWith('M') ? 'device' : 'gateway', secretSha256: hash(3), issuedAtMs: T0 });
      expect((await store.listMqttCredentials({ limit: 2 })).map((c) => c.username)).toEqual(['M-1', 'M-2']);
      expect((await store.listMqttCredentials({ afterUsername: 'M-2', limit: 2 })).map((c) => [c.username, c.role])).toEqual([['hes-1', 'gateway']]);
    });

    it('refuses a hash that is not SHA-256 sized', async () => {
      await expect(store.issueMqttCredential({ username: 'M-1', role: 'device', secretSha256: new Uint8Array(16), issuedAtMs: T0 })).rejects.toThrow();
      expect(await store.liveMqttCredential('M-1')).toBeUndefined();
    });

    it('rotates once per issue when two issues of one username run at once', async () => {
      await Promise.all([1, 2, 3].map((n) => store.issueMqttCredential({ username: 'M-1', role: 'device', secretSha256: hash(n), issuedAtMs: T0 + n })));
      const history = await store.listMqttCredentials({ includeRevoked: true, limit: 10 });
      expect(history).toHaveLength(3);
      expect(history.filter((c) => c.revokedAtMs === null)).toHaveLength(1);
    });

    it('tells the ACL a device kind and gateway from the registry, with its pipe and where along it', async () => {
      await store.upsertDevices([
        { id: 'M-1', kind: 'meter', district: 'Naka', gatewayId: 'hes-1' },
        { id: 'S-1', kind: 'sensor', district: 'Naka', pipeId: 'P-77', pipeMaterial: 'pvc', chainageM: 412.25, site: 'near_prv', sourceChainageM: 380 },
        { id: 'S-2', kind: 'sensor', district: 'Naka', pipeId: 'P-77', pipeMaterial: 'pvc' },
      ]);
      expect(await store.deviceRoute('M-1')).toEqual({ kind: 'meter', gatewayId: 'hes-1' });
      expect(await store.deviceRoute('S-1')).toEqual({ kind: 'sensor', gatewayId: null });
      expect(await store.deviceRoute('M-9')).toBeUndefined();
      expect(await store.getDevice('S-1')).toMatchObject({ pipeId: 'P-77', pipeMaterial: 'pvc', chainageM: 412.25, sourceChainageM: 380, gatewayId: null });
      expect(await store.getDevice('S-2')).toMatchObject({ pipeId: 'P-77', chainageM: null, sourceChainageM: null });
      // The import is the truth: upserting again without a gateway takes it away.
      await store.upsertDevices([{ id: 'M-1', kind: 'meter', district: 'Naka' }]);
      expect(await store.deviceRoute('M-1')).toEqual({ kind: 'meter', gatewayId: null });
    });
  });
}
