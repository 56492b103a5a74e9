import type { Rng } from '../random/prng.ts';
import type { Confounder } from './environment.ts';
import type { NightConditions } from './night-conditions.ts';
import type { PipeSegment } from './pipe/pipe-acoustics.ts';
import type { BinGrid } from './signal/spectral-noise.ts';

/**
 * What a frame is made of before it is synthesised. Every source describes
 * itself as noise (powers per bin, and an envelope when it is not steady) or
 * as tones, at the point where it reaches the sensor; the frame renderer
 * then applies the sensor's path and adds everything up. Levels are in
 * full-scale units at 0 dB gain and nominal sensitivity ("dBFS0" in
 * comments): what the ADC would see if the preamp had no gain.
 */
export type ComponentName = Confounder | 'leak' | 'background' | 'sensor_noise' | 'adc_noise' | 'mains_pickup';

/**
 * acoustic: through the transducer, its mounting and its sensitivity.
 * electrical: picked up after the transducer, through the anti-alias filter only.
 * digital: added by the ADC after the gain (given here referred to its input).
 */
export type SignalPath = 'acoustic' | 'electrical' | 'digital';

export interface NoiseComponent {
  readonly name: ComponentName;
  /** Label of the stream its noise is drawn from; distinct per component, so one source never shifts another's samples. */
  readonly stream: string;
  /** Powers per bin at unit scale; often cached and shared between frames, so never written to. */
  readonly powers: Float64Array;
  /** Multiplies `powers`: the frame's level. */
  readonly scale: number;
  /** Amplitude factor per sample (mean square about 1 over long times); undefined when steady. */
  readonly envelope: Float64Array | undefined;
  readonly path: SignalPath;
}

export interface Tone {
  readonly hz: number;
  /** Peak amplitude where it reaches the sensor, dBFS0 units. */
  readonly amplitude: number;
  readonly phase: number;
  /** Frequency modulation (a squealing wheel, a whistling valve): depth and rate, Hz. */
  readonly vibratoHz?: number | undefined;
  readonly vibratoRateHz?: number | undefined;
}

export interface ToneComponent {
  readonly name: ComponentName;
  readonly tones: readonly Tone[];
  readonly envelope: Float64Array | undefined;
  readonly path: SignalPath;
}

export interface FrameSources {
  readonly noise: NoiseComponent[];
  readonly tones: ToneComponent[];
}

/** What every source model needs to know about the frame being rendered. */
export interface FrameContext {
  readonly grid: BinGrid;
  readonly startMs: number;
  readonly durationS: number;
  /** Local (Tokyo) hour of the frame's start, fractional. */
  readonly localHour: number;
  /** 0 at the 02:00–04:00 trough, 1 by day. */
  readonly activity: number;
  readonly daytime: boolean;
  readonly night: NightConditions;
  readonly pipe: PipeSegment;
  /** A stream of its own for each source's random events, derived from the frame's stream. */
  stream(label: string): Rng;
}

export function dbToRms(db: number): number {
  return 10 ** (db / 20);
}

export function rmsToDb(rms: number): number {
  return 20 * Math.log10(rms);
}
