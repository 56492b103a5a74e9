import { fft, inverseFft, powerOfTwoAtLeast } from '../audio/fft.ts';

/**
 * What a leak noise correlator measures of two recordings made in step by
 * two sensors on one main (DOMAIN.md, "Localisation"): the generalised
 * cross-correlation with phase transform (GCC-PHAT) — the cross-spectrum
 * whitened to unit magnitude per bin and taken back to lags — within the
 * lags the pair's spacing allows. A leak between the sensors is one sound
 * heard at two delays: a sharp peak at lag τ = (d_b − d_a)/c. Each sensor's
 * own background, traffic and louder nights are not shared: no peak. The
 * whitening weighs every bin alike, so a leak's narrow band counts as much
 * as the broadband floor around it (detect/README.md, "A correlator's pair").
 */
export interface PairCorrelation {
  /** Where the peak is: how many samples later b hears it than a (negative: b first). */
  readonly lagSamples: number;
  readonly lagS: number;
  /** |r| at the peak. */
  readonly peak: number;
  /**
   * The peak over the mean |r| within the allowed lags: about 4–6 for two
   * unrelated recordings (the largest of a few thousand near-Gaussian
   * values), far more for a shared source.
   */
  readonly ratio: number;
}

/**
 * GCC-PHAT of two recordings of one length and rate, within ±maxLagS. Each
 * recording's mean is taken out first: an offset over the recording is a
 * rectangular pulse both share, a false peak at lag 0. `excludeS`: lag
 * ranges (s, from ≤ to) where a peak is a known source, not a leak (a
 * mapped PRV or pump; a source beyond either sensor, at the edges): left
 * out of both the peak and the mean.
 */
export function correlatePair(a: Float32Array, b: Float32Array, sampleRateHz: number, maxLagS: number, excludeS: readonly (readonly [number, number])[] = []): PairCorrelation {
  return correlatePairs([{ a, b }], sampleRateHz, maxLagS, excludeS);
}

/**
 * GCC-PHAT over several pairs of recordings made in step (a night's frames
 * of a pair of loggers), each pair of one length, all at one rate: their
 * whitened cross-spectra summed before going back to lags, as a correlator
 * averages what it records over a night. A shared source's phase ramp is
 * the same in every pair and adds up; each sensor's own noise does not. For
 * one pair it is correlatePair.
 */
export function correlatePairs(
  recordings: readonly { readonly a: Float32Array; readonly b: Float32Array }[],
  sampleRateHz: number,
  maxLagS: number,
  excludeS: readonly (readonly [number, number])[] = [],
  bandHz?: readonly [number, number],
): PairCorrelation {
  if (recordings.length === 0) throw new RangeError('give one pair of recordings or more');
  for (const { a, b } of recordings) {
    if (a.length !== b.length) throw new RangeError(`a pair's recordings must be of one length, got ${a.length} and ${b.length}`);
    if (a.length < 2) throw new RangeError('a pair needs recordings of two samples or more');
  }
  if (!(maxLagS > 0)) throw new RangeError(`maxLagS must be positive, got ${maxLagS}`);
  const longest = Math.max(...recordings.map((r) => r.a.length));
  const maxLag = Math.min(longest - 1, Math.ceil(maxLagS * sampleRateHz));
  // Zero-padded to twice the length and more: the correlation is linear, not circular, over the lags asked.
  // One size for all, so that every pair's bins are the same frequencies.
  const m = powerOfTwoAtLeast(2 * longest);
  const spectrum = (x: Float32Array) => {
    let mean = 0;
    for (let i = 0; i < x.length; i++) mean += x[i]!;
    mean /= x.length;
    const re = new Float64Array(m);
    const im = new Float64Array(m);
    for (let i = 0; i < x.length; i++) re[i] = x[i]! - mean;
    fft(re, im);
    return { re, im };
  };
  // conj(A)·B, whitened: a peak at lag τ where b is a delayed by τ.
  const re = new Float64Array(m);
  const im = new Float64Array(m);
  // Bins outside the band (both signs of frequency) left out: where a leak has no sound, only each sensor's own noise.
  const inBand = (k: number) => {
    if (!bandHz) return true;
    const hz = (Math.min(k, m - k) * sampleRateHz) / m;
    return hz >= bandHz[0] && hz <= bandHz[1];
  };
  for (const { a, b } of recordings) {
    const A = spectrum(a);
    const B = spectrum(b);
    for (let k = 0; k < m; k++) {
      if (!inBand(k)) continue;
      const r = A.re[k]! * B.re[k]! + A.im[k]! * B.im[k]!;
      const i = A.re[k]! * B.im[k]! - A.im[k]! * B.re[k]!;
      const magnitude = Math.hypot(r, i);
      if (magnitude > 0) {
        re[k] = re[k]! + r / magnitude;
        im[k] = im[k]! + i / magnitude;
      }
    }
  }
  inverseFft(re, im);
  let best = { lag: 0, peak: 0 };
  let sum = 0;
  let counted = 0;
  for (let lag = -maxLag; lag <= maxLag; lag++) {
    const s = lag / sampleRateHz;
    if (excludeS.some(([from, to]) => s >= from && s <= to)) continue;
    const v = Math.abs(re[(lag + m) % m]!);
    sum += v;
    counted++;
    if (v > best.peak) best = { lag, peak: v };
  }
  const mean = counted > 0 ? sum / counted : 0;
  return { lagSamples: best.lag, lagS: best.lag / sampleRateHz, peak: best.peak, ratio: mean > 0 ? best.peak / mean : 0 };
}

/**
 * Where the leak is along the main from sensor a, m: d_a = (D − c·τ)/2
 * (DOMAIN.md), with τ how much later b hears it, clamped to the stretch
 * between the two (a peak outside it is a source beyond a sensor).
 */
export function placeLeak(spacingM: number, waveSpeedMs: number, lagS: number): number {
  return Math.min(spacingM, Math.max(0, (spacingM - waveSpeedMs * lagS) / 2));
}
