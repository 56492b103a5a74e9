import { chance, gaussian, uniform } from '../../random/distributions.ts';
import type { Rng } from '../../random/prng.ts';
import { dbToRms, type FrameContext, type Tone, type ToneComponent } from '../frame-components.ts';

/**
 * Mains-frequency hum. Western Japan (Hiroshima) runs at 60 Hz, held within
 * about ±0.2 Hz. Two ways in:
 *
 * - a transformer near the sensor (pole-mounted transformers line Japanese
 *   streets; a pump station has its own) hums by magnetostriction at twice
 *   the mains frequency, 120 Hz, with its harmonics (240, 360…) and weaker
 *   odd ones; it reaches the transducer through the ground and the fitting,
 *   so the sensor's response shapes it, not the pipe. Listed as `mains_hum`.
 * - electrical pickup on the cable and preamp: 60 Hz and odd harmonics (180,
 *   300 Hz, from non-linear loads), far below the background on most units.
 *   Not a confounder of its own (every sensor has some), not listed.
 */
export interface MainsHumSite {
  readonly transformer: { readonly levelDb: number; readonly harmonicDb: readonly number[] } | undefined;
  /** Electrical pickup, dBFS0 (60 Hz + odd harmonics). */
  readonly pickupDb: number;
  readonly pickupHarmonicDb: readonly number[];
}

export const MAINS_HZ = 60;

/** Pole transformers are everywhere; a sensor close enough to hear one: 15 % (assumption). */
const TRANSFORMER_NEARBY = 0.15;

export function drawMainsHum(rng: Rng, backgroundDb: number, atPumpStation: boolean): MainsHumSite {
  const nearby = chance(rng, TRANSFORMER_NEARBY);
  // Harmonics k = 1…6 of 60 Hz: 120 Hz (k = 2) dominates a transformer's magnetostriction hum.
  const harmonicDb = [uniform(rng, -20, -8), 0, uniform(rng, -15, -5), uniform(rng, -12, -3), uniform(rng, -20, -10), uniform(rng, -15, -6)];
  const transformerDb = uniform(rng, -90, -68);
  return {
    transformer: nearby || atPumpStation ? { levelDb: transformerDb, harmonicDb } : undefined,
    pickupDb: backgroundDb + uniform(rng, -30, -12),
    pickupHarmonicDb: [0, uniform(rng, -15, -5), uniform(rng, -20, -8)],
  };
}

/** The grid frequency of this frame: it wanders by a few hundredths of a hertz. */
export function mainsHzInFrame(rng: Rng): number {
  return MAINS_HZ + 0.02 * gaussian(rng);
}

export function transformerInFrame(site: MainsHumSite, mainsHz: number, ctx: FrameContext): ToneComponent | undefined {
  if (!site.transformer) return undefined;
  const rng = ctx.stream('mains-hum');
  const { levelDb, harmonicDb } = site.transformer;
  const weights = harmonicDb.map((db) => 10 ** (db / 10));
  const total = weights.reduce((a, b) => a + b, 0);
  const tones: Tone[] = weights.map((w, i) => ({
    hz: mainsHz * (i + 1),
    // RMS of the whole series is the level; a sine's peak is √2 its RMS.
    amplitude: Math.SQRT2 * dbToRms(levelDb) * Math.sqrt(w / total) * (1 + 0.05 * gaussian(rng)),
    phase: uniform(rng, 0, 2 * Math.PI),
  }));
  return { name: 'mains_hum', tones, envelope: undefined, path: 'acoustic' };
}

export function pickupInFrame(site: MainsHumSite, mainsHz: number, ctx: FrameContext): ToneComponent {
  const rng = ctx.stream('mains-pickup');
  const tones: Tone[] = site.pickupHarmonicDb.map((db, i) => ({
    hz: mainsHz * (2 * i + 1),
    amplitude: Math.SQRT2 * dbToRms(site.pickupDb + db),
    phase: uniform(rng, 0, 2 * Math.PI),
  }));
  return { name: 'mains_pickup', tones, envelope: undefined, path: 'electrical' };
}
