import { chance, lognormalFactor, uniform } from '../../random/distributions.ts';
import type { Rng } from '../../random/prng.ts';
import { tokyoDay } from '../../clock/tokyo-time.ts';
import { diurnalProfile } from '../../meters/water-use.ts';
import type { Environment } from '../environment.ts';
import { dbToRms, type FrameContext, type NoiseComponent } from '../frame-components.ts';
import { drawModulation, hissShape, modulationAt } from '../hiss.ts';
import { drawLeak } from '../leak/leak-noise.ts';
import { MATERIAL_ACOUSTICS, propagationGainSquared } from '../pipe/pipe-acoustics.ts';
import { logUniform } from '../sensor-hardware.ts';
import { slowEnvelope } from '../signal/envelope.ts';
import { binPowers, filtered } from '../signal/spectral-noise.ts';

/**
 * Customers using water: flow through a service ferrule and pipe makes the
 * same kind of broadband hiss as a leak (a leak *is* water flowing out), but
 * it is intermittent — a tap, a WC refill, a bath filling: half a minute to
 * a quarter of an hour — and it follows the day: the chance that a frame
 * catches someone's use is proportional to the household diurnal profile
 * (src/meters/water-use.ts: evening peak, near zero at 02:00–04:00).
 */
export interface WaterUseSite {
  /** Service connections within earshot relative to a typical street (lognormal). */
  readonly density: number;
}

/** Environments with shops and flats along them have more connections near the sensor. */
const DENSITY: Readonly<Record<Environment, number>> = {
  quiet_residential: 1,
  arterial_road: 1.5,
  tram_line: 1.5,
  near_pump: 0.7,
  near_prv: 1,
};

/** At the evening peak (8.5 % of a day's use in one hour) a frame catches someone's use with probability ~0.5 at density 1. */
const CHANCE_PER_HOURLY_SHARE = 6;
const MAX_CHANCE = 0.8;

export function drawWaterUse(rng: Rng, environment: Environment): WaterUseSite {
  return { density: DENSITY[environment] * lognormalFactor(rng, 0.5) };
}

export function waterUseChance(site: WaterUseSite, startMs: number, localHour: number): number {
  const share = diurnalProfile('household', tokyoDay(startMs))[Math.floor(localHour) % 24]!;
  return Math.min(MAX_CHANCE, site.density * CHANCE_PER_HOURLY_SHARE * share);
}

export function waterUseInFrame(site: WaterUseSite, ctx: FrameContext): NoiseComponent | undefined {
  const rng = ctx.stream('water-use');
  if (!chance(rng, waterUseChance(site, ctx.startMs, ctx.localHour))) return undefined;
  const material = ctx.pipe.material;
  // A tap runs at 0.05–0.25 L/s; the noise in the main comes from the ferrule and service pipe, not from a jet at
  // full line pressure, so it is 2–14 dB weaker than a leak of the same flow (assumption). Its connection is
  // anywhere along the sensor's stretch of main.
  const flow = uniform(rng, 0.05, 0.25);
  const asLeak = drawLeak(material, rng, { sizeLps: flow, distanceM: uniform(rng, 0, MATERIAL_ACOUSTICS[material].sensorSpacingM) });
  const levelDb = asLeak.levelDb - uniform(rng, 2, 14);
  const powers = filtered(binPowers(ctx.grid, hissShape(asLeak.spectrum), dbToRms(levelDb)), propagationGainSquared(ctx.pipe, asLeak.distanceM, ctx.grid.freqs));
  // The use started before the frame and may end inside it (or starts inside it), with a 0.3 s ramp.
  const durationS = logUniform(rng, 30, 900);
  const edge = chance(rng, Math.min(1, ctx.durationS / durationS));
  const edgeAtS = uniform(rng, 0, ctx.durationS);
  const opening = chance(rng, 0.5);
  const modulation = drawModulation(rng, [0.05, 0.3], [0.1, 3]);
  const t0 = ctx.startMs / 1000;
  const envelope = slowEnvelope(ctx.grid.sampleCount, ctx.grid.sampleRateHz, (s) => {
    let on = 1;
    if (edge) {
      const ramp = Math.min(1, Math.max(0, (s - edgeAtS) / 0.3 + 0.5));
      on = opening ? ramp : 1 - ramp;
    }
    return on * modulationAt(modulation, t0 + s);
  });
  return { name: 'water_use', stream: 'water-use', powers, scale: 1, envelope, path: 'acoustic' };
}
