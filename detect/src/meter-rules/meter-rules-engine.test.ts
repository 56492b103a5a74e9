import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore, type Alert, type MeterFlag, type MeterRead, type Store } from '@suido/ingest';
import { DAY_MS, HOUR_MS } from './interval-series.ts';
import { MeterRulesEngine } from './meter-rules-engine.ts';

const log = pino({ level: 'silent' });
/** Local midnight, Tokyo, of day 0. */
const T0 = Date.parse('2026-10-01T00:00:00+09:00');

/**
 * Relative use by local hour in a Japanese household (the simulators' shape):
 * a morning peak, the evening bath, nights nearly dry.
 */
const HOUSEHOLD = [0.5, 0.25, 0.2, 0.2, 0.4, 1.6, 6.5, 8.5, 6, 4.5, 4, 4, 4.5, 3.5, 3, 3, 3.5, 5, 7, 8.5, 8.5, 7.5, 5, 2.6];
const HOUSEHOLD_SUM = HOUSEHOLD.reduce((a, b) => a + b, 0);

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0) / 2 ** 32);
}

interface MeterModel {
  readonly id: string;
  readonly dailyL: number;
  readonly seed: number;
  readonly startRegisterL?: number;
  /** Extra litres per hour on top of use, by global hour index (a leak, a burst). */
  readonly extraLph?: (hour: number) => number;
  /** Hours at which the register does not move (a stuck meter). */
  readonly frozen?: (hour: number) => boolean;
  readonly flags?: (hour: number) => MeterFlag[];
}

/**
 * Hourly reads of a household as its meter sends them: the register at the
 * top of each hour, integer litres. Quiet hours get discrete events (a 6 L
 * flush, Poisson), busy hours a noisy flow; so a night is mostly zero hours.
 */
function household(m: MeterModel, days: number): MeterRead[][] {
  const rand = rng(m.seed);
  let ml = (m.startRegisterL ?? 250_000) * 1000;
  const out: MeterRead[][] = [];
  for (let d = 0; d < days; d++) {
    const day: MeterRead[] = [];
    for (let h = 0; h < 24; h++) {
      const hour = d * 24 + h;
      const expected = (m.dailyL * HOUSEHOLD[h]!) / HOUSEHOLD_SUM;
      let litres = 0;
      if (expected < 20) {
        // Knuth's Poisson draw of flushes.
        const limit = Math.exp(-expected / 6);
        for (let p = rand(); p > limit; p *= rand()) litres += 6;
      } else litres = expected * (0.6 + 0.8 * rand());
      litres += m.extraLph?.(hour) ?? 0;
      if (!m.frozen?.(hour)) ml += Math.round(litres * 1000);
      day.push({ meterId: m.id, ts: T0 + (hour + 1) * HOUR_MS, registerL: Math.floor(ml / 1000), flags: m.flags?.(hour) ?? [] });
    }
    out.push(day);
  }
  return out;
}

const batchOf = (reads: readonly MeterRead[]) => ({ receivedAtMs: T0, reads, frames: [], statuses: [], deadLetters: [] });

/** Each meter's day as one message, as meters send them; `order` says in which order the days arrive. */
async function deliver(store: Store, meters: readonly MeterRead[][][], order: (days: number) => number[] = (n) => [...Array(n).keys()]): Promise<void> {
  for (const d of order(meters[0]!.length)) {
    for (const days of meters) await store.commit(batchOf(days[d]!));
  }
}

function summary(alerts: readonly Alert[]) {
  return alerts.map((a) => `${a.sourceId} ${a.kind} ${a.state}`);
}

const dayHour = (day: number, hour: number) => day * 24 + hour;

/** The end of the last hour before `beforeMs` in which the register did not move. */
function lastZeroHourBefore(reads: readonly MeterRead[], beforeMs: number): number {
  const zero = reads.filter((r, k) => k > 0 && r.ts < beforeMs && r.registerL === reads[k - 1]!.registerL);
  return zero[zero.length - 1]!.ts;
}

/** The end of the first hour from `fromMs` on in which the register did not move. */
function firstZeroHourFrom(reads: readonly MeterRead[], fromMs: number): number {
  const i = reads.findIndex((r, k) => k > 0 && r.ts >= fromMs && r.registerL === reads[k - 1]!.registerL);
  return reads[i]!.ts;
}
const at = (day: number, hour: number) => T0 + (dayHour(day, hour) + 1) * HOUR_MS;

describe('meter rules engine', () => {
  let dir: string;
  let stores: Store[];

  async function open(name = 'suido.db'): Promise<Store> {
    const s = new SqliteStore({ path: join(dir, name) });
    stores.push(s);
    return s;
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'suido-meter-rules-'));
    stores = [];
  });
  afterEach(async () => {
    for (const s of stores) await s.close();
    await rm(dir, { recursive: true, force: true });
  });

  // A premises leak of 5 L/h from day 3, 10:00 to day 8, 10:00, beside ordinary households.
  const leakFrom = dayHour(3, 10);
  const leakTo = dayHour(8, 10);
  const fleet = () => [
    household({ id: 'M-LEAK', dailyL: 450, seed: 1, extraLph: (h) => (h >= leakFrom && h < leakTo ? 5 : 0) }, 12),
    ...Array.from({ length: 6 }, (_, i) => household({ id: `M-HOME-${i}`, dailyL: 200 + 150 * i, seed: 10 + i }, 12)),
  ];

  it('raises continuous flow for a 5 L/h premises leak on that meter only, and clears it a day after the repair', async () => {
    const store = await open();
    const meters = fleet();
    await deliver(store, meters);
    await new MeterRulesEngine({ store, log }).drain();
    const alerts = await store.listAlerts({ limit: 100 });
    expect(summary(alerts)).toEqual(['M-LEAK continuous_flow cleared']);
    const [leak] = alerts;
    // After the repair the day's use still flows; the first zero hour (that night) ends the condition.
    const firstZeroHour = firstZeroHourFrom(meters[0]!.flat(), at(8, 10));
    // Raised when the last zero hour before the leak leaves the 48-hour window; cleared a day after the first zero hour after it.
    const lastZeroHour = lastZeroHourBefore(meters[0]!.flat(), at(3, 10));
    expect(leak).toMatchObject({ raisedAtMs: lastZeroHour + 48 * HOUR_MS, lastSeenAtMs: firstZeroHour - HOUR_MS, clearedAtMs: firstZeroHour + 24 * HOUR_MS });
    expect(leak!.peakScore).toBeGreaterThanOrEqual(4);
    expect(leak!.details).toMatchObject({ evidence: 'intervals', windowHours: 48 });
    expect((await store.alertEvents(leak!.id)).map((e) => e.action).filter((a) => a !== 'updated')).toEqual(['raised', 'cleared']);
  });

  it('judges the same when days arrive late and out of order', async () => {
    const store = await open();
    // Newest first, then the gaps: store-and-forward after a radio outage.
    await deliver(store, fleet(), (n) => [...Array(n).keys()].reverse());
    const engine = new MeterRulesEngine({ store, log });
    await engine.drain();
    expect(summary(await store.listAlerts({ limit: 100 }))).toEqual(['M-LEAK continuous_flow cleared']);

    // Interleaved with the engine: a day at a time, some days late.
    const other = await open('interleaved.db');
    const interleaved = new MeterRulesEngine({ store: other, log });
    const meters = fleet();
    for (const d of [0, 1, 3, 2, 4, 6, 7, 5, 8, 9, 11, 10]) {
      for (const days of meters) await other.commit(batchOf(days[d]!));
      await interleaved.drain();
    }
    const alerts = await other.listAlerts({ limit: 100 });
    expect(summary(alerts)).toEqual(['M-LEAK continuous_flow cleared']);
    expect((await other.alertEvents(alerts[0]!.id)).filter((e) => e.action !== 'updated').map((e) => e.action)).toEqual(['raised', 'cleared']);
  });

  it('never raises continuous flow for households whose nights have zero hours, over weeks', async () => {
    const store = await open();
    const homes = Array.from({ length: 20 }, (_, i) => household({ id: `M-${i}`, dailyL: 150 + 60 * i, seed: 100 + i }, 21));
    await deliver(store, homes);
    await new MeterRulesEngine({ store, log }).drain();
    expect(await store.listAlerts({ limit: 100 })).toEqual([]);
  });

  it('raises reverse flow and tamper from the meter’s flags, and reverse flow from a register that went down', async () => {
    const store = await open();
    const flagged = household({ id: 'M-FLAGS', dailyL: 400, seed: 3, flags: (h) => (h === dayHour(2, 3) ? ['reverse'] : h >= dayHour(4, 1) && h <= dayHour(4, 4) ? ['tamper'] : []) }, 7);
    const backwards = household({ id: 'M-BACK', dailyL: 400, seed: 4 }, 7);
    // A backflow of 40 L in the hour to day 3, 06:00; the register counts on from there.
    const [before, back] = [backwards[3]![4]!, backwards[3]![5]!];
    const shift = back.registerL - before.registerL + 40;
    for (const day of backwards.slice(3)) day.forEach((r, i) => (day[i] = r.ts >= back.ts ? { ...r, registerL: r.registerL - shift } : r));
    const rollover = household({ id: 'M-WRAP', dailyL: 400, seed: 5, startRegisterL: 99_999_500 }, 7).map((day) =>
      day.map((r) => ({ ...r, registerL: r.registerL % 100_000_000 })),
    );
    await deliver(store, [flagged, backwards, rollover]);
    await new MeterRulesEngine({ store, log }).drain();
    const alerts = await store.listAlerts({ limit: 100 });
    expect(summary(alerts).sort()).toEqual(['M-BACK reverse_flow cleared', 'M-FLAGS reverse_flow cleared', 'M-FLAGS tamper cleared']);
    const byKey = new Map(alerts.map((a) => [`${a.sourceId} ${a.kind}`, a]));
    expect(byKey.get('M-FLAGS tamper')).toMatchObject({ raisedAtMs: at(4, 1), lastSeenAtMs: at(4, 4), clearedAtMs: at(4, 5) + DAY_MS, peakScore: null });
    expect(byKey.get('M-FLAGS reverse_flow')).toMatchObject({ raisedAtMs: at(2, 3), details: { evidence: 'meter flag' } });
    expect(byKey.get('M-BACK reverse_flow')).toMatchObject({ raisedAtMs: at(3, 5), peakScore: 40, details: { evidence: 'register' } });
  });

  it('raises what a late read proves, dated when it happened, and clears only going forward', async () => {
    const store = await open();
    const meter = household({ id: 'M-LATE', dailyL: 400, seed: 9, flags: (h) => (h === dayHour(3, 2) ? ['tamper'] : []) }, 8);
    const engine = new MeterRulesEngine({ store, log });
    for (const d of [0, 1, 2, 4, 5]) await store.commit(batchOf(meter[d]!));
    await engine.drain();
    expect(await store.listAlerts({ limit: 10 })).toEqual([]);
    // Day 3 arrives after day 5 (store-and-forward): its tamper flag raises, at its own time.
    await store.commit(batchOf(meter[3]!));
    await engine.drain();
    expect(summary(await store.listAlerts({ limit: 10 }))).toEqual(['M-LATE tamper open']);
    expect((await store.listAlerts({ limit: 10 }))[0]).toMatchObject({ raisedAtMs: at(3, 2), lastSeenAtMs: at(3, 2) });
    // Not cleared by the reads of days 4 and 5 judged before it arrived: absence counts from the newest read,
    // judged again with the late day (day 5, 24:00), and a day of reads after that clears it.
    for (const d of [6, 7]) await store.commit(batchOf(meter[d]!));
    await engine.drain();
    expect((await store.listAlerts({ limit: 10 }))[0]).toMatchObject({ state: 'cleared', clearedAtMs: at(5, 23) + DAY_MS });
  });

  it('raises a burst above 1,250 L/h and clears it 6 hours after', async () => {
    const store = await open();
    const burst = household({ id: 'M-BURST', dailyL: 400, seed: 6, extraLph: (h) => (h === dayHour(1, 14) || h === dayHour(1, 15) ? 3000 : 0) }, 3);
    await deliver(store, [burst]);
    await new MeterRulesEngine({ store, log }).drain();
    const alerts = await store.listAlerts({ limit: 100 });
    expect(summary(alerts)).toEqual(['M-BURST burst cleared']);
    expect(alerts[0]).toMatchObject({ raisedAtMs: at(1, 14), lastSeenAtMs: at(1, 15), clearedAtMs: at(1, 16) + 6 * HOUR_MS });
    expect(alerts[0]!.peakScore).toBeGreaterThan(3000);
  });

  it('raises a stuck meter where its history expects use, not for a vacant home, and clears when it moves again', async () => {
    const store = await open();
    const stuckFrom = dayHour(30, 0);
    const stuckTo = dayHour(40, 0);
    const stuck = household({ id: 'M-STUCK', dailyL: 350, seed: 7, frozen: (h) => h >= stuckFrom && h < stuckTo }, 45);
    const vacant = household({ id: 'M-VACANT', dailyL: 0, seed: 8 }, 45);
    await deliver(store, [stuck, vacant]);
    await new MeterRulesEngine({ store, log }).drain();
    const alerts = await store.listAlerts({ limit: 100 });
    expect(summary(alerts)).toEqual(['M-STUCK stuck_meter cleared']);
    // Judged once a day, at the first read of each UTC day (09:00 in Tokyo): raised at the first such read 7 days into
    // the freeze, cleared at the first after the register moved again (morning use on day 40).
    expect(alerts[0]).toMatchObject({ raisedAtMs: at(37, 8), clearedAtMs: at(40, 8) });
    expect(alerts[0]!.details.expectedDailyL).toBeGreaterThan(250);
  });

  it('continues after a restart without losing or repeating an alert', async () => {
    const meters = fleet();
    const reference = await open('reference.db');
    await deliver(reference, meters);
    await new MeterRulesEngine({ store: reference, log }).drain();
    const expected = await reference.alertEventsAfter(0, 1000);

    let store = await open();
    await deliver(store, meters.map((days) => days.slice(0, 5)));
    let engine = new MeterRulesEngine({ store, log, batchSize: 100 });
    for (let i = 0; i < 12; i++) await engine.runOnce();
    await engine.stop();
    await store.close();
    store = await open();
    await deliver(store, meters.map((days) => days.slice(5)));
    engine = new MeterRulesEngine({ store, log, batchSize: 100 });
    await engine.drain();
    const got = await store.alertEventsAfter(0, 1000);
    const view = (events: typeof got.events) => events.map((e) => `${e.alert.sourceId} ${e.alert.kind} ${e.action} ${e.atMs} v${e.alert.version}`).sort();
    expect(view(got.events)).toEqual(view(expected.events));
    expect(view(got.events).length).toBeGreaterThan(1);
  });
});
