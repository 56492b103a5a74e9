import type { DeviceRegistration } from '@suido/ingest';
import { meterProfile } from '../meters/meter.ts';
import { sensorId, sensorProfile } from '../sensors/acoustic-sensor.ts';
import type { Scenario } from '../scenario/scenario.ts';

export interface FleetRegistryOptions {
  /** The gateway (head-end) that forwards for the whole fleet: pooled connections log in as it. */
  readonly gatewayId?: string | undefined;
}

/**
 * The registry entries for a scenario's fleet, as a launcher pre-loads them
 * into the store: the same ids, districts and places the simulated devices
 * have, because both come from the seed. Each sensor listens to a main of its
 * own, `P-` and its number, and is registered with the site it was drawn
 * (what the bureau's asset records would say of it).
 */
export function fleetRegistry(scenario: Scenario, opts: FleetRegistryOptions = {}): DeviceRegistration[] {
  const gatewayId = opts.gatewayId ?? null;
  const { seed, fleet } = scenario;
  const out: DeviceRegistration[] = [];
  for (let i = 0; i < fleet.meters; i++) {
    const m = meterProfile(seed, i, fleet);
    out.push({ id: m.id, kind: 'meter', district: m.district, lat: m.location.lat, lon: m.location.lon, pipeMaterial: null, gatewayId });
  }
  for (let i = 0; i < fleet.sensors; i++) {
    const s = sensorProfile(seed, i, fleet, scenario.sensorEnvironments[sensorId(i)]);
    out.push({
      id: s.id,
      kind: 'sensor',
      district: s.district,
      lat: s.location.lat,
      lon: s.location.lon,
      pipeMaterial: s.pipeMaterial,
      site: s.site.environment,
      pipeId: `P-${s.id.slice(2)}`,
      gatewayId,
    });
  }
  return out;
}
