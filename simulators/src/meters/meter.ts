import type { MeterFlag } from '@suido/ingest';
import { HOUR_MS, tokyoDay, tokyoMidnight } from '../clock/tokyo-time.ts';
import { districtCentre, placeNear, type LatLon } from '../fleet/geography.ts';
import type { LedgerRead } from '../fleet/messages.ts';
import { chance, gaussian, intBetween, pick, uniform } from '../random/distributions.ts';
import { createRng } from '../random/prng.ts';
import type { FleetSpec } from '../scenario/scenario.ts';
import { dayWeights, diurnalProfile, drawCustomer, expectedWeeklyL, hourlyUse, type Customer } from './water-use.ts';

/** A simulated smart meter's fixed traits, drawn from the seed and its id alone. */
export interface MeterProfile {
  readonly id: string;
  readonly customer: Customer;
  readonly district: string;
  readonly location: LatLon;
  readonly firmware: string;
  /** Register at the model's epoch (REGISTER_EPOCH_MS), integer litres. */
  readonly baseRegisterL: number;
  /** Battery when the simulation starts, percent. */
  readonly batteryPct: number;
  /** Typical radio signal at its site, dBm. */
  readonly rssiDbm: number;
  /** A leak on the customer's side: continuous flow from an instant on. */
  readonly premisesLeak: PremisesLeakFlow | undefined;
}

export interface PremisesLeakFlow {
  readonly fromMs: number;
  /** L/h, added to every hour's use from `fromMs`. */
  readonly flowLph: number;
}

/**
 * The meter raises `leak` itself when no hour of the last 24 had zero flow
 * (PARTS.md, Kamstrup-style alarm codes). "Zero" is below 1 L in the hour:
 * the register's resolution, and about the starting flow of a domestic
 * ultrasonic meter.
 */
export const LEAK_FLAG_MIN_HOURLY_ML = 1000;
const LEAK_FLAG_HOURS = 24;

const FIRMWARE = ['2.3.1', '2.4.0', '2.4.0', '3.0.2'];

/**
 * Registers count from this Monday, 00:00 Tokyo. A register is a function of
 * (seed, meter, time) alone, so two runs that overlap (a restarted demo, a
 * longer backfill) send the same register for the same hour, and the ingest
 * sees duplicates rather than conflicts.
 */
export const REGISTER_EPOCH_MS = Date.parse('2016-01-04T00:00:00+09:00');
/** Week-to-week wobble of a meter's use, as a share of its expected week. */
const WEEKLY_WOBBLE = 0.15;

/** `M-000001` for index 0: ids sort in fleet order. */
export function meterId(index: number): string {
  return `M-${String(index + 1).padStart(6, '0')}`;
}

export function meterProfile(seed: number, index: number, fleet: FleetSpec, premisesLeak?: PremisesLeakFlow): MeterProfile {
  const id = meterId(index);
  const rng = createRng(seed, id, 'profile');
  const kind = chance(rng, fleet.householdShare) ? 'household' : 'business';
  const districtIndex = intBetween(rng, 0, fleet.districts.length - 1);
  return {
    id,
    customer: drawCustomer(kind, rng),
    district: fleet.districts[districtIndex]!,
    location: placeNear(districtCentre(districtIndex, fleet.districts.length), rng),
    firmware: pick(rng, FIRMWARE),
    baseRegisterL: Math.floor(uniform(rng, 0, 500_000)),
    batteryPct: Math.round(uniform(rng, 35, 100) * 10) / 10,
    rssiDbm: Math.round(Math.max(-125, Math.min(-60, -95 + 10 * gaussian(rng)))),
    premisesLeak,
  };
}

/** Millilitres a premises leak has added up to `ts`: a function of the instant alone, so registers stay exact integers. */
function leakMlAt(profile: MeterProfile, ts: number): number {
  const leak = profile.premisesLeak;
  if (!leak || ts <= leak.fromMs) return 0;
  // L/h × 1000 mL/L × (ms / 3,600,000 ms/h) = L/h × ms / 3,600.
  return Math.floor((leak.flowLph * (ts - leak.fromMs)) / 3600);
}

/**
 * Closes Tokyo day `day`: the reads at the top of each hour from 01:00 to
 * 24:00 local, each the register after that hour's use, leaving out reads
 * before `fromMs`.
 */
export function closeDay(profile: MeterProfile, day: number, seed: number, fromMs: number): LedgerRead[] {
  const midnight = tokyoMidnight(day);
  const start = dayStart(profile, day, seed);
  const hours = hourlyMl(profile, day, seed, start.totalMl);
  // The flag looks back 24 h, into the previous day's hours.
  const before = dayStart(profile, day - 1, seed);
  const flowing = [...hourlyMl(profile, day - 1, seed, before.totalMl), ...hours].map((ml, h) => {
    const end = tokyoMidnight(day - 1) + (h + 1) * HOUR_MS;
    return ml + leakMlAt(profile, end) - leakMlAt(profile, end - HOUR_MS) >= LEAK_FLAG_MIN_HOURLY_ML;
  });
  let ml = start.registerMl;
  const reads: LedgerRead[] = [];
  for (let h = 0; h < 24; h++) {
    ml += hours[h]!;
    const ts = midnight + (h + 1) * HOUR_MS;
    if (ts < fromMs) continue;
    const leak = flowing.slice(h + 1, h + 1 + LEAK_FLAG_HOURS).every(Boolean);
    const flags: MeterFlag[] | undefined = leak ? ['leak'] : undefined;
    reads.push({ ts, registerL: Math.floor((ml + leakMlAt(profile, ts)) / 1000), ...(flags ? { flags } : {}) });
  }
  return reads;
}

/** The register at a top of the hour, as the meter would read it then. */
export function registerAt(profile: MeterProfile, ts: number, seed: number): number {
  if (ts % HOUR_MS !== 0) throw new RangeError(`${new Date(ts).toISOString()} is not at the top of an hour`);
  const day = tokyoDay(ts - 1);
  const start = dayStart(profile, day, seed);
  const hours = hourlyMl(profile, day, seed, start.totalMl);
  let ml = start.registerMl;
  for (let h = 0; h < (ts - tokyoMidnight(day)) / HOUR_MS; h++) ml += hours[h]!;
  return Math.floor((ml + leakMlAt(profile, ts)) / 1000);
}

/*
 * The arithmetic below is in integer millilitres, so every path to a
 * register (a whole week, a day, an hour) adds up to exactly the same number
 * and a read at midnight equals the register the next day starts from.
 *
 * The use of week w is X + E(w) - E(w-1), X the expected week and E a
 * bounded random wobble: the sum from the epoch to any week telescopes to
 * X·weeks + E(w-1) - E(epoch-1), so the register at any instant costs O(1)
 * however long ago the epoch was, with no state carried from day to day.
 */

/** Monday-based Tokyo weeks: 1970-01-01 (day 0) was a Thursday, so day 4 is the first Monday. */
function weekOf(day: number): number {
  return Math.floor((day - 4) / 7);
}

function firstDayOf(week: number): number {
  return week * 7 + 4;
}

const EPOCH_WEEK = weekOf(tokyoDay(REGISTER_EPOCH_MS));

function expectedWeekMl(profile: MeterProfile): number {
  return Math.round(expectedWeeklyL(profile.customer) * 1000);
}

function wobbleMl(profile: MeterProfile, week: number, seed: number): number {
  const u = createRng(seed, profile.id, 'week-wobble', week).next();
  return Math.round(expectedWeekMl(profile) * WEEKLY_WOBBLE * (2 * u - 1));
}

function usedBeforeWeekMl(profile: MeterProfile, week: number, seed: number): number {
  return expectedWeekMl(profile) * (week - EPOCH_WEEK) + wobbleMl(profile, week - 1, seed) - wobbleMl(profile, EPOCH_WEEK - 1, seed);
}

/** The week's use split over its seven days. */
function weekDaysMl(profile: MeterProfile, week: number, seed: number): number[] {
  const total = expectedWeekMl(profile) + wobbleMl(profile, week, seed) - wobbleMl(profile, week - 1, seed);
  return splitExactly(total, dayWeights(profile.customer, firstDayOf(week), createRng(seed, profile.id, 'week', week)));
}

/** The register at the day's local midnight and the day's use, in millilitres. */
function dayStart(profile: MeterProfile, day: number, seed: number): { registerMl: number; totalMl: number } {
  const week = weekOf(day);
  const days = weekDaysMl(profile, week, seed);
  let registerMl = profile.baseRegisterL * 1000 + usedBeforeWeekMl(profile, week, seed);
  const index = day - firstDayOf(week);
  for (let i = 0; i < index; i++) registerMl += days[i]!;
  return { registerMl, totalMl: days[index]! };
}

/** The day's use split over its 24 hours with the day's diurnal shape and noise. */
function hourlyMl(profile: MeterProfile, day: number, seed: number, totalMl: number): number[] {
  const shape = hourlyUse(profile.customer, day, createRng(seed, profile.id, 'use', day));
  const weights = shape.some((l) => l > 0) ? shape : [...diurnalProfile(profile.customer.kind, day)];
  return splitExactly(totalMl, weights);
}

/** Splits a non-negative integer in proportion to weights, in integers that sum to it exactly (largest remainder). */
function splitExactly(total: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const exact = weights.map((w) => (total * w) / sum);
  const parts = exact.map(Math.floor);
  let left = total - parts.reduce((a, b) => a + b, 0);
  const order = exact.map((x, i) => [x - Math.floor(x), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (let k = 0; left > 0; k = (k + 1) % order.length, left--) parts[order[k]![1]]!++;
  return parts;
}
