import { gaussian, uniform } from '../random/distributions.ts';
import type { Rng } from '../random/prng.ts';
import { logUniform } from './sensor-hardware.ts';
import type { Shape } from './signal/spectral-noise.ts';

/**
 * Steady broadband flow noise — a leak, water through a pressure-reducing
 * valve, a customer's open tap, a pump's turbulence — is filtered noise, not
 * a tone: a band-pass with soft, randomly steep skirts and a random tilt.
 * All of them share this model on purpose: in a real main they are the same
 * physics (turbulent flow through a constriction), so the detector must learn
 * persistence, level and context, not a synthetic spectral signature.
 */
export interface HissSpectrum {
  readonly centreHz: number;
  /** Lower and upper corners, Hz (centre ÷ and × a ratio of 1.5–3.5). */
  readonly lowHz: number;
  readonly highHz: number;
  /** Butterworth-like orders of the skirts (1 = 6 dB/octave). */
  readonly lowOrder: number;
  readonly highOrder: number;
  /** Tilt across the band, dB/octave. */
  readonly tiltDbPerOctave: number;
}

export function drawHiss(rng: Rng, centreRangeHz: readonly [number, number], ratioRange: readonly [number, number] = [1.6, 2.8], centreFactor = 1): HissSpectrum {
  const centreHz = logUniform(rng, centreRangeHz[0], centreRangeHz[1]) * centreFactor;
  const ratio = uniform(rng, ratioRange[0], ratioRange[1]);
  return {
    centreHz,
    lowHz: centreHz / ratio,
    highHz: centreHz * ratio,
    lowOrder: uniform(rng, 1, 2),
    highOrder: uniform(rng, 1.5, 3),
    tiltDbPerOctave: uniform(rng, -2, 2),
  };
}

/** 10·log10(2): converts dB/octave into a power-law exponent. */
const DB_PER_OCTAVE_PER_EXPONENT = 3.0103;

export function hissShape(h: HissSpectrum): Shape {
  const tilt = h.tiltDbPerOctave / DB_PER_OCTAVE_PER_EXPONENT;
  return (f) => {
    if (f <= 0) return 0;
    const below = (h.lowHz / f) ** (2 * h.lowOrder);
    const above = (f / h.highHz) ** (2 * h.highOrder);
    return (f / h.centreHz) ** tilt / ((1 + below) * (1 + above));
  };
}

/**
 * Slow amplitude modulation: pressure in a main fluctuates (demand,
 * hydraulic transients, a PRV's pilot hunting), so flow noise is never
 * perfectly stationary. A sum of a few slow sinusoids in absolute time, so
 * consecutive frames of one sensor see one continuous fluctuation.
 */
export interface Modulation {
  readonly depth: number;
  readonly partials: readonly { readonly hz: number; readonly phase: number }[];
}

export function drawModulation(rng: Rng, depthRange: readonly [number, number], rateRangeHz: readonly [number, number]): Modulation {
  const depth = uniform(rng, depthRange[0], depthRange[1]);
  const partials = Array.from({ length: 3 }, () => ({ hz: logUniform(rng, rateRangeHz[0], rateRangeHz[1]), phase: uniform(rng, 0, 2 * Math.PI) }));
  return { depth, partials };
}

/** The modulation's amplitude factor at an absolute time, mean square 1. */
export function modulationAt(m: Modulation, epochSeconds: number): number {
  let sum = 0;
  for (const p of m.partials) sum += Math.sin(2 * Math.PI * p.hz * epochSeconds + p.phase);
  // Three unit sines have a summed mean square of 3/2: scale to unit RMS, then normalise the whole.
  const unit = sum / Math.sqrt(1.5);
  return Math.max(0, 1 + m.depth * unit) / Math.sqrt(1 + m.depth * m.depth);
}

/** A level with a random spread around it, dB. */
export function spreadDb(rng: Rng, sigmaDb: number): number {
  return sigmaDb * gaussian(rng);
}
