import type { DeviceRegistration } from '@suido/ingest';
import { meterProfile } from '../meters/meter.ts';
import { sensorId, sensorProfile } from '../sensors/acoustic-sensor.ts';
import type { Scenario } from '../scenario/scenario.ts';

/**
 * The registry entries for a scenario's fleet, as a launcher pre-loads them
 * into the store: the same ids, districts and places the simulated devices
 * have, because both come from the seed.
 */
export function fleetRegistry(scenario: Scenario): DeviceRegistration[] {
  const { seed, fleet } = scenario;
  const out: DeviceRegistration[] = [];
  for (let i = 0; i < fleet.meters; i++) {
    const m = meterProfile(seed, i, fleet);
    out.push({ id: m.id, kind: 'meter', district: m.district, lat: m.location.lat, lon: m.location.lon, pipeMaterial: null });
  }
  for (let i = 0; i < fleet.sensors; i++) {
    const s = sensorProfile(seed, i, fleet, scenario.sensorEnvironments[sensorId(i)]);
    out.push({ id: s.id, kind: 'sensor', district: s.district, lat: s.location.lat, lon: s.location.lon, pipeMaterial: s.pipeMaterial });
  }
  return out;
}
