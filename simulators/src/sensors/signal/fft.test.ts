import { describe, expect, it } from 'vitest';
import { fft, nextPowerOfTwo } from './fft.ts';

/** The DFT by its definition, angles reduced modulo n so the reference itself is exact. */
function dft(re: Float64Array, im: Float64Array, inverse: boolean): [Float64Array, Float64Array] {
  const n = re.length;
  const sign = inverse ? 1 : -1;
  const outRe = new Float64Array(n);
  const outIm = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    for (let j = 0; j < n; j++) {
      const a = (sign * 2 * Math.PI * ((j * k) % n)) / n;
      outRe[k]! += re[j]! * Math.cos(a) - im[j]! * Math.sin(a);
      outIm[k]! += re[j]! * Math.sin(a) + im[j]! * Math.cos(a);
    }
  }
  return [outRe, outIm];
}

describe('FFT', () => {
  it('matches the DFT forward and inverse, for odd and even numbers of stages', () => {
    for (const n of [1, 2, 4, 8, 16, 32, 64, 256]) {
      const re = Float64Array.from({ length: n }, (_, i) => Math.sin(i * 1.3) + i * 0.1);
      const im = Float64Array.from({ length: n }, (_, i) => Math.cos(i * 0.7));
      for (const inverse of [false, true]) {
        const [er, ei] = dft(re, im, inverse);
        const xr = re.slice();
        const xi = im.slice();
        fft(xr, xi, inverse);
        for (let k = 0; k < n; k++) {
          expect(xr[k]).toBeCloseTo(er[k]!, 9);
          expect(xi[k]).toBeCloseTo(ei[k]!, 9);
        }
      }
    }
  });

  it('gives back n times the signal after a forward and an inverse transform', () => {
    const n = 4096;
    const re = Float64Array.from({ length: n }, (_, i) => Math.sin(i * 0.01) * (i % 7));
    const im = new Float64Array(n);
    const xr = re.slice();
    const xi = im.slice();
    fft(xr, xi);
    fft(xr, xi, true);
    for (let i = 0; i < n; i += 97) expect(xr[i]! / n).toBeCloseTo(re[i]!, 9);
  });

  it('refuses sizes that are not powers of two', () => {
    expect(() => fft(new Float64Array(12), new Float64Array(12))).toThrow(/power of two/);
    expect(nextPowerOfTwo(10_000)).toBe(16_384);
    expect(nextPowerOfTwo(4096)).toBe(4096);
  });
});
