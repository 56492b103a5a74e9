import { fileURLToPath } from 'node:url';
import { decodeAcousticFrame, DEFAULT_LIMITS } from '@suido/ingest';
import { describe, expect, it } from 'vitest';
import { DAY_MS } from '../clock/tokyo-time.ts';
import { loadScenario } from '../scenario/load-scenario.ts';
import { parseScenario, scenarioStartMs } from '../scenario/scenario.ts';
import { FleetSchedule } from './fleet-schedule.ts';
import { fleetRegistry } from './fleet-registry.ts';
import { fleetPairs, PairRecorder } from './main-pairs.ts';
import { mainSources } from '../sensors/sensor-pair.ts';

const PAIR_SCENARIO = fileURLToPath(new URL('../../scenarios/pair-leak.json', import.meta.url));

describe("a scenario's pairs of sensors on one main", () => {
  it('record in step: both sensors of a main send a frame of every slot, of the same instant and rate', async () => {
    const scenario = await loadScenario(PAIR_SCENARIO);
    const fromMs = scenarioStartMs(scenario.clock, Date.parse('2026-12-08T00:00:00Z'));
    const starts = new Map<string, number[]>();
    for (const due of new FleetSchedule(scenario, fromMs).until(fromMs + 2 * DAY_MS)) {
      for (const m of due.session?.messages ?? []) {
        if (m.kind !== 'acoustic') continue;
        const frame = decodeAcousticFrame(m.payload, m.deviceId, fromMs + 3 * DAY_MS, DEFAULT_LIMITS);
        if (!frame.ok) throw new Error(frame.rejection.message);
        expect(frame.value.sampleRateHz).toBe(8000);
        starts.set(m.deviceId, [...(starts.get(m.deviceId) ?? []), frame.value.startMs]);
      }
    }
    expect(starts.get('S-0001')!.length).toBe(24);
    expect(starts.get('S-0002')).toEqual(starts.get('S-0001'));
    expect(starts.get('S-0004')).toEqual(starts.get('S-0003'));
    // Sensors on different mains keep their own clocks.
    expect(starts.get('S-0003')).not.toEqual(starts.get('S-0001'));
  });

  it('are registered on their main, each at its chainage, the second on the first one\'s pipe material, spacing apart', async () => {
    const scenario = await loadScenario(PAIR_SCENARIO);
    const registry = new Map(fleetRegistry(scenario).map((d) => [d.id, d]));
    const [s1, s2, s3, s4] = ['S-0001', 'S-0002', 'S-0003', 'S-0004'].map((id) => registry.get(id)!);
    expect([s1!.pipeId, s2!.pipeId, s3!.pipeId, s4!.pipeId]).toEqual(['P-CORR-1', 'P-CORR-1', 'P-CORR-2', 'P-CORR-2']);
    expect(s2!.chainageM! - s1!.chainageM!).toBeCloseTo(180, 9);
    expect(s4!.chainageM! - s3!.chainageM!).toBeCloseTo(80, 9);
    expect(s2!.pipeMaterial).toBe('ductile_iron');
    // Placed about the spacing apart on the map too (a main runs roughly straight between two fittings).
    const metres = Math.hypot((s2!.lat! - s1!.lat!) * 111_320, (s2!.lon! - s1!.lon!) * 111_320 * Math.cos((s1!.lat! * Math.PI) / 180));
    expect(metres).toBeGreaterThan(175);
    expect(metres).toBeLessThan(185);
    // A sensor not on a scenario's main keeps a main of its own, without a chainage.
    const alone = fleetRegistry(parseScenario({ fleet: { meters: 0, sensors: 1 } }))[0]!;
    expect(alone.pipeId).toBe('P-0001');
    expect(alone.chainageM).toBeUndefined();
  });

  it("record where the main's PRV stands, as the bureau's GIS maps it, on the sensor whose site it is", () => {
    const scenario = parseScenario({
      fleet: { meters: 0, sensors: 2, materials: ['ductile_iron'] },
      sensorEnvironments: { 'S-0001': 'near_prv', 'S-0002': 'quiet_residential' },
      mains: [{ id: 'P-5', sensors: ['S-0001', 'S-0002'], spacingM: 200 }],
    });
    const [fp] = fleetPairs(scenario);
    const [prv] = mainSources(fp!.pair);
    expect(prv!.kind).toBe('prv');
    const [a, b] = fleetRegistry(scenario);
    expect(a!.sourceChainageM).toBeCloseTo(fp!.chainageAM + prv!.positionM, 1);
    expect(Math.abs(a!.sourceChainageM! - a!.chainageM!)).toBeCloseTo(prv!.distanceM, 0);
    expect(b!.sourceChainageM).toBeUndefined();
  });

  it('place a leak planted on either sensor along the main from the first, towards the other', () => {
    const scenario = parseScenario({
      fleet: { sensors: 2, materials: ['steel'] },
      mains: [{ id: 'P-9', sensors: ['S-0001', 'S-0002'], spacingM: 150 }],
      leaks: [
        { sensor: 'S-0001', start: 1, distanceM: 40 },
        { sensor: 'S-0002', start: 1, distanceM: 30 },
      ],
    });
    const [fp] = fleetPairs(scenario);
    expect(fp!.b.pipeMaterial).toBe('steel');
    expect(fp!.b.slotOffsetMs).toBe(fp!.a.slotOffsetMs);
    const recorder = new PairRecorder(fp!, { seed: 1, sampleCount: 800, scenario, clockStartMs: 0, originDay: 0, originMs: 0 });
    expect(recorder.leakPositionsM()).toEqual([40, 120]);
    // One rendering serves both sensors of an instant; the next instant is a new one.
    const a = recorder.frame('a', 3_600_000);
    const b = recorder.frame('b', 3_600_000);
    expect(a.equals(b)).toBe(false);
    expect(recorder.frame('a', 3_600_000)).toBe(a);
    expect(recorder.frame('a', 4_200_000).equals(a)).toBe(false);
  });
});
