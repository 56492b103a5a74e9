import type { DeviceRegistration } from '@suido/ingest';
import { meterProfile } from '../meters/meter.ts';
import { sensorId, sensorProfile, type SensorProfile } from '../sensors/acoustic-sensor.ts';
import { mainSources } from '../sensors/sensor-pair.ts';
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
  const onMains = new Map<string, { profile: SensorProfile; pipeId: string; chainageM: number; sourceChainageM: number | undefined }>();
  for (const fp of fleetPairs(scenario)) {
    // The main's PRV and pump, where the bureau's GIS maps them: a near_prv or near_pump sensor's is the main's one of that kind.
    const sources = new Map(mainSources(fp.pair).map((s) => [s.kind === 'prv' ? 'near_prv' : 'near_pump', Math.round((fp.chainageAM + s.positionM) * 10) / 10]));
    const on = (profile: SensorProfile, chainageM: number) => ({ profile, pipeId: fp.main.id, chainageM, sourceChainageM: sources.get(profile.site.environment) });
    onMains.set(fp.a.id, on(fp.a, fp.chainageAM));
    // To 0.1 m, as the first's: what a registry file holds and reads back.
    onMains.set(fp.b.id, on(fp.b, Math.round((fp.chainageAM + fp.pair.spacingM) * 10) / 10));
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
      ...(main?.sourceChainageM !== undefined && { sourceChainageM: main.sourceChainageM }),
      gatewayId,
    });
  }
  return out;
}
