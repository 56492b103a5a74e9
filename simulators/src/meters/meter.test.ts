import { decodeMeterReads, DEFAULT_LIMITS } from '@suido/ingest';
import { describe, expect, it } from 'vitest';
import { DAY_MS, HOUR_MS, isWeekend, tokyoDay, tokyoHour, tokyoMidnight } from '../clock/tokyo-time.ts';
import { FleetSchedule } from '../fleet/fleet-schedule.ts';
import type { OutMessage } from '../fleet/messages.ts';
import { createRng } from '../random/prng.ts';
import { parseScenario } from '../scenario/scenario.ts';
import { closeDay, meterProfile, registerAt } from './meter.ts';
import { expectedWeeklyL, hourlyUse } from './water-use.ts';

const FROM = Date.parse('2026-10-05T06:00:00Z'); // 15:00 in Tokyo, a Monday
const meters = (n: number, seed = 11) => parseScenario({ seed, fleet: { meters: n, sensors: 0 } });

function messagesOf(schedule: FleetSchedule, untilMs: number): OutMessage[] {
  const out: OutMessage[] = [];
  for (const due of schedule.until(untilMs)) out.push(...(due.session?.messages ?? []));
  return out;
}

describe('meter model', () => {
  it('sends the same bytes for the same seed, whatever else is in the fleet', () => {
    const small = messagesOf(new FleetSchedule(meters(5), FROM), FROM + 4 * DAY_MS).filter((m) => m.deviceId === 'M-000003');
    const large = messagesOf(new FleetSchedule(meters(500), FROM), FROM + 4 * DAY_MS).filter((m) => m.deviceId === 'M-000003');
    expect(small.length).toBeGreaterThan(0);
    expect(large.map((m) => m.payload.toString())).toEqual(small.map((m) => m.payload.toString()));
    const reseeded = messagesOf(new FleetSchedule(meters(5, 12), FROM), FROM + 4 * DAY_MS).filter((m) => m.deviceId === 'M-000003');
    expect(reseeded.map((m) => m.payload.toString())).not.toEqual(small.map((m) => m.payload.toString()));
  });

  it('keeps a register of integer litres that never decreases, the same whichever day a run starts', () => {
    const scenario = meters(100);
    const problems: string[] = [];
    for (let i = 0; i < scenario.fleet.meters; i++) {
      const profile = meterProfile(scenario.seed, i, scenario.fleet);
      const reads = [];
      for (let day = tokyoDay(FROM); day < tokyoDay(FROM) + 30; day++) reads.push(...closeDay(profile, day, scenario.seed, FROM));
      expect(reads[0]!.ts).toBe(FROM);
      for (let k = 1; k < reads.length; k++) {
        const [a, b] = [reads[k - 1]!, reads[k]!];
        if (b.ts - a.ts !== HOUR_MS || !Number.isInteger(b.registerL) || b.registerL < a.registerL) {
          problems.push(`${profile.id} ${new Date(b.ts).toISOString()}: ${a.registerL} -> ${b.registerL}`);
        }
      }
      // A register is a function of the meter and the hour: any read, computed alone, agrees.
      for (const r of [reads[0]!, reads[17]!, reads[300]!, reads.at(-1)!]) expect(registerAt(profile, r.ts, scenario.seed)).toBe(r.registerL);
    }
    expect(problems).toEqual([]);
  });

  it('sends the same register for the same hour from runs that started at different times', () => {
    const later = FROM + 2 * DAY_MS + 7 * HOUR_MS;
    const reads = (from: number) => {
      const byKey = new Map<string, number>();
      for (const m of messagesOf(new FleetSchedule(meters(20), from), FROM + 9 * DAY_MS)) for (const r of m.reads) byKey.set(`${m.deviceId}@${r.ts}`, r.registerL);
      return byKey;
    };
    const a = reads(FROM);
    const b = reads(later);
    let shared = 0;
    for (const [key, registerL] of b) {
      if (!a.has(key)) continue;
      shared++;
      expect(a.get(key), key).toBe(registerL);
    }
    expect(shared).toBeGreaterThan(20 * 24 * 5);
  });

  it('uses about the expected litres a week, with week-to-week variation', () => {
    const scenario = meters(50);
    for (let i = 0; i < scenario.fleet.meters; i++) {
      const profile = meterProfile(scenario.seed, i, scenario.fleet);
      const monday = Date.parse('2026-09-07T00:00:00+09:00');
      const weeks = Array.from({ length: 20 }, (_, w) => registerAt(profile, monday + (w + 1) * 7 * DAY_MS, 11) - registerAt(profile, monday + w * 7 * DAY_MS, 11));
      const mean = weeks.reduce((x, y) => x + y, 0) / weeks.length;
      const expected = expectedWeeklyL(profile.customer);
      expect(mean / expected).toBeGreaterThan(0.9);
      expect(mean / expected).toBeLessThan(1.1);
      expect(Math.min(...weeks)).toBeGreaterThan(0.6 * expected);
      expect(Math.max(...weeks)).toBeLessThan(1.4 * expected);
      expect(new Set(weeks).size).toBeGreaterThan(15);
    }
  });

  it('sends each night the 24 hourly reads of the previous Tokyo day, between 01:00 and 05:00, in a batch the ingest accepts', () => {
    const schedule = new FleetSchedule(meters(40), FROM);
    let batches = 0;
    for (const due of schedule.until(FROM + 6 * DAY_MS)) {
      for (const m of due.session?.messages ?? []) {
        expect(tokyoHour(due.at)).toBeGreaterThanOrEqual(1);
        expect(tokyoHour(due.at)).toBeLessThan(5);
        if (m.kind !== 'reads') continue;
        const body = JSON.parse(m.payload.toString()) as { reads: { ts: string }[] };
        expect(body.reads.every((r) => /^\d{4}-\d\d-\d\dT\d\d:00:00\.000Z$/.test(r.ts))).toBe(true);
        const decoded = decodeMeterReads(m.payload, m.deviceId, due.at, DEFAULT_LIMITS);
        expect(decoded.ok).toBe(true);
        const ts = m.reads.map((r) => r.ts);
        const night = tokyoDay(due.at);
        // The first batch starts at the simulation's start; every later one is a whole day.
        if (Math.min(...ts) > FROM) {
          expect(ts).toHaveLength(24);
          expect(Math.min(...ts)).toBe(tokyoMidnight(night - 1) + HOUR_MS);
        }
        expect(Math.max(...ts)).toBe(tokyoMidnight(night));
        expect(Math.max(...ts)).toBeLessThan(due.at);
        batches++;
      }
    }
    expect(batches).toBe(40 * 6);
  });

  it('follows the Japanese day: quiet nights, morning and evening peaks at home, working hours at businesses', () => {
    const seed = 21;
    const household = { kind: 'household' as const, persons: 2, weekdayL: 420 };
    const business = { kind: 'business' as const, persons: 0, weekdayL: 1500 };
    const byHour = (customer: typeof household | typeof business, weekend: boolean) => {
      const sums = new Array<number>(24).fill(0);
      let days = 0;
      for (let day = 20_000; days < 400; day++) {
        if (isWeekend(day) !== weekend) continue;
        hourlyUse(customer, day, createRng(seed, 'shape', day)).forEach((l, h) => (sums[h]! += l));
        days++;
      }
      return sums.map((s) => s / days);
    };
    const mean = (xs: number[], from: number, to: number) => xs.slice(from, to).reduce((a, b) => a + b, 0) / (to - from);
    const home = byHour(household, false);
    expect(mean(home, 1, 5)).toBeLessThan(0.1 * mean(home, 18, 22));
    expect(mean(home, 6, 9)).toBeGreaterThan(2 * mean(home, 13, 16));
    expect(mean(home, 18, 22)).toBeGreaterThan(mean(home, 13, 16));
    // A quiet night hour is usually exactly zero: discrete flushes, not a trickle.
    const nightHours = Array.from({ length: 200 }, (_, d) => hourlyUse(household, 20_000 + d, createRng(seed, 'night', d))[2]!);
    expect(nightHours.filter((l) => l === 0).length).toBeGreaterThan(150);
    const total = home.reduce((a, b) => a + b, 0);
    expect(total / household.persons).toBeGreaterThan(180);
    expect(total / household.persons).toBeLessThan(260);

    const office = byHour(business, false);
    expect(mean(office, 9, 17)).toBeGreaterThan(10 * mean(office, 0, 5));
    expect(mean(office, 9, 17)).toBeGreaterThan(2 * mean(byHour(business, true), 9, 17));
  });

  it('shows the diurnal shape across a simulated fleet: night hours far below the evening peak', () => {
    const scenario = parseScenario({ seed: 3, fleet: { meters: 300, sensors: 0, householdShare: 0.85 } });
    const use = new Array<number>(24).fill(0);
    for (const m of messagesOf(new FleetSchedule(scenario, FROM), FROM + 8 * DAY_MS)) {
      if (m.kind !== 'reads') continue;
      const reads = [...m.reads].sort((a, b) => a.ts - b.ts);
      for (let k = 1; k < reads.length; k++) use[tokyoHour(reads[k - 1]!.ts)]! += reads[k]!.registerL - reads[k - 1]!.registerL;
    }
    const night = (use[1]! + use[2]! + use[3]!) / 3;
    const evening = (use[19]! + use[20]! + use[21]!) / 3;
    expect(night).toBeLessThan(0.1 * evening);
  });

  it('adds a premises leak to the register and raises the meter\'s own leak flag after 24 h without a dry hour', () => {
    const scenario = meters(40);
    const leakFrom = FROM + 5 * HOUR_MS;
    const plain = meterProfile(scenario.seed, 6, scenario.fleet);
    const leaking = meterProfile(scenario.seed, 6, scenario.fleet, { fromMs: leakFrom, flowLph: 12 });
    const reads = (p: typeof plain) => {
      const out = [];
      for (let day = tokyoDay(FROM); day < tokyoDay(FROM) + 4; day++) out.push(...closeDay(p, day, scenario.seed, FROM));
      return out;
    };
    const base = reads(plain);
    const withLeak = reads(leaking);
    for (let k = 0; k < base.length; k++) {
      const hours = Math.max(0, (withLeak[k]!.ts - leakFrom) / HOUR_MS);
      // 12 L/h on top, to within the litre the register floors away.
      expect(withLeak[k]!.registerL - base[k]!.registerL).toBeGreaterThanOrEqual(Math.floor(12 * hours) - 1);
      expect(withLeak[k]!.registerL - base[k]!.registerL).toBeLessThanOrEqual(Math.ceil(12 * hours) + 1);
      expect(registerAt(leaking, withLeak[k]!.ts, scenario.seed)).toBe(withLeak[k]!.registerL);
      if (k > 0) expect(withLeak[k]!.registerL).toBeGreaterThanOrEqual(withLeak[k - 1]!.registerL);
    }
    const flagged = withLeak.filter((r) => r.flags?.includes('leak'));
    // This household alone never goes 24 h without a dry hour; with the leak it does: the flag comes at the latest
    // 24 h after the leak started (sooner when the hours before it already had use), and stays.
    expect(base.some((r) => r.flags)).toBe(false);
    expect(flagged[0]!.ts).toBeGreaterThan(leakFrom);
    expect(flagged[0]!.ts).toBeLessThanOrEqual(leakFrom + 24 * HOUR_MS);
    expect(withLeak.filter((r) => r.ts >= leakFrom + 24 * HOUR_MS).every((r) => r.flags?.includes('leak'))).toBe(true);
    // The flag goes out in the batch the ingest decodes.
    const batch = messagesOf(new FleetSchedule({ ...scenario, premisesLeaks: [{ meter: plain.id, start: { kind: 'iso', iso: '', ms: leakFrom }, flowLph: 12 }] }, FROM), FROM + 4 * DAY_MS).filter(
      (m) => m.deviceId === plain.id && m.kind === 'reads',
    );
    const decoded = batch.map((m) => decodeMeterReads(m.payload, plain.id, FROM + 5 * DAY_MS, DEFAULT_LIMITS));
    expect(decoded.some((d) => d.ok && d.value.reads.some((r) => r.flags.includes('leak')))).toBe(true);
  });

  it('raises the leak flag rarely without a premises leak (only where every hour of a day saw some use)', () => {
    const scenario = meters(300);
    let flaggedMeters = 0;
    for (let i = 0; i < scenario.fleet.meters; i++) {
      const p = meterProfile(scenario.seed, i, scenario.fleet);
      const reads = closeDay(p, tokyoDay(FROM) + 2, scenario.seed, FROM);
      if (reads.some((r) => r.flags?.includes('leak'))) flaggedMeters++;
    }
    expect(flaggedMeters / scenario.fleet.meters).toBeLessThan(0.05);
  });
});
