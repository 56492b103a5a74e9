import { chance, gaussian, lognormalFactor, uniform } from '../random/distributions.ts';
import type { Rng } from '../random/prng.ts';

/**
 * What an acoustic sensor on a quiet main hears at night when nothing leaks.
 * Levels are amplitudes before the preamp, as a fraction of the ADC's full
 * scale at 0 dB gain, so a sensor's gain decides its PCM level and the
 * server's `PCM / 10^(gain/20)` gives them back.
 */
export interface AmbientNoise {
  /** RMS of the broadband background (flow in the main, distant city noise). */
  readonly backgroundRms: number;
  /** Corner of the low-pass that shapes the background: soil and pipe walls absorb high frequencies. */
  readonly cornerHz: number;
  /** Mains frequency: 60 Hz in western Japan (Hiroshima), 50 Hz in the east. */
  readonly mainsHz: number;
  /** RMS of the hum from pumps and transformers, all harmonics together. */
  readonly humRms: number;
  /** Relative amplitudes of the mains fundamental and its harmonics. */
  readonly harmonics: readonly number[];
  /** Chance that a frame catches a passing vehicle or tram. */
  readonly trafficChance: number;
  /** RMS of a vehicle at its loudest. */
  readonly trafficRms: number;
}

/** Samples run through the filters before the frame, so it starts without a filter transient. */
const WARM_UP = 512;
/** Road rumble reaching a buried main is mostly below ~150 Hz. */
const TRAFFIC_CORNER_HZ = 150;

/**
 * One frame of ambient noise: coloured background + mains hum + at times a
 * traffic transient. A leak model adds its signal to this before the frame is
 * quantised, so leaks and confounders share one level scale.
 */
export function renderAmbientNoise(noise: AmbientNoise, sampleRateHz: number, sampleCount: number, rng: Rng): Float64Array {
  const out = new Float64Array(sampleCount);
  // Night-to-night variation of the background: flow in the main, weather.
  addScaled(out, colouredNoise(sampleRateHz, sampleCount, noise.cornerHz, rng), noise.backgroundRms * lognormalFactor(rng, 0.15));
  addHum(out, noise, sampleRateHz, rng);
  if (chance(rng, noise.trafficChance)) addTraffic(out, noise.trafficRms * uniform(rng, 0.5, 2), sampleRateHz, rng);
  return out;
}

/**
 * Pink noise (Paul Kellet's three-pole approximation of a 1/f spectrum)
 * through a one-pole low-pass at `cornerHz`, scaled to unit RMS.
 */
function colouredNoise(sampleRateHz: number, n: number, cornerHz: number, rng: Rng): Float64Array {
  const out = new Float64Array(n);
  const a = Math.exp((-2 * Math.PI * cornerHz) / sampleRateHz);
  let b0 = 0;
  let b1 = 0;
  let b2 = 0;
  let y = 0;
  for (let i = -WARM_UP; i < n; i++) {
    const w = gaussian(rng);
    b0 = 0.99765 * b0 + w * 0.099046;
    b1 = 0.963 * b1 + w * 0.2965164;
    b2 = 0.57 * b2 + w * 1.0526913;
    const pink = b0 + b1 + b2 + w * 0.1848;
    y = (1 - a) * pink + a * y;
    if (i >= 0) out[i] = y;
  }
  return normalised(out);
}

function addHum(out: Float64Array, noise: AmbientNoise, sampleRateHz: number, rng: Rng): void {
  // RMS of a sum of sines is sqrt(Σ a²/2); scale the weights to hit humRms.
  const power = noise.harmonics.reduce((s, w) => s + (w * w) / 2, 0);
  if (power === 0 || noise.humRms === 0) return;
  const scale = (noise.humRms * lognormalFactor(rng, 0.1)) / Math.sqrt(power);
  noise.harmonics.forEach((weight, k) => {
    const f = noise.mainsHz * (k + 1);
    if (f >= sampleRateHz / 2) return;
    const amplitude = weight * scale;
    const phase = uniform(rng, 0, 2 * Math.PI);
    const step = (2 * Math.PI * f) / sampleRateHz;
    for (let i = 0; i < out.length; i++) out[i]! += amplitude * Math.sin(phase + step * i);
  });
}

/** A vehicle passing: low-frequency rumble under a raised-cosine envelope, 0.3–1.5 s long. */
function addTraffic(out: Float64Array, peakRms: number, sampleRateHz: number, rng: Rng): void {
  const length = Math.round(uniform(rng, 0.3, 1.5) * sampleRateHz);
  // It may start before the frame or end after it: the frame sees part of it.
  const start = Math.round(uniform(rng, -length / 2, out.length - length / 2));
  const rumble = colouredNoise(sampleRateHz, length, TRAFFIC_CORNER_HZ, rng);
  for (let j = 0; j < length; j++) {
    const i = start + j;
    if (i < 0 || i >= out.length) continue;
    const envelope = 0.5 - 0.5 * Math.cos((2 * Math.PI * j) / length);
    out[i]! += peakRms * envelope * rumble[j]!;
  }
}

function addScaled(out: Float64Array, signal: Float64Array, scale: number): void {
  for (let i = 0; i < out.length; i++) out[i]! += scale * signal[i]!;
}

function normalised(signal: Float64Array): Float64Array {
  let sum = 0;
  for (const x of signal) sum += x * x;
  const rms = Math.sqrt(sum / Math.max(1, signal.length));
  if (rms > 0) for (let i = 0; i < signal.length; i++) signal[i]! /= rms;
  return signal;
}

/** Quantises a signal through a preamp of `gainDb` into int16 PCM, clipping at full scale as an ADC does. */
export function toPcm(signal: Float64Array, gainDb: number): Int16Array {
  const scale = 32767 * 10 ** (gainDb / 20);
  const pcm = new Int16Array(signal.length);
  for (let i = 0; i < signal.length; i++) {
    const v = Math.round(signal[i]! * scale);
    pcm[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
  }
  return pcm;
}
