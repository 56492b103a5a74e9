/**
 * Band-limited resampling by windowed-sinc interpolation, for any pair of
 * rates (11,025 → 4,000 Hz is not a small integer ratio). The low-pass sits
 * at 90 % of the lower Nyquist so that energy above the model's 2 kHz band
 * cannot alias into the leak band, and the Blackman window keeps the
 * stop-band below about −70 dB.
 */
const ZERO_CROSSINGS = 16;
const CUTOFF_SHARE = 0.9;

export function resample(input: Float32Array, fromHz: number, toHz: number): Float32Array {
  if (fromHz === toHz) return input.slice();
  if (!(fromHz > 0 && toHz > 0)) throw new RangeError(`sample rates must be positive, got ${fromHz} and ${toHz}`);
  const ratio = toHz / fromHz;
  // Integer arithmetic first: 11,025 samples at 11,025 Hz must give exactly 4,000.
  const outLength = Math.floor((input.length * toHz) / fromHz);
  const out = new Float32Array(outLength);
  // Cut-off relative to the input rate, in cycles per input sample.
  const cutoff = (CUTOFF_SHARE * Math.min(fromHz, toHz)) / (2 * fromHz);
  const halfWidth = Math.ceil(ZERO_CROSSINGS / (2 * cutoff));
  for (let n = 0; n < outLength; n++) {
    const centre = n / ratio;
    const first = Math.max(0, Math.ceil(centre - halfWidth));
    const last = Math.min(input.length - 1, Math.floor(centre + halfWidth));
    let acc = 0;
    let norm = 0;
    for (let k = first; k <= last; k++) {
      const x = k - centre;
      const w = kernel(x, cutoff, halfWidth);
      acc += input[k]! * w;
      norm += w;
    }
    // Normalising by the kernel's sum keeps DC gain at exactly 1 at the edges.
    out[n] = norm !== 0 ? acc / norm : 0;
  }
  return out;
}

function kernel(x: number, cutoff: number, halfWidth: number): number {
  const sinc = x === 0 ? 2 * cutoff : Math.sin(2 * Math.PI * cutoff * x) / (Math.PI * x);
  const t = (x + halfWidth) / (2 * halfWidth);
  const blackman = 0.42 - 0.5 * Math.cos(2 * Math.PI * t) + 0.08 * Math.cos(4 * Math.PI * t);
  return sinc * blackman;
}
