/**
 * Band-limited resampling by windowed-sinc interpolation, for any pair of
 * rates (11,025 → 4,000 Hz is not a small integer ratio). The low-pass sits
 * at 90 % of the lower Nyquist so that energy above the model's 2 kHz band
 * cannot alias into the leak band, and the Blackman window keeps the
 * stop-band below about −70 dB.
 *
 * For a rate pair reduced to p/q, output sample n sits at input position
 * n·q/p, whose fractional part takes only p values: the kernel for each of
 * those phases is computed once per rate pair and cached (polyphase), so the
 * inner loop is a dot product.
 */
const ZERO_CROSSINGS = 16;
const CUTOFF_SHARE = 0.9;

interface Polyphase {
  /** Output samples per `down` input samples. */
  readonly up: number;
  readonly down: number;
  readonly halfWidth: number;
  /** [phase][tap], taps = 2·halfWidth + 1, normalised to unit sum. */
  readonly kernels: readonly Float32Array[];
}

const cache = new Map<string, Polyphase>();

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

function polyphase(fromHz: number, toHz: number): Polyphase {
  const key = `${fromHz}:${toHz}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const g = gcd(fromHz, toHz);
  const up = toHz / g;
  const down = fromHz / g;
  // Cut-off relative to the input rate, in cycles per input sample.
  const cutoff = (CUTOFF_SHARE * Math.min(fromHz, toHz)) / (2 * fromHz);
  const halfWidth = Math.ceil(ZERO_CROSSINGS / (2 * cutoff));
  const kernels: Float32Array[] = [];
  for (let phase = 0; phase < up; phase++) {
    const frac = ((phase * down) % up) / up;
    const taps = new Float32Array(2 * halfWidth + 1);
    let sum = 0;
    for (let t = 0; t < taps.length; t++) {
      const x = t - halfWidth - frac;
      const w = kernel(x, cutoff, halfWidth);
      taps[t] = w;
      sum += w;
    }
    for (let t = 0; t < taps.length; t++) taps[t]! /= sum;
    kernels.push(taps);
  }
  const p: Polyphase = { up, down, halfWidth, kernels };
  cache.set(key, p);
  return p;
}

export function resample(input: Float32Array, fromHz: number, toHz: number): Float32Array {
  if (fromHz === toHz) return input.slice();
  if (!(Number.isInteger(fromHz) && Number.isInteger(toHz) && fromHz > 0 && toHz > 0)) {
    throw new RangeError(`sample rates must be positive integers, got ${fromHz} and ${toHz}`);
  }
  const { up, down, halfWidth, kernels } = polyphase(fromHz, toHz);
  // Integer arithmetic: 11,025 samples at 11,025 Hz must give exactly 4,000.
  const outLength = Math.floor((input.length * toHz) / fromHz);
  const out = new Float32Array(outLength);
  const last = input.length - 1;
  for (let n = 0; n < outLength; n++) {
    const phase = n % up;
    const base = Math.floor((n * down) / up) - halfWidth;
    const taps = kernels[phase]!;
    let acc = 0;
    if (base >= 0 && base + taps.length - 1 <= last) {
      for (let t = 0; t < taps.length; t++) acc += input[base + t]! * taps[t]!;
    } else {
      // At the edges, renormalise over the taps that fall inside the input.
      let norm = 0;
      for (let t = 0; t < taps.length; t++) {
        const k = base + t;
        if (k < 0 || k > last) continue;
        acc += input[k]! * taps[t]!;
        norm += taps[t]!;
      }
      acc = norm !== 0 ? acc / norm : 0;
    }
    out[n] = acc;
  }
  return out;
}

function kernel(x: number, cutoff: number, halfWidth: number): number {
  if (Math.abs(x) > halfWidth) return 0;
  const sinc = x === 0 ? 2 * cutoff : Math.sin(2 * Math.PI * cutoff * x) / (Math.PI * x);
  const t = (x + halfWidth) / (2 * halfWidth);
  const blackman = 0.42 - 0.5 * Math.cos(2 * Math.PI * t) + 0.08 * Math.cos(4 * Math.PI * t);
  return sinc * blackman;
}
