import { HOUR_MS, tokyoMidnight } from '../clock/tokyo-time.ts';
import { districtCentre, placeNear, type LatLon } from '../fleet/geography.ts';
import type { LedgerRead } from '../fleet/messages.ts';
import { chance, gaussian, intBetween, pick, uniform } from '../random/distributions.ts';
import { createRng } from '../random/prng.ts';
import type { FleetSpec } from '../scenario/scenario.ts';
import { drawCustomer, hourlyUse, type Customer } from './water-use.ts';

/** A simulated smart meter's fixed traits, drawn from the seed and its id alone. */
export interface MeterProfile {
  readonly id: string;
  readonly customer: Customer;
  readonly district: string;
  readonly location: LatLon;
  readonly firmware: string;
  /** Register when the simulation starts, integer litres. */
  readonly initialRegisterL: number;
  /** Battery when the simulation starts, percent. */
  readonly batteryPct: number;
  /** Typical radio signal at its site, dBm. */
  readonly rssiDbm: number;
}

const FIRMWARE = ['2.3.1', '2.4.0', '2.4.0', '3.0.2'];

/** `M-000001` for index 0: ids sort in fleet order. */
export function meterId(index: number): string {
  return `M-${String(index + 1).padStart(6, '0')}`;
}

export function meterProfile(seed: number, index: number, fleet: FleetSpec): MeterProfile {
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
    // Meters in service for years: up to a few thousand cubic metres.
    initialRegisterL: Math.floor(uniform(rng, 0, 3_000_000)),
    batteryPct: Math.round(uniform(rng, 35, 100) * 10) / 10,
    rssiDbm: Math.round(Math.max(-125, Math.min(-60, -95 + 10 * gaussian(rng)))),
  };
}

/**
 * The register's running state. The meter measures a real volume; the
 * register shows it in whole litres, rounded down, so it never decreases
 * and never runs ahead of the water that passed.
 */
export interface MeterRegister {
  /** Reads before this instant are not simulated (the simulation's start). */
  readonly fromMs: number;
  readonly initialL: number;
  /** Volume since `fromMs`, litres, fractional. */
  usedL: number;
  /** The next Tokyo day `closeDay` expects: days are closed in order. */
  nextDay: number | undefined;
}

export function meterRegister(profile: MeterProfile, fromMs: number): MeterRegister {
  return { fromMs, initialL: profile.initialRegisterL, usedL: 0, nextDay: undefined };
}

/**
 * Closes Tokyo day `day`: the reads at the top of each hour from 01:00 to
 * 24:00 local, each the register after that hour's use. Reads before the
 * register's start are left out, and the first one is the register at the
 * start itself. Use is drawn from a stream of the seed, the meter and the
 * day, so a day's use does not depend on when the simulation started.
 */
export function closeDay(profile: MeterProfile, register: MeterRegister, day: number, seed: number): LedgerRead[] {
  if (register.nextDay !== undefined && day !== register.nextDay) {
    throw new RangeError(`${profile.id}: day ${day} closed out of order (expected ${register.nextDay})`);
  }
  register.nextDay = day + 1;
  const use = hourlyUse(profile.customer, day, createRng(seed, profile.id, 'use', day));
  const midnight = tokyoMidnight(day);
  const reads: LedgerRead[] = [];
  for (let h = 0; h < 24; h++) {
    const ts = midnight + (h + 1) * HOUR_MS;
    if (ts < register.fromMs) continue;
    if (ts - HOUR_MS >= register.fromMs) register.usedL += use[h]!;
    reads.push({ ts, registerL: register.initialL + Math.floor(register.usedL) });
  }
  return reads;
}
