/**
 * In-place iterative radix-2 complex FFT on split real/imaginary arrays. The
 * simulator makes coloured noise by shaping a random spectrum and
 * transforming it back, and its tests measure band energies the same way;
 * both need sizes up to 2^20 (the ingest's 960,000-sample frame), so the
 * tables are cached per size.
 */
interface FftTables {
  readonly size: number;
  readonly reverse: Uint32Array;
  readonly cos: Float64Array;
  readonly sin: Float64Array;
}

const tables = new Map<number, FftTables>();

export function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

export function nextPowerOfTwo(n: number): number {
  let m = 1;
  while (m < n) m *= 2;
  return m;
}

function tablesFor(size: number): FftTables {
  let t = tables.get(size);
  if (t) return t;
  if (!isPowerOfTwo(size)) throw new RangeError(`FFT size ${size} is not a power of two`);
  const bits = Math.round(Math.log2(size));
  const reverse = new Uint32Array(size);
  for (let i = 0; i < size; i++) {
    let r = 0;
    for (let b = 0; b < bits; b++) r |= ((i >>> b) & 1) << (bits - 1 - b);
    reverse[i] = r >>> 0;
  }
  const half = size / 2;
  const cos = new Float64Array(half);
  const sin = new Float64Array(half);
  for (let k = 0; k < half; k++) {
    cos[k] = Math.cos((2 * Math.PI * k) / size);
    sin[k] = Math.sin((2 * Math.PI * k) / size);
  }
  t = { size, reverse, cos, sin };
  tables.set(size, t);
  return t;
}

/**
 * Forward (e^{-iωn}) or inverse (e^{+iωn}) transform, unnormalised: an
 * inverse after a forward multiplies by the size.
 */
export function fft(re: Float64Array, im: Float64Array, inverse = false): void {
  const n = re.length;
  if (im.length !== n) throw new RangeError('real and imaginary parts differ in length');
  if (n <= 1) return;
  const { reverse, cos, sin } = tablesFor(n);
  for (let i = 0; i < n; i++) {
    const j = reverse[i]!;
    if (j > i) {
      const tr = re[i]!;
      re[i] = re[j]!;
      re[j] = tr;
      const ti = im[i]!;
      im[i] = im[j]!;
      im[j] = ti;
    }
  }
  let sub = 1;
  if (Math.round(Math.log2(n)) % 2 === 1) {
    // An odd number of stages: one plain radix-2 stage first (its twiddle is 1).
    for (let a = 0; a < n; a += 2) {
      const xr = re[a + 1]!;
      const xi = im[a + 1]!;
      re[a + 1] = re[a]! - xr;
      im[a + 1] = im[a]! - xi;
      re[a] = re[a]! + xr;
      im[a] = im[a]! + xi;
    }
    sub = 2;
  }
  const sign = inverse ? 1 : -1;
  // Two radix-2 stages at a time (sub-transforms of length L into 2L, then
  // 4L): half the passes over memory. With W = e^{∓2πi/4L}, for each k < L
  // the four inputs a0…a3 at k, k+L, k+2L, k+3L become
  //   b0 = a0 + W^{2k}a1, b0' = a0 − W^{2k}a1, b1 = a2 + W^{2k}a3, b1' = a2 − W^{2k}a3,
  //   out[k] = b0 + W^k b1, out[k+2L] = b0 − W^k b1,
  //   out[k+L] = b0' + W^{k+L} b1', out[k+3L] = b0' − W^{k+L} b1', where W^{k+L} = ∓i·W^k.
  for (; sub < n; sub *= 4) {
    const len = 4 * sub;
    const step = n / len;
    for (let start = 0; start < n; start += len) {
      for (let k = 0; k < sub; k++) {
        const w1r = cos[k * step]!;
        const w1i = sign * sin[k * step]!;
        const w2r = cos[2 * k * step]!;
        const w2i = sign * sin[2 * k * step]!;
        const i0 = start + k;
        const i1 = i0 + sub;
        const i2 = i1 + sub;
        const i3 = i2 + sub;
        const a1r = re[i1]!;
        const a1i = im[i1]!;
        const a3r = re[i3]!;
        const a3i = im[i3]!;
        const t1r = a1r * w2r - a1i * w2i;
        const t1i = a1r * w2i + a1i * w2r;
        const t3r = a3r * w2r - a3i * w2i;
        const t3i = a3r * w2i + a3i * w2r;
        const a0r = re[i0]!;
        const a0i = im[i0]!;
        const a2r = re[i2]!;
        const a2i = im[i2]!;
        const b0r = a0r + t1r;
        const b0i = a0i + t1i;
        const c0r = a0r - t1r;
        const c0i = a0i - t1i;
        const b1r = a2r + t3r;
        const b1i = a2i + t3i;
        const c1r = a2r - t3r;
        const c1i = a2i - t3i;
        const ur = b1r * w1r - b1i * w1i;
        const ui = b1r * w1i + b1i * w1r;
        // v = W^k·b1', then times ∓i: forward (sign −1) multiplies by −i, inverse by +i.
        const vr = c1r * w1r - c1i * w1i;
        const vi = c1r * w1i + c1i * w1r;
        const xr = -sign * vi;
        const xi = sign * vr;
        re[i0] = b0r + ur;
        im[i0] = b0i + ui;
        re[i2] = b0r - ur;
        im[i2] = b0i - ui;
        re[i1] = c0r + xr;
        im[i1] = c0i + xi;
        re[i3] = c0r - xr;
        im[i3] = c0i - xi;
      }
    }
  }
}
