/**
 * In-place iterative radix-2 FFT of any power-of-two size, its bit-reversal
 * and twiddles computed once per size: a correlator pair's cross-correlation
 * (pairs/pair-correlation.ts) takes a whole recording's spectrum from it.
 * The model's reference features keep their own fixed-size one, the same
 * arithmetic (bit-identical features, checked when this was written): their
 * source text keys the training feature cache (training/feature-cache.ts),
 * and moving them onto this one would throw away an hour of cached
 * features for no change in any number.
 */
interface Plan {
  readonly reversed: Uint32Array;
  readonly twiddleRe: Float64Array;
  readonly twiddleIm: Float64Array;
}

const plans = new Map<number, Plan>();

function planFor(n: number): Plan {
  let plan = plans.get(n);
  if (plan) return plan;
  if (!(Number.isInteger(n) && n >= 1 && (n & (n - 1)) === 0)) throw new RangeError(`FFT size must be a power of two, got ${n}`);
  const bits = Math.log2(n);
  plan = {
    reversed: Uint32Array.from({ length: n }, (_, i) => {
      let r = 0;
      for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
      return r >>> 0;
    }),
    twiddleRe: Float64Array.from({ length: n / 2 }, (_, k) => Math.cos((-2 * Math.PI * k) / n)),
    twiddleIm: Float64Array.from({ length: n / 2 }, (_, k) => Math.sin((-2 * Math.PI * k) / n)),
  };
  plans.set(n, plan);
  return plan;
}

/** The forward transform (e^{−2πikn/N}, unscaled) of re + i·im, in place. */
export function fft(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  if (im.length !== n) throw new RangeError(`FFT: real and imaginary parts differ in length (${n}, ${im.length})`);
  const { reversed, twiddleRe, twiddleIm } = planFor(n);
  for (let i = 0; i < n; i++) {
    const j = reversed[i]!;
    if (j > i) {
      [re[i], re[j]] = [re[j]!, re[i]!];
      [im[i], im[j]] = [im[j]!, im[i]!];
    }
  }
  for (let size = 2; size <= n; size *= 2) {
    const half = size / 2;
    const step = n / size;
    for (let start = 0; start < n; start += size) {
      for (let k = 0; k < half; k++) {
        const wr = twiddleRe[k * step]!;
        const wi = twiddleIm[k * step]!;
        const a = start + k;
        const b = a + half;
        const tr = re[b]! * wr - im[b]! * wi;
        const ti = re[b]! * wi + im[b]! * wr;
        re[b] = re[a]! - tr;
        im[b] = im[a]! - ti;
        re[a] = re[a]! + tr;
        im[a] = im[a]! + ti;
      }
    }
  }
}

/** The inverse transform, scaled by 1/N, in place: the conjugate of the forward transform of the conjugate. */
export function inverseFft(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  for (let i = 0; i < n; i++) im[i] = -im[i]!;
  fft(re, im);
  for (let i = 0; i < n; i++) {
    re[i] = re[i]! / n;
    im[i] = -im[i]! / n;
  }
}

/** The smallest power of two at or above n. */
export function powerOfTwoAtLeast(n: number): number {
  let m = 1;
  while (m < n) m *= 2;
  return m;
}
