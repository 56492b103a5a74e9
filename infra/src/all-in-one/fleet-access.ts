import { issueMqttCredential, type DeviceCredentialStore, type Store } from '@suido/ingest';
import { fleetRegistry, type FleetCredentials, type Scenario } from '@suido/simulators';

/** The head-end a pooled simulated fleet forwards through, unless told otherwise. */
export const FLEET_GATEWAY_ID = 'sim-gateway';

/**
 * What a bureau does before its devices can publish, done for a simulated
 * fleet: import the registry, then issue credentials (the functions behind
 * `registry import` and `devices credentials issue`). The demo does it on
 * every start rather than open the broker to anonymous clients, so that `npm
 * start` runs with the device ACL on, as production does; end-to-end tests
 * do it for their fleets. Per-device fleets get one secret per device; pooled
 * fleets log in as one gateway that the registry routes every device through.
 * Secrets stay in this process (issuing again rotates them).
 */
export async function prepareFleetAccess(
  store: Pick<Store, 'upsertDevices'> & DeviceCredentialStore,
  scenario: Scenario,
  gatewayId: string = FLEET_GATEWAY_ID,
): Promise<FleetCredentials> {
  const pooled = scenario.connection.mode === 'pooled';
  const registry = fleetRegistry(scenario, { gatewayId: pooled ? gatewayId : undefined });
  await store.upsertDevices(registry);
  if (pooled) {
    const { secret } = await issueMqttCredential(store, gatewayId, 'gateway');
    return { gateway: { username: gatewayId, password: secret } };
  }
  const devices = new Map<string, string>();
  for (const d of registry) devices.set(d.id, (await issueMqttCredential(store, d.id, 'device')).secret);
  return { devices };
}
