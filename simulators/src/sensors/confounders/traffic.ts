import { chance, poisson, uniform } from '../../random/distributions.ts';
import type { Rng } from '../../random/prng.ts';
import { BACKGROUND_REFERENCE_DB } from '../background.ts';
import type { Environment } from '../environment.ts';
import { dbToRms, type FrameContext, type NoiseComponent } from '../frame-components.ts';
import { logUniform } from '../sensor-hardware.ts';
import { slowEnvelope } from '../signal/envelope.ts';
import { binPowers, cachedPowers, type Shape } from '../signal/spectral-noise.ts';

/**
 * Road traffic: tyres and suspension shake the road, and the ground carries
 * a loud low-frequency rumble (mostly below 40–200 Hz) to the main and the
 * valve box. Each vehicle is a pass: its power at the sensor follows
 * 1/(1 + ((t − t₀)/τ)²), the inverse-square law of a source moving past at
 * closest distance r₀ and speed v (τ = r₀/v ≈ 0.5–3 s), so a pass lasts
 * seconds. Passes arrive as a Poisson process whose rate follows the hour.
 */
export interface TrafficSite {
  /** Vehicles per second at 02:00–04:00 and by day. */
  readonly nightPerS: number;
  readonly dayPerS: number;
  /** Peak level of a car pass, dBFS0 range (trucks add 10 dB). */
  readonly peakDb: readonly [number, number];
  /** Corner of the rumble's low-pass: road surface and soil, Hz. */
  readonly cornerHz: number;
}

interface TrafficProfile {
  readonly night: readonly [number, number];
  readonly day: readonly [number, number];
  /** Peak above the reference background, dB. */
  readonly peak: readonly [number, number];
}

/**
 * Night rates: a car every 2–8 minutes in a residential street at 03:00,
 * every 10–50 s on an arterial road (night buses, taxis, delivery trucks);
 * by day tens of times more (traffic counts of Japanese city roads; assumption
 * within that range).
 */
const PROFILES: Readonly<Record<Environment, TrafficProfile>> = {
  quiet_residential: { night: [0.002, 0.01], day: [0.02, 0.1], peak: [10, 25] },
  arterial_road: { night: [0.02, 0.1], day: [0.3, 1.2], peak: [20, 35] },
  tram_line: { night: [0.01, 0.05], day: [0.1, 0.5], peak: [15, 30] },
  near_pump: { night: [0.003, 0.03], day: [0.03, 0.3], peak: [12, 28] },
  near_prv: { night: [0.003, 0.03], day: [0.03, 0.3], peak: [12, 28] },
};

/** A pass farther than this many τ from the frame adds less than 1/37 of its peak power. */
const TAIL_WIDTHS = 6;
const MAX_WIDTH_S = 3;
const TRUCK_SHARE = 0.15;
const TRUCK_RISE_DB = 10;

export function drawTraffic(rng: Rng, environment: Environment): TrafficSite {
  const p = PROFILES[environment];
  return {
    nightPerS: logUniform(rng, p.night[0], p.night[1]),
    dayPerS: logUniform(rng, p.day[0], p.day[1]),
    peakDb: [BACKGROUND_REFERENCE_DB + p.peak[0], BACKGROUND_REFERENCE_DB + p.peak[1]],
    cornerHz: logUniform(rng, 40, 200),
  };
}

export function trafficShape(site: TrafficSite): Shape {
  const c4 = site.cornerHz ** 4;
  // 2nd-order low-pass, 1st-order high-pass at 8 Hz.
  return (f) => (f * f) / (f * f + 64) / (1 + (f * f * f * f) / c4);
}

export function trafficInFrame(site: TrafficSite, ctx: FrameContext): NoiseComponent | undefined {
  const rng = ctx.stream('traffic');
  const rate = site.nightPerS + (site.dayPerS - site.nightPerS) * ctx.activity;
  const margin = TAIL_WIDTHS * MAX_WIDTH_S;
  const count = poisson(rng, rate * (ctx.durationS + 2 * margin));
  if (count === 0) return undefined;
  const refDb = site.peakDb[1];
  const passes = Array.from({ length: count }, () => {
    const centreS = uniform(rng, -margin, ctx.durationS + margin);
    const widthS = uniform(rng, 0.5, MAX_WIDTH_S);
    const peakDb = uniform(rng, site.peakDb[0], site.peakDb[1]) + (chance(rng, TRUCK_SHARE) ? TRUCK_RISE_DB : 0);
    return { centreS, widthS, relPower: 10 ** ((peakDb - refDb) / 10) };
  });
  const envelope = slowEnvelope(ctx.grid.sampleCount, ctx.grid.sampleRateHz, (s) => {
    let power = 0;
    for (const p of passes) power += p.relPower / (1 + ((s - p.centreS) / p.widthS) ** 2);
    return Math.sqrt(power);
  });
  const unit = cachedPowers(site, ctx.grid, 'traffic', () => binPowers(ctx.grid, trafficShape(site), 1));
  return { name: 'traffic', stream: 'traffic', powers: unit, scale: dbToRms(refDb) ** 2, envelope, path: 'acoustic' };
}
