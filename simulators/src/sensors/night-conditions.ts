import { chance, gaussian } from '../random/distributions.ts';
import type { Rng } from '../random/prng.ts';
import { logUniform } from './sensor-hardware.ts';

/**
 * What changes from one night (or day) to the next at one sensor: a leak is
 * persistent, but the flow in the main, the pressure, the weather and whether
 * a pump runs are not.
 */
export interface NightConditions {
  /** Shift of the background level, dB (flow in the main, season). */
  readonly backgroundDb: number;
  /** Shift of every leak's level, dB: the pressure in the main differs from night to night. */
  readonly leakDb: number;
  /** Shift of a nearby PRV's noise, dB: it follows the flow it throttles. */
  readonly prvDb: number;
  readonly pumpOnAtNight: boolean;
  readonly pumpOnByDay: boolean;
  /** 0 when dry, else 0.05–1 (1: a heavy downpour). */
  readonly rainIntensity: number;
}

/**
 * Hiroshima has about 100–120 days a year with at least 1 mm of rain (JMA
 * normals), ~30 % of days; rain falls in only part of a wet day's hours, so
 * the chance that it rains during the 02:00–04:00 window is taken as 0.15
 * (assumption).
 */
export const RAIN_NIGHT_PROBABILITY = 0.15;

export function drawRainIntensity(rng: Rng): number {
  const wet = chance(rng, RAIN_NIGHT_PROBABILITY);
  const intensity = logUniform(rng, 0.05, 1);
  return wet ? intensity : 0;
}

/** `rainIntensity`, when given, is the city's weather that night (shared by a fleet); otherwise it is drawn. */
export function drawNightConditions(rng: Rng, rainIntensity?: number): NightConditions {
  const drawnRain = drawRainIntensity(rng);
  return {
    backgroundDb: 1.5 * gaussian(rng),
    leakDb: 1 * gaussian(rng),
    prvDb: 2 * gaussian(rng),
    // Booster and distribution pumps run most nights (level control stops some).
    pumpOnAtNight: rng.next() < 0.75,
    pumpOnByDay: rng.next() < 0.9,
    rainIntensity: rainIntensity ?? drawnRain,
  };
}

/** A typical quiet night: the reference for a sensor's audibility (minimum night noise, as a noise logger judges). */
export const QUIET_NIGHT: NightConditions = {
  backgroundDb: 0,
  leakDb: 0,
  prvDb: 0,
  pumpOnAtNight: true,
  pumpOnByDay: true,
  rainIntensity: 0,
};
