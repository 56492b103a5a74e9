import type { DeviceRegistration } from '@suido/ingest';
import { meterProfile } from '../meters/meter.ts';
import { sensorId, sensorProfile } from '../sensors/acoustic-sensor.ts';
import { fleetPairs } from './main-pairs.ts';
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
 * (what the bureau's asset records would say of it); a scenario's pair
 * (`mains`) shares its main, each sensor at its chainage along it.
 */
export function fleetRegistry(scenario: Scenario, opts: FleetRegistryOptions = {}): DeviceRegistration[] {
  const gatewayId = opts.gatewayId ?? null;
  const { seed, fleet } = scenario;
  const out: DeviceRegistration[] = [];
  for (let i = 0; i < fleet.meters; i++) {
    const m = meterProfile(seed, i, fleet);
    out.push({ id: m.id, kind: 'meter', district: m.district, lat: m.location.lat, lon: m.location.lon, pipeMaterial: null, gatewayId });
  }
  const onMains = new Map<string, { profile: ReturnType<typeof sensorProfile>; pipeId: string; chainageM: number }>();
  for (const fp of fleetPairs(scenario)) {
    onMains.set(fp.a.id, { profile: fp.a, pipeId: fp.main.id, chainageM: fp.chainageAM });
    onMains.set(fp.b.id, { profile: fp.b, pipeId: fp.main.id, chainageM: fp.chainageAM + fp.pair.spacingM });
  }
  for (let i = 0; i < fleet.sensors; i++) {
    const main = onMains.get(sensorId(i));
    const s = main?.profile ?? sensorProfile(seed, i, fleet, scenario.sensorEnvironments[sensorId(i)]);
    out.push({
      id: s.id,
      kind: 'sensor',
      district: s.district,
      lat: s.location.lat,
      lon: s.location.lon,
      pipeMaterial: s.pipeMaterial,
      site: s.site.environment,
      pipeId: main?.pipeId ?? `P-${s.id.slice(2)}`,
      ...(main && { chainageM: main.chainageM }),
      gatewayId,
    });
  }
  return out;
}
