import { intBetween, pick, uniform } from '../random/distributions.ts';
import type { Rng } from '../random/prng.ts';

/**
 * The recording device: transducer, mounting, preamp and ADC. Everything a
 * real fleet varies from unit to unit is drawn per sensor and is independent
 * of whether the pipe leaks, so none of it can stand in for the label.
 */
export const SENSOR_TYPES = ['accelerometer', 'hydrophone'] as const;
export type SensorType = (typeof SENSOR_TYPES)[number];

/** Sample rates of field loggers (up to ~10 kHz), hand-held loggers (4–8 kHz) and audio-rate hydrophones (PARTS.md). */
export const SAMPLE_RATES_HZ = [4000, 8000, 10000, 11025, 16000] as const;

export interface Resonance {
  readonly hz: number;
  /** Gain at the peak, dB. */
  readonly gainDb: number;
  readonly q: number;
}

export interface SensorHardware {
  readonly type: SensorType;
  readonly sampleRateHz: number;
  /** Preamp gain, dB, 0–40, whole dB as the frame header carries it. */
  readonly gainDb: number;
  /** Transducer sensitivity against nominal, dB (±6): unknown to the server, as in a real fleet. */
  readonly sensitivityDb: number;
  /** Corner of the low-frequency roll-off, Hz, and its order. */
  readonly highPassHz: number;
  readonly highPassOrder: number;
  /** Resonances of the mounting and the fitting (valve, hydrant, standpipe). */
  readonly resonances: readonly Resonance[];
  /** Upper roll-off of the transducer and its housing, Hz (2nd order). */
  readonly lowPassHz: number;
  /** Anti-alias filter corner, Hz (8th order), a little under Nyquist. */
  readonly antiAliasHz: number;
  /** Preamp self-noise, dB re full scale at 0 dB gain (RMS over 0–8 kHz), and its 1/f corner. */
  readonly selfNoiseDb: number;
  readonly flickerCornerHz: number;
  /** ADC noise after the gain, LSB RMS. */
  readonly adcNoiseLsb: number;
  /** DC offset of the ADC, LSB. */
  readonly dcOffsetLsb: number;
}

export interface HardwareOptions {
  readonly type?: SensorType | undefined;
  readonly sampleRateHz?: number | undefined;
  /** Share of hydrophones when the type is drawn (utilities put hydrophones on plastic more often). */
  readonly hydrophoneShare?: number | undefined;
}

/**
 * Accelerometer on a valve spindle or hydrant (magnet mount): the wall's
 * acceleration is ω² times its displacement, so below the fitting's
 * stiffness-controlled range the response rises 12 dB/octave (a 2nd-order
 * high-pass at 60–250 Hz), with a mounting resonance at 0.8–3 kHz and one or
 * two resonances of the fitting at 150–1,200 Hz. Hydrophone in the water
 * (through a hydrant or tapping): pressure is measured directly, so it keeps
 * low frequencies down to a few hertz, with resonances of the water column
 * in the riser at 40–600 Hz. Figures are typical of published sensor data
 * sheets and leak-detection practice (assumption, not one device).
 */
export function drawHardware(rng: Rng, opts: HardwareOptions = {}): SensorHardware {
  const drawnType: SensorType = rng.next() < (opts.hydrophoneShare ?? 0.35) ? 'hydrophone' : 'accelerometer';
  const type = opts.type ?? drawnType;
  const drawnRate = pick(rng, SAMPLE_RATES_HZ);
  const sampleRateHz = opts.sampleRateHz ?? drawnRate;
  const gainDb = intBetween(rng, 0, 40);
  const sensitivityDb = uniform(rng, -6, 6);
  const resonances: Resonance[] = [];
  let highPassHz: number;
  let highPassOrder: number;
  let lowPassHz: number;
  if (type === 'accelerometer') {
    highPassHz = logUniform(rng, 60, 250);
    highPassOrder = 2;
    resonances.push({ hz: logUniform(rng, 800, 3000), gainDb: uniform(rng, 6, 15), q: uniform(rng, 3, 8) });
    const fittings = intBetween(rng, 1, 2);
    for (let i = 0; i < fittings; i++) resonances.push({ hz: logUniform(rng, 150, 1200), gainDb: uniform(rng, 3, 10), q: uniform(rng, 2, 6) });
    lowPassHz = logUniform(rng, 4000, 8000);
  } else {
    highPassHz = logUniform(rng, 3, 15);
    highPassOrder = 1;
    const columns = intBetween(rng, 1, 2);
    for (let i = 0; i < columns; i++) resonances.push({ hz: logUniform(rng, 40, 600), gainDb: uniform(rng, 2, 8), q: uniform(rng, 1.5, 5) });
    lowPassHz = logUniform(rng, 2500, 6000);
  }
  return {
    type,
    sampleRateHz,
    gainDb,
    sensitivityDb,
    highPassHz,
    highPassOrder,
    resonances,
    lowPassHz,
    antiAliasHz: sampleRateHz * uniform(rng, 0.42, 0.46),
    selfNoiseDb: uniform(rng, -102, -92),
    flickerCornerHz: logUniform(rng, 10, 100),
    adcNoiseLsb: uniform(rng, 0.3, 1.2),
    dcOffsetLsb: Math.round(uniform(rng, -250, 250)),
  };
}

export function logUniform(rng: Rng, min: number, max: number): number {
  return Math.exp(uniform(rng, Math.log(min), Math.log(max)));
}

/** |H(f)|² of the transducer and mounting (sensitivity excluded). */
export function transducerGainSquared(hw: SensorHardware, hz: number): number {
  if (hz <= 0) return 0;
  const hp = (hz / hw.highPassHz) ** (2 * hw.highPassOrder);
  let g = hp / (1 + hp);
  g /= 1 + (hz / hw.lowPassHz) ** 4;
  for (const r of hw.resonances) {
    // A resonance as a peak on a flat response: 1 + (G² - 1)·Lorentzian in log frequency.
    const peak = 10 ** (r.gainDb / 10);
    const detune = r.q * (hz / r.hz - r.hz / hz);
    g *= 1 + (peak - 1) / (1 + detune * detune);
  }
  return g * antiAliasGainSquared(hw, hz);
}

/** |H(f)|² of the anti-alias filter alone: what an electrical signal (self-noise, mains pickup) goes through. */
export function antiAliasGainSquared(hw: SensorHardware, hz: number): number {
  return 1 / (1 + (hz / hw.antiAliasHz) ** 16);
}

export function overGrid(freqs: Float64Array, gainSquared: (hz: number) => number): Float64Array {
  const out = new Float64Array(freqs.length);
  for (let k = 0; k < freqs.length; k++) out[k] = gainSquared(freqs[k]!);
  return out;
}
