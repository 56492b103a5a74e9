import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { PIPE_MATERIALS, SENSOR_SITES, formatRegistryCsv, parseRegistryCsv } from '@suido/ingest';
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../scenario/load-scenario.ts';
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
      if (e.kind === 'sensor') expect(SENSOR_SITES).toContain(e.site);
    }
  });

  it('is the same for the same seed, and does not move a device when the fleet grows', () => {
    expect(fleetRegistry(scenario)).toEqual(entries);
    const grown = fleetRegistry({ ...scenario, fleet: { ...scenario.fleet, meters: 60, sensors: 9 } });
    expect(grown.filter((e) => entries.some((x) => x.id === e.id))).toEqual(entries);
  });

  it('routes the fleet through a gateway when asked, and gives each sensor its main', () => {
    const routed = fleetRegistry(scenario, { gatewayId: 'hes-1' });
    expect(new Set(routed.map((e) => e.gatewayId))).toEqual(new Set(['hes-1']));
    expect(entries.every((e) => e.gatewayId === null)).toBe(true);
    expect(routed.filter((e) => e.kind === 'sensor').map((e) => e.pipeId)).toEqual(['P-0001', 'P-0002', 'P-0003', 'P-0004', 'P-0005']);
  });

  it('is what the example registry file (scenarios/demo-registry.csv) holds for the demo fleet', async () => {
    const dir = new URL('../../scenarios/', import.meta.url);
    const demo = fleetRegistry(await loadScenario(fileURLToPath(new URL('demo.json', dir))));
    const file = await readFile(new URL('demo-registry.csv', dir), 'utf8');
    // Regenerate with formatRegistryCsv(fleetRegistry(demo)) when the demo fleet changes.
    expect(file).toBe(formatRegistryCsv(demo));
    const parsed = parseRegistryCsv(file);
    expect(parsed.ok && parsed.devices.length).toBe(demo.length);
  });
});
