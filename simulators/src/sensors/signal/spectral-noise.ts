import type { Rng } from '../../random/prng.ts';
import { fft, nextPowerOfTwo } from './fft.ts';

/**
 * Gaussian noise of a given spectrum, made in the frequency domain: a random
 * complex spectrum (Rayleigh magnitudes, uniform phases, i.e. circular
 * Gaussian bins) scaled by the square root of the wanted power per bin, then
 * transformed back. Any spectral shape is exact this way (a filter cascade in
 * the time domain would only approximate the attenuation curves), and a
 * frame costs one inverse FFT for two independent signals.
 *
 * Spectra are *densities* in full-scale units squared per hertz, the same at
 * every sample rate: a sensor sampling at 4 kHz simply does not see what lies
 * above 2 kHz, so the sample rate changes what is recorded only the way it
 * does in a real logger.
 */
export interface BinGrid {
  readonly sampleRateHz: number;
  readonly sampleCount: number;
  /** Power of two ≥ sampleCount; the frame is the first sampleCount samples of one period. */
  readonly fftSize: number;
  readonly binHz: number;
  /** Frequency of bins 0 … fftSize/2. */
  readonly freqs: Float64Array;
}

/** Levels are RMS over 0–8 kHz: the band of the fastest sensor we simulate (16 kHz). */
export const REFERENCE_BAND_HZ = 8000;
/** Step of the midpoint integration that normalises a shape over the reference band. */
const NORMALISE_STEP_HZ = 2.5;

const grids = new Map<string, BinGrid>();

export function binGrid(sampleRateHz: number, sampleCount: number): BinGrid {
  const key = `${sampleRateHz}/${sampleCount}`;
  let grid = grids.get(key);
  if (!grid) {
    const fftSize = Math.max(2, nextPowerOfTwo(sampleCount));
    const binHz = sampleRateHz / fftSize;
    const freqs = new Float64Array(fftSize / 2 + 1);
    for (let k = 0; k < freqs.length; k++) freqs[k] = k * binHz;
    grid = { sampleRateHz, sampleCount, fftSize, binHz, freqs };
    grids.set(key, grid);
  }
  return grid;
}

export type Shape = (hz: number) => number;

/** ∫ shape over the reference band, by the midpoint rule. */
export function shapeIntegral(shape: Shape): number {
  let sum = 0;
  for (let f = NORMALISE_STEP_HZ / 2; f < REFERENCE_BAND_HZ; f += NORMALISE_STEP_HZ) sum += shape(f);
  return sum * NORMALISE_STEP_HZ;
}

/**
 * Power per bin of a component whose spectrum has the form of `shape` and
 * whose RMS over 0–8 kHz is `rms`: P[k] = p(f_k)·Δf, so the variance of the
 * synthesised signal is ΣP. DC and the Nyquist bin stay empty (sensors are
 * AC-coupled; a DC offset is added at the ADC).
 */
export function binPowers(grid: BinGrid, shape: Shape, rms: number): Float64Array {
  const out = new Float64Array(grid.freqs.length);
  const integral = shapeIntegral(shape);
  if (integral <= 0 || rms === 0) return out;
  const scale = (rms * rms * grid.binHz) / integral;
  for (let k = 1; k < out.length - 1; k++) out[k] = scale * shape(grid.freqs[k]!);
  return out;
}

/** Multiplies powers bin by bin by |H(f)|² given as another power array. */
export function filtered(powers: Float64Array, gainSquared: Float64Array): Float64Array {
  const out = new Float64Array(powers.length);
  for (let k = 0; k < out.length; k++) out[k] = powers[k]! * gainSquared[k]!;
  return out;
}

export function addInto(target: Float64Array, powers: Float64Array, scale = 1): void {
  for (let k = 0; k < target.length; k++) target[k]! += scale * powers[k]!;
}

export function totalPower(powers: Float64Array): number {
  let sum = 0;
  for (const p of powers) sum += p;
  return sum;
}

/**
 * Uniform phases from a table of 4,096 angles: a phase quantised to 1/4,096
 * of a turn (0.09°) moves a bin by less than 0.1 % of its magnitude, far
 * below anything a spectrum of random noise can show, and a table read is
 * several times cheaper than a cosine and a sine per bin. The table is kept
 * small (2 × 32 KB) so random reads stay in the CPU's cache.
 */
const PHASE_BITS = 12;
const PHASE_SHIFT = 32 - PHASE_BITS;
const PHASE_COS = new Float64Array(1 << PHASE_BITS);
const PHASE_SIN = new Float64Array(1 << PHASE_BITS);
for (let i = 0; i < PHASE_COS.length; i++) {
  PHASE_COS[i] = Math.cos((2 * Math.PI * i) / PHASE_COS.length);
  PHASE_SIN[i] = Math.sin((2 * Math.PI * i) / PHASE_COS.length);
}

export interface NoiseSource {
  readonly powers: Float64Array;
  /** Its own stream: adding or removing another component never changes this one's samples. */
  readonly rng: Rng;
  /** Amplitude factor per sample; undefined: steady. */
  readonly envelope?: Float64Array | undefined;
  /**
   * Arrives this many samples late (may be fractional): a phase ramp on every
   * bin, so two sensors drawing one realisation from one stream hear one
   * source at their own delays (a correlator's pair). Circular over the
   * transform, which is longer than the frame (BinGrid.fftSize).
   */
  readonly delaySamples?: number | undefined;
}

interface Scratch {
  readonly re: Float64Array;
  readonly im: Float64Array;
  readonly draws: Uint32Array;
}

/** Transform buffers, one set per size, reused frame after frame: a data set renders tens of thousands of frames. */
const scratch = new Map<number, Scratch>();

function scratchFor(m: number): Scratch {
  let s = scratch.get(m);
  if (!s) scratch.set(m, (s = { re: new Float64Array(m), im: new Float64Array(m), draws: new Uint32Array(m) }));
  return s;
}

/**
 * Adds the sources, each times its envelope, into `out` (grid.sampleCount
 * samples). Two sources share one complex inverse FFT: both spectra are made
 * Hermitian and packed as A + iB, so the transform gives a + ib.
 */
export function synthesiseInto(out: Float64Array, grid: BinGrid, sources: readonly NoiseSource[]): void {
  for (let i = 0; i < sources.length; i += 2) synthesisePairInto(out, grid, sources[i]!, sources[i + 1]);
}

function synthesisePairInto(out: Float64Array, grid: BinGrid, a: NoiseSource, b: NoiseSource | undefined): void {
  const m = grid.fftSize;
  const half = m / 2;
  const { re, im, draws } = scratchFor(m);
  re.fill(0);
  im.fill(0);
  // One circular Gaussian value per bin 1 … half-1, scaled to its power:
  // E|z|² = 1 for z = sqrt(-ln u)·e^{iθ}, and with amplitude sqrt(P/2) the
  // Hermitian pair k, m-k contributes P to the variance. (x + 1)/2^32 lies
  // in (0, 1], so the logarithm is finite.
  a.rng.fill(draws);
  const pa = a.powers;
  for (let k = 1; k < half; k++) {
    const magnitude = Math.sqrt((pa[k]! / 2) * -Math.log((draws[2 * k]! + 1) / 4_294_967_296));
    const phase = draws[2 * k + 1]! >>> PHASE_SHIFT;
    const r = magnitude * PHASE_COS[phase]!;
    const i = magnitude * PHASE_SIN[phase]!;
    re[k] = r;
    im[k] = i;
    re[m - k] = r;
    im[m - k] = -i;
  }
  if (a.delaySamples) delayBins(re, im, m, a.delaySamples);
  if (b?.delaySamples) {
    // Packing B into A's transform leaves no room for a ramp of its own: it goes through one alone.
    synthesisePairInto(out, grid, a, undefined);
    synthesisePairInto(out, grid, b, undefined);
    return;
  }
  if (b) {
    b.rng.fill(draws);
    const pb = b.powers;
    for (let k = 1; k < half; k++) {
      const magnitude = Math.sqrt((pb[k]! / 2) * -Math.log((draws[2 * k]! + 1) / 4_294_967_296));
      const phase = draws[2 * k + 1]! >>> PHASE_SHIFT;
      const r = magnitude * PHASE_COS[phase]!;
      const i = magnitude * PHASE_SIN[phase]!;
      // Z = A + iB on bin k, conj(A) + i·conj(B) on bin m-k.
      re[k]! -= i;
      im[k]! += r;
      re[m - k]! += i;
      im[m - k]! += r;
    }
  }
  fft(re, im, true);
  const n = grid.sampleCount;
  const ea = a.envelope;
  if (ea) for (let j = 0; j < n; j++) out[j]! += re[j]! * ea[j]!;
  else for (let j = 0; j < n; j++) out[j]! += re[j]!;
  if (!b) return;
  const eb = b.envelope;
  if (eb) for (let j = 0; j < n; j++) out[j]! += im[j]! * eb[j]!;
  else for (let j = 0; j < n; j++) out[j]! += im[j]!;
}

/** Multiplies bin k (and its mirror) by e^{∓2πi·k·d/m}: the realisation d samples later. */
function delayBins(re: Float64Array, im: Float64Array, m: number, d: number): void {
  for (let k = 1; k < m / 2; k++) {
    const theta = (-2 * Math.PI * k * d) / m;
    const c = Math.cos(theta);
    const s = Math.sin(theta);
    const r = re[k]!;
    const i = im[k]!;
    re[k] = r * c - i * s;
    im[k] = r * s + i * c;
    re[m - k] = re[k]!;
    im[m - k] = -im[k]!;
  }
}

let cache = new WeakMap<object, Map<string, Float64Array>>();

/**
 * Powers that depend only on a fixed source (a sensor's background, a
 * pump) and the grid are computed once: a sensor renders hundreds of frames
 * on one grid. `owner` is the source; `key` names what was computed.
 */
export function cachedPowers(owner: object, grid: BinGrid, key: string, make: () => Float64Array): Float64Array {
  let byKey = cache.get(owner);
  if (!byKey) cache.set(owner, (byKey = new Map()));
  const full = `${grid.sampleRateHz}/${grid.fftSize}/${key}`;
  let powers = byKey.get(full);
  if (!powers) byKey.set(full, (powers = make()));
  return powers;
}

/**
 * Forgets every cached power. The data set writer renders each sensor once
 * while it holds the whole population, so without this the powers of every
 * sensor stay alive to the end: 30 s frames at 16 kHz held ~10 GB for 2,000
 * sensors. Call it between sources that will not render again.
 */
export function dropCachedPowers(): void {
  cache = new WeakMap();
}

export function scaled(powers: Float64Array, factor: number): Float64Array {
  const out = new Float64Array(powers.length);
  for (let k = 0; k < out.length; k++) out[k] = powers[k]! * factor;
  return out;
}
