import { MODEL_SAMPLE_RATE_HZ } from '../model/feature-spec.ts';

/**
 * Second-order filter sections in the audio-EQ cookbook's forms (peaking,
 * high shelf, Butterworth high-pass), normalised so that a0 = 1, and a
 * cascade of them run over a signal. The infrasound high-pass in front of
 * the model and training's device colouring both build on these.
 */
export interface Section {
  readonly b: readonly [number, number, number];
  readonly a: readonly [number, number];
}

export function peaking(hz: number, gainDb: number, q: number, sampleRateHz = MODEL_SAMPLE_RATE_HZ): Section {
  const A = 10 ** (gainDb / 40);
  const w = (2 * Math.PI * hz) / sampleRateHz;
  const alpha = Math.sin(w) / (2 * q);
  const a0 = 1 + alpha / A;
  return norm([1 + alpha * A, -2 * Math.cos(w), 1 - alpha * A], [a0, -2 * Math.cos(w), 1 - alpha / A]);
}

export function highShelf(hz: number, gainDb: number, sampleRateHz = MODEL_SAMPLE_RATE_HZ): Section {
  const A = 10 ** (gainDb / 40);
  const w = (2 * Math.PI * hz) / sampleRateHz;
  const cos = Math.cos(w);
  // Shelf slope 1: the steepest without a bump.
  const alpha = (Math.sin(w) / 2) * Math.SQRT2;
  const s = 2 * Math.sqrt(A) * alpha;
  return norm(
    [A * (A + 1 + (A - 1) * cos + s), -2 * A * (A - 1 + (A + 1) * cos), A * (A + 1 + (A - 1) * cos - s)],
    [A + 1 - (A - 1) * cos + s, 2 * (A - 1 - (A + 1) * cos), A + 1 - (A - 1) * cos - s],
  );
}

/** Butterworth (Q = 1/√2): −3 dB at `hz`, −12 dB per octave below. */
export function highPass(hz: number, sampleRateHz = MODEL_SAMPLE_RATE_HZ): Section {
  const w = (2 * Math.PI * hz) / sampleRateHz;
  const cos = Math.cos(w);
  const alpha = Math.sin(w) / (2 * Math.SQRT1_2);
  return norm([(1 + cos) / 2, -(1 + cos), (1 + cos) / 2], [1 + alpha, -2 * cos, 1 - alpha]);
}

function norm(b: readonly number[], a: readonly number[]): Section {
  const a0 = a[0]!;
  return { b: [b[0]! / a0, b[1]! / a0, b[2]! / a0], a: [a[1]! / a0, a[2]! / a0] };
}

/** |H(f)|² of a cascade, for tests and for the model card's description. */
export function gainSquared(sections: readonly Section[], hz: number, sampleRateHz = MODEL_SAMPLE_RATE_HZ): number {
  const w = (2 * Math.PI * hz) / sampleRateHz;
  let g = 1;
  for (const { b, a } of sections) {
    const [c1, s1, c2, s2] = [Math.cos(w), -Math.sin(w), Math.cos(2 * w), -Math.sin(2 * w)];
    const nr = b[0] + b[1] * c1 + b[2] * c2;
    const ni = b[1] * s1 + b[2] * s2;
    const dr = 1 + a[0] * c1 + a[1] * c2;
    const di = a[0] * s1 + a[1] * s2;
    g *= (nr * nr + ni * ni) / (dr * dr + di * di);
  }
  return g;
}

/**
 * `x` through the sections in turn (direct form I, in float64), as a new
 * array. Each section starts at rest, except that with `settledOn` the
 * first starts as if its input had always been that value.
 */
export function runSections(x: ArrayLike<number>, sections: readonly Section[], settledOn = 0): Float64Array {
  let input: ArrayLike<number> = x;
  let y = Float64Array.from(x);
  sections.forEach(({ b, a }, j) => {
    y = new Float64Array(x.length);
    const [b0, b1, b2] = b;
    const [a1, a2] = a;
    let x1 = j === 0 ? settledOn : 0;
    let x2 = x1;
    // Settled on a constant c: y = c·(b0 + b1 + b2) / (1 + a1 + a2), 0 for a high-pass.
    let y1 = j === 0 ? (settledOn * (b0 + b1 + b2)) / (1 + a1 + a2) : 0;
    let y2 = y1;
    for (let i = 0; i < input.length; i++) {
      const xi = input[i]!;
      const v = b0 * xi + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2;
      x2 = x1;
      x1 = xi;
      y2 = y1;
      y1 = v;
      y[i] = v;
    }
    input = y;
  });
  return y;
}
