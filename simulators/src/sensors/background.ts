import type { PipeMaterial } from '@suido/ingest';
import { gaussian, uniform } from '../random/distributions.ts';
import type { Rng } from '../random/prng.ts';
import type { Environment } from './environment.ts';
import { dbToRms, type FrameContext, type NoiseComponent } from './frame-components.ts';
import { MATERIAL_ACOUSTICS } from './pipe/pipe-acoustics.ts';
import { binPowers, cachedPowers, type Shape } from './signal/spectral-noise.ts';

/**
 * What a sensor hears when nothing in particular happens: flow in the main,
 * distant city noise through the soil. A 1/f (pink) spectrum, as ambient
 * vibration in the ground and in mains is, through a low-pass where the pipe
 * and soil stop carrying it (lower on plastic) and a 10 Hz high-pass (the
 * soil column does not carry infrasound to a buried main).
 */
export interface Background {
  /** Night level, dBFS0 over 0–8 kHz. */
  readonly levelDb: number;
  readonly cornerHz: number;
  /** How much louder the day is, dB, at full activity: traffic everywhere, more flow. */
  readonly dayRiseDb: number;
}

/** The reference night background, dBFS0: about 80 dB below full scale before gain, as in the first sensor model. */
export const BACKGROUND_REFERENCE_DB = -80;

/** Streets with traffic, trams or machinery are louder even at 03:00, dB above the reference. */
const ENVIRONMENT_RISE_DB: Readonly<Record<Environment, readonly [number, number]>> = {
  quiet_residential: [0, 0],
  arterial_road: [4, 10],
  tram_line: [3, 8],
  near_pump: [1, 5],
  near_prv: [1, 5],
};

export function drawBackground(rng: Rng, material: PipeMaterial, environment: Environment): Background {
  const [lo, hi] = ENVIRONMENT_RISE_DB[environment];
  const corner = MATERIAL_ACOUSTICS[material].backgroundCornerHz;
  return {
    levelDb: BACKGROUND_REFERENCE_DB + 3 * gaussian(rng) + uniform(rng, lo, hi),
    cornerHz: uniform(rng, corner[0], corner[1]),
    dayRiseDb: uniform(rng, 6, 12),
  };
}

export function backgroundShape(bg: Background): Shape {
  const c2 = bg.cornerHz * bg.cornerHz;
  return (f) => f / (f * f + 100) / (1 + (f * f) / c2);
}

/** The frame's background level, dBFS0: the night's shift, the hour's activity, a little frame-to-frame wander. */
export function backgroundLevelDb(bg: Background, ctx: FrameContext, wanderDb: number): number {
  return bg.levelDb + ctx.night.backgroundDb + bg.dayRiseDb * ctx.activity + wanderDb;
}

export function backgroundInFrame(bg: Background, ctx: FrameContext): NoiseComponent {
  const wander = 0.3 * gaussian(ctx.stream('background'));
  const unit = cachedPowers(bg, ctx.grid, 'background', () => binPowers(ctx.grid, backgroundShape(bg), 1));
  return { name: 'background', stream: 'background', powers: unit, scale: dbToRms(backgroundLevelDb(bg, ctx, wander)) ** 2, envelope: undefined, path: 'acoustic' };
}
