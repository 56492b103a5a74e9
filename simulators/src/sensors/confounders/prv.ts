import type { PipeMaterial } from '@suido/ingest';
import { chance, uniform } from '../../random/distributions.ts';
import type { Rng } from '../../random/prng.ts';
import { BACKGROUND_REFERENCE_DB } from '../background.ts';
import { dbToRms, type FrameContext, type NoiseComponent, type ToneComponent } from '../frame-components.ts';
import { drawHiss, drawModulation, hissShape, modulationAt, type HissSpectrum, type Modulation } from '../hiss.ts';
import { MATERIAL_ACOUSTICS, propagationGain, propagationGainSquared } from '../pipe/pipe-acoustics.ts';
import { logUniform } from '../sensor-hardware.ts';
import { slowEnvelope } from '../signal/envelope.ts';
import { binPowers, cachedPowers, filtered } from '../signal/spectral-noise.ts';

/**
 * A pressure-reducing valve throttles the whole flow of a district through a
 * small opening: a steady hiss, night after night, exactly what a leak
 * sounds like — the hardest negative there is (PARTS.md: 5 of 69 noise-logger
 * alarms in one field record were PRV noise). Its band overlaps and extends
 * above a leak's on the same material, it reaches the sensor along the same
 * pipe, and its level follows the flow it throttles (the night's demand).
 * Some valves whistle (a tone that wavers); a pilot that hunts modulates the
 * hiss at 0.2–5 Hz.
 */
export interface PrvSite {
  readonly distanceM: number;
  /** At the valve, dBFS0 over 0–8 kHz. */
  readonly levelDb: number;
  readonly spectrum: HissSpectrum;
  /** Day minus night, dB: more flow by day, lower differential at night; either can be louder. */
  readonly dayShiftDb: number;
  readonly modulation: Modulation;
  readonly whistle: { readonly hz: number; readonly relDb: number } | undefined;
}

export function drawPrv(rng: Rng, material: PipeMaterial): PrvSite {
  const [lo, hi] = MATERIAL_ACOUSTICS[material].leakCentreHz;
  const whistles = chance(rng, 0.25);
  const whistle = { hz: logUniform(rng, 400, 3000), relDb: uniform(rng, -12, 0) };
  return {
    distanceM: uniform(rng, 5, 80),
    levelDb: BACKGROUND_REFERENCE_DB + uniform(rng, 8, 28),
    spectrum: drawHiss(rng, [lo * 0.8, hi * 2.5], [1.5, 3]),
    dayShiftDb: uniform(rng, -3, 6),
    modulation: drawModulation(rng, [0.02, 0.15], [0.2, 5]),
    whistle: whistles ? whistle : undefined,
  };
}

function levelDb(site: PrvSite, ctx: FrameContext): number {
  return site.levelDb + ctx.night.prvDb + (ctx.daytime ? site.dayShiftDb : 0);
}

export function prvInFrame(site: PrvSite, ctx: FrameContext): { noise: NoiseComponent; whistle: ToneComponent | undefined } {
  const atSensor = cachedPowers(site, ctx.grid, `prv-${ctx.pipe.dbPerMetreHz}`, () =>
    filtered(binPowers(ctx.grid, hissShape(site.spectrum), 1), propagationGainSquared(ctx.pipe, site.distanceM, ctx.grid.freqs)),
  );
  const db = levelDb(site, ctx);
  const t0 = ctx.startMs / 1000;
  const envelope = slowEnvelope(ctx.grid.sampleCount, ctx.grid.sampleRateHz, (s) => modulationAt(site.modulation, t0 + s));
  const noise: NoiseComponent = { name: 'prv', stream: 'prv', powers: atSensor, scale: dbToRms(db) ** 2, envelope, path: 'acoustic' };
  if (!site.whistle) return { noise, whistle: undefined };
  const rng = ctx.stream('prv-whistle');
  const hz = site.whistle.hz * uniform(rng, 0.98, 1.02);
  const whistle: ToneComponent = {
    name: 'prv',
    envelope,
    path: 'acoustic',
    tones: [
      {
        hz,
        amplitude: Math.SQRT2 * dbToRms(db + site.whistle.relDb) * propagationGain(ctx.pipe, site.distanceM, hz),
        phase: uniform(rng, 0, 2 * Math.PI),
        vibratoHz: hz * 0.005,
        vibratoRateHz: uniform(rng, 0.5, 4),
      },
    ],
  };
  return { noise, whistle };
}
