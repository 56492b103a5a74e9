import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DAY_MS } from '../clock/tokyo-time.ts';
import { loadScenario } from '../scenario/load-scenario.ts';
import { scenarioStartMs, type Scenario } from '../scenario/scenario.ts';
import { FleetSchedule } from './fleet-schedule.ts';

const LEAK_SCENARIO = fileURLToPath(new URL('../../scenarios/leak.json', import.meta.url));
/** 28 bytes of header, then int16 PCM (ingest's acoustic frame contract). */
const PCM_OFFSET = 28;

/** The PCM of one sensor's frames over the scenario's first two nights, run as if "now" were nowMs. */
function framesOf(scenario: Scenario, sensor: string, nowMs: number): string[] {
  const fromMs = scenarioStartMs(scenario.clock, nowMs);
  const out: string[] = [];
  for (const due of new FleetSchedule(scenario, fromMs).until(fromMs + 2 * DAY_MS)) {
    for (const m of due.session?.messages ?? []) {
      if (m.kind === 'acoustic' && m.deviceId === sensor) out.push(Buffer.from(m.payload.subarray(PCM_OFFSET)).toString('base64'));
    }
  }
  return out;
}

describe('fleet schedule', () => {
  it("a scenario whose clock starts at a day's midnight sounds the same on whatever date it runs", async () => {
    const scenario = await loadScenario(LEAK_SCENARIO);
    expect(scenario.clock.align).toBe('day');
    const now = Date.parse('2026-12-06T12:00:00Z');
    const today = framesOf(scenario, 'S-0003', now);
    expect(today.length).toBe(24);
    expect(framesOf(scenario, 'S-0003', now + 3 * DAY_MS)).toEqual(today);
    // A clock on the hour follows the calendar: another date, another sound (a restarted fleet re-sends the same frames).
    const hourly = { ...scenario, clock: { ...scenario.clock, align: 'hour' as const } };
    const a = framesOf(hourly, 'S-0003', now);
    const b = framesOf(hourly, 'S-0003', now + 3 * DAY_MS);
    expect(a.length).toBe(b.length);
    expect(a.filter((f, i) => f === b[i])).toEqual([]);
  });
});
