import { chance, gaussian, intBetween, uniform } from '../../random/distributions.ts';
import type { Rng } from '../../random/prng.ts';
import { dbToRms, type FrameContext, type NoiseComponent, type Tone, type ToneComponent } from '../frame-components.ts';
import { drawHiss, hissShape, type HissSpectrum } from '../hiss.ts';
import { propagationGain, propagationGainSquared } from '../pipe/pipe-acoustics.ts';
import { logUniform } from '../sensor-hardware.ts';
import { binPowers, cachedPowers, filtered } from '../signal/spectral-noise.ts';
import { MAINS_HZ } from './mains-hum.ts';

/**
 * A pump station up or down the main. An induction motor on 60 Hz mains
 * turns at 120/poles Hz less its slip (2-pole: ~59 Hz, 4-pole: ~29.5 Hz;
 * slip 0.5–2.5 %); the impeller's 5–7 vanes give a blade-pass tone at
 * vanes × rotation, and the motor's magnetic forces a line at 120 Hz. These
 * tones travel along the pipe (so plastic mains damp the higher ones). Some
 * pumps also make broadband noise (turbulence, incipient cavitation) — a
 * steady hiss like a leak's, on the same pipe: a hard negative.
 */
export interface PumpSite {
  readonly distanceM: number;
  readonly rotationHz: number;
  readonly vanes: number;
  /** RMS of all its tones together at the pump, dBFS0. */
  readonly toneDb: number;
  /** Relative levels, dB: rotation, 2×rotation, blade pass, 2×blade pass, 120 Hz, 60 Hz. */
  readonly toneRelDb: readonly number[];
  readonly broadband: { readonly spectrum: HissSpectrum; readonly levelDb: number } | undefined;
}

export function drawPump(rng: Rng): PumpSite {
  const poles = chance(rng, 0.3) ? 2 : 4;
  const slip = uniform(rng, 0.005, 0.025);
  const hasBroadband = chance(rng, 0.5);
  const spectrum = drawHiss(rng, [150, 800], [2, 4]);
  const broadbandDb = uniform(rng, -80, -62);
  return {
    distanceM: uniform(rng, 10, 150),
    rotationHz: ((2 * MAINS_HZ) / poles) * (1 - slip),
    vanes: intBetween(rng, 5, 7),
    toneDb: uniform(rng, -75, -55),
    toneRelDb: [uniform(rng, -10, 0), uniform(rng, -15, -3), 0, uniform(rng, -10, -3), uniform(rng, -10, 0), uniform(rng, -20, -10)],
    broadband: hasBroadband ? { spectrum, levelDb: broadbandDb } : undefined,
  };
}

export function pumpRunning(ctx: FrameContext): boolean {
  return ctx.daytime ? ctx.night.pumpOnByDay : ctx.night.pumpOnAtNight;
}

export function pumpTonesInFrame(site: PumpSite, mainsHz: number, ctx: FrameContext): ToneComponent {
  const rng = ctx.stream('pump');
  // Load varies the slip a little from frame to frame.
  const rotation = site.rotationHz * (1 + 0.001 * gaussian(rng));
  const bladePass = rotation * site.vanes;
  const freqs = [rotation, 2 * rotation, bladePass, 2 * bladePass, 2 * mainsHz, mainsHz];
  const weights = site.toneRelDb.map((db) => 10 ** (db / 10));
  const total = weights.reduce((a, b) => a + b, 0);
  const tones: Tone[] = freqs.map((hz, i) => ({
    hz,
    amplitude: Math.SQRT2 * dbToRms(site.toneDb) * Math.sqrt(weights[i]! / total) * propagationGain(ctx.pipe, site.distanceM, hz),
    phase: uniform(rng, 0, 2 * Math.PI),
  }));
  return { name: 'pump', tones, envelope: undefined, path: 'acoustic' };
}

export function pumpNoiseInFrame(site: PumpSite, ctx: FrameContext): NoiseComponent | undefined {
  if (!site.broadband) return undefined;
  const { spectrum, levelDb } = site.broadband;
  const atSensor = cachedPowers(site, ctx.grid, `pump-${ctx.pipe.dbPerMetreHz}`, () =>
    filtered(binPowers(ctx.grid, hissShape(spectrum), dbToRms(levelDb)), propagationGainSquared(ctx.pipe, site.distanceM, ctx.grid.freqs)),
  );
  // Flow through the pump changes its level by about a decibel from frame to frame.
  return { name: 'pump', stream: 'pump', powers: atSensor, scale: 10 ** ((0.5 * gaussian(ctx.stream('pump-flow'))) / 10), envelope: undefined, path: 'acoustic' };
}
