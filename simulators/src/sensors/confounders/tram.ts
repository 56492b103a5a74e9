import { chance, uniform } from '../../random/distributions.ts';
import { createRng, type Rng } from '../../random/prng.ts';
import { BACKGROUND_REFERENCE_DB } from '../background.ts';
import { dbToRms, type FrameContext, type NoiseComponent, type ToneComponent } from '../frame-components.ts';
import { logUniform } from '../sensor-hardware.ts';
import { slowEnvelope } from '../signal/envelope.ts';
import { addInto, binPowers, cachedPowers, type Shape } from '../signal/spectral-noise.ts';

/**
 * Street trams (Hiroshima's Hiroden runs them in the roadway): a heavy
 * low-frequency ground-borne rumble (wheels on rail joints, 30–120 Hz), a
 * weaker rolling noise of 300–2,000 Hz carried by the rails, and on a curve
 * wheel squeal — a near-tonal whine at 0.8–5 kHz that wavers in pitch.
 * Trams are periodic: a timetable with a headway of 2–8 minutes, each pass
 * audible for tens of seconds (τ = 4–12 s). Service runs from about 06:00 to
 * 23:30 (Hiroden's first and last cars), so night frames (02:00–04:00)
 * never catch a tram.
 */
export interface TramSite {
  readonly headwayS: number;
  readonly phaseS: number;
  readonly widthS: number;
  /** Peak rumble, dBFS0. */
  readonly rumbleDb: number;
  readonly rumbleCornerHz: number;
  /** Rolling noise relative to the rumble, dB. */
  readonly railRelDb: number;
  /** Present when the track curves near the sensor. */
  readonly squeal: { readonly hz: number; readonly relDb: number } | undefined;
  /** Seeds the timetable's jitter, so every frame of a day sees the same passes. */
  readonly timetableSeed: number;
}

const SERVICE_START_H = 6;
const SERVICE_END_H = 23.5;
const HOUR_S = 3600;

export function drawTram(rng: Rng): TramSite {
  const headwayS = uniform(rng, 120, 480);
  const curve = chance(rng, 0.4);
  const squeal = { hz: logUniform(rng, 800, 5000), relDb: uniform(rng, -15, 0) };
  return {
    headwayS,
    phaseS: uniform(rng, 0, headwayS),
    widthS: uniform(rng, 4, 12),
    rumbleDb: BACKGROUND_REFERENCE_DB + uniform(rng, 20, 35),
    rumbleCornerHz: logUniform(rng, 30, 120),
    railRelDb: uniform(rng, -20, -10),
    squeal: curve ? squeal : undefined,
    timetableSeed: rng.uint32(),
  };
}

function rumbleShape(site: TramSite): Shape {
  const c4 = site.rumbleCornerHz ** 4;
  return (f) => (f * f) / (f * f + 25) / (1 + (f * f * f * f) / c4);
}

/** Rolling noise: a band of 300–2,000 Hz. */
function railShape(f: number): number {
  return 1 / ((1 + (300 / f) ** 4) * (1 + (f / 2000) ** 4));
}

interface Pass {
  readonly centreS: number;
  readonly squeals: boolean;
}

/** Passes whose centre is within reach of a window of the local day (seconds since local midnight). */
function passesNear(site: TramSite, day: number, fromS: number, toS: number): Pass[] {
  const reach = 6 * site.widthS;
  const out: Pass[] = [];
  const first = Math.floor((fromS - reach - site.phaseS) / site.headwayS) - 1;
  const last = Math.ceil((toS + reach - site.phaseS) / site.headwayS) + 1;
  for (let n = first; n <= last; n++) {
    const jitter = createRng(site.timetableSeed, day, n);
    // Trams run late or early by up to a fifth of the headway; half the cars squeal on a given curve.
    const centreS = site.phaseS + n * site.headwayS + uniform(jitter, -0.2, 0.2) * site.headwayS;
    const squeals = chance(jitter, 0.5);
    if (centreS < SERVICE_START_H * HOUR_S || centreS > SERVICE_END_H * HOUR_S) continue;
    if (centreS < fromS - reach || centreS > toS + reach) continue;
    out.push({ centreS, squeals });
  }
  return out;
}

export function tramInFrame(site: TramSite, ctx: FrameContext): { noise: NoiseComponent; squeal: ToneComponent | undefined } | undefined {
  const day = Math.floor((ctx.startMs / 1000 + 9 * HOUR_S) / (24 * HOUR_S));
  const startS = ctx.localHour * HOUR_S;
  const passes = passesNear(site, day, startS, startS + ctx.durationS);
  if (passes.length === 0) return undefined;
  const { grid } = ctx;
  const powerAt = (s: number, only?: (p: Pass) => boolean) => {
    let power = 0;
    for (const p of passes) if (!only || only(p)) power += 1 / (1 + ((startS + s - p.centreS) / site.widthS) ** 2);
    return power;
  };
  const envelope = slowEnvelope(grid.sampleCount, grid.sampleRateHz, (s) => Math.sqrt(powerAt(s)));
  const powers = cachedPowers(site, grid, 'tram', () => {
    const rumble = binPowers(grid, rumbleShape(site), dbToRms(site.rumbleDb));
    addInto(rumble, binPowers(grid, railShape, dbToRms(site.rumbleDb + site.railRelDb)));
    return rumble;
  });
  const noise: NoiseComponent = { name: 'tram', stream: 'tram', powers, scale: 1, envelope, path: 'acoustic' };
  if (!site.squeal || !passes.some((p) => p.squeals)) return { noise, squeal: undefined };
  const rng = ctx.stream('tram-squeal');
  // Squeal lasts while the car is on the curve: within about ±τ/2 of its closest approach, so sharper than the rumble.
  const squealEnvelope = slowEnvelope(grid.sampleCount, grid.sampleRateHz, (s) => {
    let power = 0;
    for (const p of passes) if (p.squeals) power += 1 / (1 + ((startS + s - p.centreS) / (site.widthS / 2)) ** 4);
    return Math.sqrt(power);
  });
  const amplitude = Math.SQRT2 * dbToRms(site.rumbleDb + site.squeal.relDb);
  const hz = site.squeal.hz * uniform(rng, 0.97, 1.03);
  const wavers = uniform(rng, 2, 8);
  const squeal: ToneComponent = {
    name: 'tram',
    envelope: squealEnvelope,
    path: 'acoustic',
    tones: [
      { hz, amplitude, phase: uniform(rng, 0, 2 * Math.PI), vibratoHz: hz * 0.01, vibratoRateHz: wavers },
      { hz: 2 * hz, amplitude: amplitude * 0.3, phase: uniform(rng, 0, 2 * Math.PI), vibratoHz: hz * 0.02, vibratoRateHz: wavers },
    ],
  };
  return { noise, squeal };
}
