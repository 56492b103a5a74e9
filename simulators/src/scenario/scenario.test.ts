import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenario } from './load-scenario.ts';
import { resolveTime } from './leaks.ts';
import { parseScenario, SCENARIO_DEFAULTS, ScenarioError, scenarioStartMs } from './scenario.ts';

const scenarios = join(import.meta.dirname, '..', '..', 'scenarios');

function fieldOf(doc: unknown): string {
  try {
    parseScenario(doc);
  } catch (err) {
    expect(err).toBeInstanceOf(ScenarioError);
    expect((err as ScenarioError).message).toContain((err as ScenarioError).field);
    return (err as ScenarioError).field;
  }
  throw new Error('scenario was accepted');
}

describe('scenario', () => {
  it('fills every field it is not given with its documented default', () => {
    expect(parseScenario({})).toEqual(SCENARIO_DEFAULTS);
    const s = parseScenario({ fleet: { meters: 3 }, connection: { mode: 'pooled' } });
    expect(s.fleet).toEqual({ ...SCENARIO_DEFAULTS.fleet, meters: 3 });
    expect(s.connection).toEqual({ mode: 'pooled', connections: 4, maxInFlight: 64 });
  });

  it('reads pairs of sensors on one main, and refuses a main that is not a pair of the fleet\'s sensors', () => {
    const fleet = { sensors: 3 };
    expect(parseScenario({ fleet, mains: [{ id: 'P-1', sensors: ['S-0001', 'S-0003'] }] }).mains).toEqual([{ id: 'P-1', sensors: ['S-0001', 'S-0003'], spacingM: undefined }]);
    expect(fieldOf({ fleet, mains: [{ id: 'P 1', sensors: ['S-0001', 'S-0002'] }] })).toBe('mains[0].id');
    expect(fieldOf({ fleet, mains: [{ id: 'P-1', sensors: ['S-0001'] }] })).toBe('mains[0].sensors');
    expect(fieldOf({ fleet, mains: [{ id: 'P-1', sensors: ['S-0001', 'S-0004'] }] })).toBe('mains[0].sensors[1]');
    expect(fieldOf({ fleet, mains: [{ id: 'P-1', sensors: ['S-0001', 'S-0001'] }] })).toBe('mains[0].sensors[1]');
    // The same sensor written with another width is the same sensor.
    expect(fieldOf({ fleet, mains: [{ id: 'P-1', sensors: ['S-0001', 'S-00001'] }] })).toBe('mains[0].sensors[1]');
    expect(parseScenario({ fleet, mains: [{ id: 'P-1', sensors: ['S-00002', 'S-0003'] }] }).mains[0]!.sensors).toEqual(['S-0002', 'S-0003']);
    expect(fieldOf({ fleet, mains: [{ id: 'P-1', sensors: ['S-0001', 'S-0002'] }, { id: 'P-2', sensors: ['S-0003', 'S-0002'] }] })).toBe('mains[1].sensors[1]');
    expect(fieldOf({ fleet, mains: [{ id: 'P-1', sensors: ['S-0001', 'S-0002'] }, { id: 'P-1', sensors: ['S-0003', 'S-0002'] }] })).toBe('mains[1].id');
    expect(fieldOf({ fleet, mains: [{ id: 'P-1', sensors: ['S-0001', 'S-0002'], spacingM: 10 }] })).toBe('mains[0].spacingM');
    expect(fieldOf({ fleet, mains: [{ id: 'P-1', sensors: ['S-0001', 'S-0002'], colour: 'red' }] })).toBe('mains[0].colour');
  });

  it('names the bad field in every error', () => {
    expect(fieldOf([])).toBe('');
    expect(fieldOf({ seed: -1 })).toBe('seed');
    expect(fieldOf({ seed: 1.5 })).toBe('seed');
    expect(fieldOf({ fleet: { meters: '50' } })).toBe('fleet.meters');
    expect(fieldOf({ fleet: { householdShare: 1.5 } })).toBe('fleet.householdShare');
    expect(fieldOf({ fleet: { meterz: 5 } })).toBe('fleet.meterz');
    expect(fieldOf({ fleet: { districts: [] } })).toBe('fleet.districts');
    expect(fieldOf({ fleet: { districts: ['Naka', 'a/b'] } })).toBe('fleet.districts[1]');
    expect(fieldOf({ fleet: { materials: ['ductile_iron', 'copper'] } })).toBe('fleet.materials[1]');
    expect(fieldOf({ fleet: { sampleRateHz: 500 } })).toBe('fleet.sampleRateHz');
    expect(fieldOf({ fleet: { sampleRateHz: 48_000, frameSeconds: 30 } })).toBe('fleet.frameSeconds');
    expect(fieldOf({ clock: { speed: 0.5 } })).toBe('clock.speed');
    expect(fieldOf({ clock: { daysBack: 500 } })).toBe('clock.daysBack');
    expect(fieldOf({ clock: { start: '2026-11-01T00:00:00' } })).toBe('clock.start');
    expect(fieldOf({ clock: { stopWhenCaughtUp: 'yes' } })).toBe('clock.stopWhenCaughtUp');
    expect(fieldOf({ faults: { duplicate: 2 } })).toBe('faults.duplicate');
    expect(fieldOf({ faults: { dupes: 0.1 } })).toBe('faults.dupes');
    expect(fieldOf({ connection: { mode: 'mesh' } })).toBe('connection.mode');
    expect(fieldOf({ connection: { mode: 'pooled', maxConcurrent: 3 } })).toBe('connection.maxConcurrent');
    expect(fieldOf({ connection: { mode: 'per-device', connections: 3 } })).toBe('connection.connections');
  });

  it('validates leaks, sensor environments and premises leaks, naming the field', () => {
    const fleet = { sensors: 3, meters: 5 };
    expect(fieldOf({ fleet, leaks: {} })).toBe('leaks');
    expect(fieldOf({ fleet, leaks: [{ start: 1 }] })).toBe('leaks[0].sensor');
    expect(fieldOf({ fleet, leaks: [{ sensor: 'S-0004', start: 1 }] })).toBe('leaks[0].sensor');
    expect(fieldOf({ fleet, leaks: [{ sensor: 'S-1', start: 1 }] })).toBe('leaks[0].sensor');
    expect(fieldOf({ fleet, leaks: [{ sensor: 'S-0001' }] })).toBe('leaks[0].start');
    expect(fieldOf({ fleet, leaks: [{ sensor: 'S-0001', start: '2026-11-01T02:00:00' }] })).toBe('leaks[0].start');
    expect(fieldOf({ fleet, leaks: [{ sensor: 'S-0001', start: -1 }] })).toBe('leaks[0].start');
    expect(fieldOf({ fleet, leaks: [{ sensor: 'S-0001', start: 30, end: 20 }] })).toBe('leaks[0].end');
    expect(fieldOf({ fleet, leaks: [{ sensor: 'S-0001', start: 30, end: '2026-11-05T02:00:00+09:00' }] })).toBe('leaks[0].end');
    expect(fieldOf({ fleet, leaks: [{ sensor: 'S-0001', start: 1, sizeLps: 0 }] })).toBe('leaks[0].sizeLps');
    expect(fieldOf({ fleet, leaks: [{ sensor: 'S-0001', start: 1, distanceM: -5 }] })).toBe('leaks[0].distanceM');
    expect(fieldOf({ fleet, leaks: [{ sensor: 'S-0001', start: 1, size: 1 }] })).toBe('leaks[0].size');
    expect(fieldOf({ fleet, sensorEnvironments: { 'S-0002': 'motorway' } })).toBe('sensorEnvironments.S-0002');
    expect(fieldOf({ fleet, sensorEnvironments: { 'S-0009': 'arterial_road' } })).toBe('sensorEnvironments.S-0009');
    expect(fieldOf({ fleet, sensorEnvironments: { sensor2: 'arterial_road' } })).toBe('sensorEnvironments.sensor2');
    expect(fieldOf({ fleet, premisesLeaks: [{ meter: 'M-000006', start: 1, flowLph: 10 }] })).toBe('premisesLeaks[0].meter');
    expect(fieldOf({ fleet, premisesLeaks: [{ meter: 'M-000001', start: 1 }] })).toBe('premisesLeaks[0].flowLph');
    expect(fieldOf({ fleet, premisesLeaks: [{ meter: 'M-000001', start: 1, flowLph: 0 }] })).toBe('premisesLeaks[0].flowLph');
    expect(fieldOf({ clock: { align: 'week' } })).toBe('clock.align');
    expect(() => parseScenario({ fleet, leaks: [{ sensor: 'S-0004', start: 1 }] })).toThrow('names "S-0004", which is not in the fleet (fleet.sensors is 3)');

    const s = parseScenario({
      fleet,
      leaks: [
        { sensor: 'S-0001', start: 24, end: 99, sizeLps: 0.4, distanceM: 35 },
        { sensor: 'S-0003', start: '2026-11-02T02:00:00+09:00' },
      ],
      sensorEnvironments: { 'S-0002': 'arterial_road' },
      premisesLeaks: [{ meter: 'M-000005', start: '2026-11-01T12:00:00+09:00', flowLph: 18 }],
    });
    expect(s.leaks[0]).toEqual({ sensor: 'S-0001', start: { kind: 'hours', hours: 24 }, end: { kind: 'hours', hours: 99 }, sizeLps: 0.4, distanceM: 35 });
    expect(s.leaks[1]).toMatchObject({ start: { kind: 'iso', ms: Date.parse('2026-11-01T17:00:00Z') }, end: undefined, sizeLps: undefined });
    expect(s.sensorEnvironments).toEqual({ 'S-0002': 'arterial_road' });
    expect(s.premisesLeaks).toEqual([{ meter: 'M-000005', start: { kind: 'iso', iso: '2026-11-01T12:00:00+09:00', ms: Date.parse('2026-11-01T03:00:00Z') }, flowLph: 18 }]);
    expect(resolveTime(s.leaks[0]!.start, 1_000)).toBe(1_000 + 24 * 3_600_000);
  });

  it('says what was expected and what it got', () => {
    expect(() => parseScenario({ fleet: { householdShare: 1.5 } })).toThrow('field "fleet.householdShare" must be a number from 0 to 1, got 1.5');
  });

  it('starts days back on the hour or at Tokyo midnight, or at the given time', () => {
    const now = Date.parse('2026-11-20T03:17:12.345Z');
    expect(new Date(scenarioStartMs({ ...SCENARIO_DEFAULTS.clock, daysBack: 2 }, now)).toISOString()).toBe('2026-11-18T03:00:00.000Z');
    // 12:17 in Tokyo two days back; its midnight is 15:00 UTC the day before.
    expect(new Date(scenarioStartMs({ ...SCENARIO_DEFAULTS.clock, daysBack: 2, align: 'day' }, now)).toISOString()).toBe('2026-11-17T15:00:00.000Z');
    expect(scenarioStartMs({ ...SCENARIO_DEFAULTS.clock, start: '2026-11-01T00:00:00+09:00' }, now)).toBe(Date.parse('2026-10-31T15:00:00Z'));
  });

  it('ships scenarios that are valid', async () => {
    const demo = await loadScenario(join(scenarios, 'demo.json'));
    expect(demo.fleet.meters).toBe(50);
    expect(demo.fleet.sensors).toBe(4);
    expect(demo.clock).toMatchObject({ daysBack: 3, speed: 3600 });
    const faults = await loadScenario(join(scenarios, 'faults.json'));
    expect(faults.faults.malformed).toBeGreaterThan(0);
    expect(faults.connection.mode).toBe('pooled');
    const leak = await loadScenario(join(scenarios, 'leak.json'));
    expect(leak.leaks).toHaveLength(1);
    expect(leak.sensorEnvironments['S-0002']).toBe('arterial_road');
    expect(leak.premisesLeaks[0]!.meter).toBe('M-000004');
    expect(leak.clock).toMatchObject({ align: 'day', stopWhenCaughtUp: true });
  });

  it('names the file when it cannot be read or parsed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'suido-scenario-'));
    try {
      await expect(loadScenario(join(dir, 'missing.json'))).rejects.toThrow(/missing\.json: cannot be read/);
      await writeFile(join(dir, 'broken.json'), '{"seed": 1,');
      await expect(loadScenario(join(dir, 'broken.json'))).rejects.toThrow(/broken\.json: is not JSON/);
      await writeFile(join(dir, 'bad.json'), '{"clock": {"speed": -1}}');
      await expect(loadScenario(join(dir, 'bad.json'))).rejects.toThrow(/bad\.json: field "clock\.speed" must be/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
