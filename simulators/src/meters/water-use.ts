import { isWeekend, weekdayOf } from '../clock/tokyo-time.ts';
import { chance, gaussian, lognormalFactor, poisson, uniform, weightedIndex } from '../random/distributions.ts';
import type { Rng } from '../random/prng.ts';

export type CustomerKind = 'household' | 'business';

/** Who a meter serves: what its daily water use is built from. */
export interface Customer {
  readonly kind: CustomerKind;
  /** Households: people living there. Businesses: 0. */
  readonly persons: number;
  /** Typical use on a weekday, litres. */
  readonly weekdayL: number;
}

/**
 * Relative use by local hour (the hour an interval starts) in Japan.
 * Households: a morning peak 06–08 (washing, toilet, breakfast), a broad
 * evening peak 18–22 (cooking, bath: the Japanese evening bath is the largest
 * single use), little at night. At weekends the morning peak comes later and
 * the day is fuller. Businesses (offices, shops, restaurants): working hours,
 * a lunch bump, almost nothing at night. Only the shape matters: each profile
 * is normalised to sum to 1.
 */
const HOUSEHOLD_WEEKDAY = normalise([
  0.5, 0.25, 0.2, 0.2, 0.4, 1.6, 6.5, 8.5, 6, 4.5, 4, 4, 4.5, 3.5, 3, 3, 3.5, 5, 7, 8.5, 8.5, 7.5, 5, 2.6,
]);
const HOUSEHOLD_WEEKEND = normalise([
  0.7, 0.35, 0.25, 0.2, 0.3, 0.8, 2.5, 5, 7, 7, 6, 5.5, 5.5, 4.5, 4, 4, 4, 5, 7, 8, 8, 7, 5, 3,
]);
const BUSINESS = normalise([
  0.2, 0.15, 0.15, 0.15, 0.15, 0.3, 0.8, 2.5, 7, 9, 9, 9.5, 11, 9, 8.5, 8.5, 8, 6.5, 4, 2.5, 1.5, 0.8, 0.5, 0.3,
]);

/** Below this many litres in an hour, use comes as discrete events (a flush, a tap), not a flow. */
const EVENT_REGIME_L = 20;
/** A Japanese toilet flush is 4.8–8 L; a short tap or kettle fill is similar. */
const EVENT_MIN_L = 4.5;
const EVENT_MAX_L = 8;

function normalise(weights: readonly number[]): readonly number[] {
  const total = weights.reduce((a, b) => a + b, 0);
  return weights.map((w) => w / total);
}

/** Share of a day's use in each local hour, for a customer kind on a given Tokyo day. */
export function diurnalProfile(kind: CustomerKind, day: number): readonly number[] {
  if (kind === 'business') return BUSINESS;
  return isWeekend(day) ? HOUSEHOLD_WEEKEND : HOUSEHOLD_WEEKDAY;
}

/** Scales a business's weekday use for the day of week: Saturday half, Sunday a fifth. Households use a little more at weekends. */
export function dayOfWeekFactor(kind: CustomerKind, day: number): number {
  const w = weekdayOf(day);
  if (kind === 'business') return w === 6 ? 0.45 : w === 0 ? 0.2 : 1;
  return isWeekend(day) ? 1.08 : 1;
}

/** Expected litres in a week: what the register gains, on average, from one Monday to the next. */
export function expectedWeeklyL(customer: Customer): number {
  let factors = 0;
  // Any seven consecutive days hold each weekday once.
  for (let d = 0; d < 7; d++) factors += dayOfWeekFactor(customer.kind, d);
  return customer.weekdayL * factors;
}

/**
 * Relative weights of the seven days of a week starting on Tokyo day
 * `firstDay`: the day of week, a lognormal day-to-day factor, and for
 * households the odd day away (travel, a night at the parents'), when only
 * the fridge's ice maker and a neighbour watering plants leave a trickle.
 */
export function dayWeights(customer: Customer, firstDay: number, rng: Rng): number[] {
  return Array.from({ length: 7 }, (_, i) => {
    let w = dayOfWeekFactor(customer.kind, firstDay + i) * lognormalFactor(rng, 0.15);
    if (customer.kind === 'household' && chance(rng, 0.02)) w *= 0.03;
    return w;
  });
}

/**
 * Litres used in each of the 24 local hours of Tokyo day `day`, for the
 * expected use of that day of week: hour-to-hour noise (lognormal), and at
 * quiet hours discrete events, so that a night hour is usually exactly zero
 * with an occasional flush. The meter scales the day to its share of the week.
 */
export function hourlyUse(customer: Customer, day: number, rng: Rng): number[] {
  const profile = diurnalProfile(customer.kind, day);
  const dayL = customer.weekdayL * dayOfWeekFactor(customer.kind, day);
  const out = new Array<number>(24);
  for (let h = 0; h < 24; h++) {
    const expected = dayL * profile[h]!;
    if (expected < EVENT_REGIME_L) {
      const events = poisson(rng, expected / ((EVENT_MIN_L + EVENT_MAX_L) / 2));
      let litres = 0;
      for (let e = 0; e < events; e++) litres += uniform(rng, EVENT_MIN_L, EVENT_MAX_L);
      out[h] = litres;
    } else {
      out[h] = expected * lognormalFactor(rng, 0.35);
    }
  }
  // Timer-driven night appliances (a washing machine or dishwasher on cheap
  // night electricity): rare, but a real night-flow confounder.
  if (customer.kind === 'household' && chance(rng, 0.01)) {
    const h = Math.floor(uniform(rng, 0, 5));
    out[h] = out[h]! + uniform(rng, 40, 80);
  }
  return out;
}

/** Persons in a Japanese household (census 2020: ~38% single, mean ~2.2). */
const PERSONS_WEIGHTS = [0.38, 0.28, 0.16, 0.13, 0.05];

/** Draws a customer: households ~220 L per person per day, businesses from a shop to a restaurant. */
export function drawCustomer(kind: CustomerKind, rng: Rng): Customer {
  if (kind === 'business') {
    // Median 1.5 m³ a day, wide spread: a small office uses a few hundred
    // litres, a restaurant or a clinic several cubic metres.
    return { kind, persons: 0, weekdayL: 1500 * Math.exp(0.8 * gaussian(rng)) };
  }
  const persons = weightedIndex(rng, PERSONS_WEIGHTS) + 1;
  // Per-person use in Japanese homes is ~200–250 L/day; people in larger
  // households share baths and laundry, so use grows less than linearly.
  const perPersonL = 220 * lognormalFactor(rng, 0.2);
  return { kind, persons, weekdayL: perPersonL * persons ** 0.9 };
}
