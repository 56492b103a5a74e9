import { fft, nextPowerOfTwo } from './fft.ts';

/**
 * Mean power of a signal between two frequencies, from its periodogram
 * (zero-padded to a power of two; Parseval: the bands of 0…fs/2 add up to
 * the mean square). For tests and summaries, not the hot path.
 */
export function bandPower(signal: ArrayLike<number>, sampleRateHz: number, fromHz: number, toHz: number): number {
  const m = nextPowerOfTwo(signal.length);
  const re = new Float64Array(m);
  const im = new Float64Array(m);
  let mean = 0;
  for (let i = 0; i < signal.length; i++) mean += signal[i]!;
  mean /= Math.max(1, signal.length);
  for (let i = 0; i < signal.length; i++) re[i] = signal[i]! - mean;
  fft(re, im);
  const binHz = sampleRateHz / m;
  let sum = 0;
  for (let k = 1; k < m / 2; k++) {
    const f = k * binHz;
    if (f >= fromHz && f < toHz) sum += 2 * (re[k]! ** 2 + im[k]! ** 2);
  }
  return sum / (m * signal.length);
}

/** Power at one frequency: the periodogram's largest bin within ±widthHz of it. */
export function tonePower(signal: ArrayLike<number>, sampleRateHz: number, hz: number, widthHz = 2): number {
  return bandPower(signal, sampleRateHz, hz - widthHz, hz + widthHz);
}

/** Root mean square of short windows: how a level moves within a frame. */
export function shortTimeRms(signal: ArrayLike<number>, windowSamples: number): number[] {
  const out: number[] = [];
  for (let start = 0; start + windowSamples <= signal.length; start += windowSamples) {
    let sum = 0;
    for (let i = start; i < start + windowSamples; i++) sum += signal[i]! ** 2;
    out.push(Math.sqrt(sum / windowSamples));
  }
  return out;
}
