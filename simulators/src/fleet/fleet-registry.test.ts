import { PIPE_MATERIALS } from '@suido/ingest';
import { describe, expect, it } from 'vitest';
import { parseScenario } from '../scenario/scenario.ts';
import { fleetRegistry } from './fleet-registry.ts';
import { HIROSHIMA } from './geography.ts';

describe('fleet registry', () => {
  const scenario = parseScenario({ seed: 5, fleet: { meters: 30, sensors: 5, districts: ['Naka', 'Minami', 'Aki'], materials: ['ductile_iron', 'pvc'] } });
  const entries = fleetRegistry(scenario);

  it('lists every device of the fleet once, meters then sensors', () => {
    expect(entries).toHaveLength(35);
    expect(entries[0]).toMatchObject({ id: 'M-000001', kind: 'meter', pipeMaterial: null });
    expect(entries[30]).toMatchObject({ id: 'S-0001', kind: 'sensor', pipeMaterial: 'ductile_iron' });
    expect(entries[31]).toMatchObject({ id: 'S-0002', pipeMaterial: 'pvc' });
    expect(new Set(entries.map((e) => e.id)).size).toBe(35);
  });

  it('places devices in their districts around Hiroshima', () => {
    for (const e of entries) {
      expect(['Naka', 'Minami', 'Aki']).toContain(e.district);
      expect(Math.abs(e.lat! - HIROSHIMA.lat)).toBeLessThan(0.15);
      expect(Math.abs(e.lon! - HIROSHIMA.lon)).toBeLessThan(0.15);
      if (e.kind === 'sensor') expect(PIPE_MATERIALS).toContain(e.pipeMaterial);
    }
  });

  it('is the same for the same seed, and does not move a device when the fleet grows', () => {
    expect(fleetRegistry(scenario)).toEqual(entries);
    const grown = fleetRegistry({ ...scenario, fleet: { ...scenario.fleet, meters: 60, sensors: 9 } });
    expect(grown.filter((e) => entries.some((x) => x.id === e.id))).toEqual(entries);
  });
});
