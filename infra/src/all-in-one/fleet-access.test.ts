import { SqliteStore, mqttSecretMatches } from '@suido/ingest';
import { parseScenario } from '@suido/simulators';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FLEET_GATEWAY_ID, prepareFleetAccess } from './fleet-access.ts';

describe('fleet access: registry and credentials for a simulated fleet', () => {
  let store: SqliteStore;
  beforeEach(() => {
    store = new SqliteStore({ path: ':memory:' });
  });
  afterEach(async () => {
    await store.close();
  });

  it('gives a per-device fleet one working secret per device', async () => {
    const scenario = parseScenario({ seed: 3, fleet: { meters: 4, sensors: 2 }, connection: { mode: 'per-device', maxConcurrent: 2, maxInFlight: 2 } });
    const credentials = await prepareFleetAccess(store, scenario);
    expect([...(credentials.devices?.keys() ?? [])]).toEqual(['M-000001', 'M-000002', 'M-000003', 'M-000004', 'S-0001', 'S-0002']);
    for (const [id, secret] of credentials.devices!) {
      expect(mqttSecretMatches(Buffer.from(secret), (await store.liveMqttCredential(id))!.secretSha256)).toBe(true);
      expect(await store.deviceRoute(id)).toMatchObject({ gatewayId: null });
    }
    expect(credentials.gateway).toBeUndefined();
  });

  it('routes a pooled fleet through one gateway that alone gets a secret', async () => {
    const scenario = parseScenario({ seed: 3, fleet: { meters: 4, sensors: 2 }, connection: { mode: 'pooled', connections: 1, maxInFlight: 2 } });
    const credentials = await prepareFleetAccess(store, scenario);
    expect(credentials.gateway?.username).toBe(FLEET_GATEWAY_ID);
    expect(await store.deviceRoute('S-0002')).toEqual({ kind: 'sensor', gatewayId: FLEET_GATEWAY_ID });
    expect((await store.listMqttCredentials({ limit: 10 })).map((c) => [c.username, c.role])).toEqual([[FLEET_GATEWAY_ID, 'gateway']]);
  });
});
