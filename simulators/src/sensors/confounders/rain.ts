import { chance, lognormalFactor, uniform } from '../../random/distributions.ts';
import type { Rng } from '../../random/prng.ts';
import { BACKGROUND_REFERENCE_DB } from '../background.ts';
import { dbToRms, type FrameContext, type NoiseComponent } from '../frame-components.ts';
import { drawHiss, hissShape, type HissSpectrum } from '../hiss.ts';
import { binPowers, cachedPowers } from '../signal/spectral-noise.ts';

/**
 * Rain: drops strike the road, the soil and the iron lid of the valve box.
 * Each strike is a short broadband impulse (a burst decaying in 1–6 ms) and
 * strikes arrive as a Poisson process, tens to hundreds a second with the
 * intensity. Impulsive and broadband, so it lifts every band at once while
 * it lasts; it reaches the transducer through the box and the soil, not
 * along the pipe.
 */
export interface RainExposure {
  /** RMS of a heavy downpour (intensity 1) at this sensor, dBFS0: an exposed iron lid rings loud, a sensor in soil hears less. */
  readonly levelDb: number;
  readonly spectrum: HissSpectrum;
  readonly decayMs: number;
}

export function drawRainExposure(rng: Rng): RainExposure {
  return {
    levelDb: BACKGROUND_REFERENCE_DB + uniform(rng, 5, 22),
    spectrum: drawHiss(rng, [600, 2000], [2, 3.5]),
    decayMs: uniform(rng, 1, 6),
  };
}

export function rainInFrame(site: RainExposure, ctx: FrameContext): NoiseComponent | undefined {
  if (ctx.night.rainIntensity <= 0) return undefined;
  const rng = ctx.stream('rain');
  // Showers come and go within a wet night.
  if (!chance(rng, 0.85)) return undefined;
  const intensity = Math.min(1.5, ctx.night.rainIntensity * lognormalFactor(rng, 0.3));
  // Power grows a little faster than the drop rate: heavier rain has bigger drops.
  const levelDb = site.levelDb + 15 * Math.log10(intensity);
  const ratePerS = 30 + 400 * intensity;
  const { sampleCount, sampleRateHz } = ctx.grid;
  const decay = Math.exp(-1 / ((site.decayMs / 1000) * sampleRateHz));
  const decay2 = decay * decay;
  // Strike energies vary (drop size, where it lands): lognormal with unit mean square.
  const meanPower = (ratePerS / sampleRateHz) / (1 - decay2);
  const envelope = new Float64Array(sampleCount);
  let power = 0;
  // Start a few decay times early so the frame opens in the middle of the rain.
  const warmUp = Math.ceil(5 * (site.decayMs / 1000) * sampleRateHz);
  let next = -warmUp + (-Math.log(1 - rng.next()) * sampleRateHz) / ratePerS;
  for (let i = -warmUp; i < sampleCount; i++) {
    power *= decay2;
    while (next <= i) {
      power += lognormalFactor(rng, 1) ** 2 / Math.exp(1);
      next += (-Math.log(1 - rng.next()) * sampleRateHz) / ratePerS;
    }
    if (i >= 0) envelope[i] = Math.sqrt(power / meanPower);
  }
  const unit = cachedPowers(site, ctx.grid, 'rain', () => binPowers(ctx.grid, hissShape(site.spectrum), 1));
  return { name: 'rain', stream: 'rain', powers: unit, scale: dbToRms(levelDb) ** 2, envelope, path: 'acoustic' };
}
