import { MODEL_SAMPLE_RATE_HZ } from '../model/feature-spec.ts';

/**
 * Training-time colouring of a window by a device we never simulated.
 *
 * The simulator draws two sensor families (accelerometer, hydrophone) with
 * resonances and roll-offs in ranges typical of data sheets; a model trained
 * on them learned each family's response as well as the leak: trained on
 * accelerometers alone it scored hydrophone windows at ROC-AUC 0.64 (README,
 * "What it does not carry over to"). Real fleets and hand-held loggers bring
 * responses outside both ranges. So each training window may pass through a
 * random response drawn independently of the label — mounting resonances and
 * notches anywhere in the model's band, a tilt, a low-frequency roll-off —
 * and the model has to find the leak in what a response cannot make: a
 * steady, broadband lift that holds over the second.
 *
 * Filters are second-order sections (the audio-EQ cookbook's peaking, shelf
 * and high-pass forms), run forward over a mirrored lead-in so the window
 * starts without the filter's start-up transient.
 */
export interface Section {
  readonly b: readonly [number, number, number];
  readonly a: readonly [number, number];
}

export interface ColouringRanges {
  /** Most resonances or notches per response (0 to this many). */
  readonly maxPeaks: number;
  readonly peakHz: readonly [number, number];
  readonly peakGainDb: readonly [number, number];
  readonly peakQ: readonly [number, number];
  readonly shelfHz: readonly [number, number];
  /** High shelf gain, dB: a tilt between the low and the high end of the band. */
  readonly shelfGainDb: readonly [number, number];
  /** Share of responses with a 2nd-order low-frequency roll-off, and its corner. */
  readonly highPassShare: number;
  readonly highPassHz: readonly [number, number];
}

/**
 * Wider than both simulated families above ~100 Hz (simulators/src/sensors/sensor-hardware.ts),
 * milder below: a first run with peaks down to 40 Hz and high-passes up to
 * 300 Hz cost plastic mains, whose leaks live there, more
 * than it bought (README, "Device colouring").
 */
export const DEFAULT_COLOURING: ColouringRanges = {
  maxPeaks: 3,
  peakHz: [100, 1900],
  peakGainDb: [-6, 12],
  peakQ: [1, 10],
  shelfHz: [200, 1500],
  shelfGainDb: [-10, 10],
  highPassShare: 0.5,
  highPassHz: [5, 60],
};

const FS = MODEL_SAMPLE_RATE_HZ;
/** Lead-in length: the slowest section (a 10 Hz high-pass) settles within ~0.1 s. */
const LEAD_IN = 400;

export function peaking(hz: number, gainDb: number, q: number): Section {
  const A = 10 ** (gainDb / 40);
  const w = (2 * Math.PI * hz) / FS;
  const alpha = Math.sin(w) / (2 * q);
  const a0 = 1 + alpha / A;
  return norm([1 + alpha * A, -2 * Math.cos(w), 1 - alpha * A], [a0, -2 * Math.cos(w), 1 - alpha / A]);
}

export function highShelf(hz: number, gainDb: number): Section {
  const A = 10 ** (gainDb / 40);
  const w = (2 * Math.PI * hz) / FS;
  const cos = Math.cos(w);
  // Shelf slope 1: the steepest without a bump.
  const alpha = (Math.sin(w) / 2) * Math.SQRT2;
  const s = 2 * Math.sqrt(A) * alpha;
  return norm(
    [A * (A + 1 + (A - 1) * cos + s), -2 * A * (A - 1 + (A + 1) * cos), A * (A + 1 + (A - 1) * cos - s)],
    [A + 1 - (A - 1) * cos + s, 2 * (A - 1 - (A + 1) * cos), A + 1 - (A - 1) * cos - s],
  );
}

export function highPass(hz: number): Section {
  const w = (2 * Math.PI * hz) / FS;
  const cos = Math.cos(w);
  const alpha = Math.sin(w) / (2 * Math.SQRT1_2);
  return norm([(1 + cos) / 2, -(1 + cos), (1 + cos) / 2], [1 + alpha, -2 * cos, 1 - alpha]);
}

function norm(b: readonly number[], a: readonly number[]): Section {
  const a0 = a[0]!;
  return { b: [b[0]! / a0, b[1]! / a0, b[2]! / a0], a: [a[1]! / a0, a[2]! / a0] };
}

/** |H(f)|² of a cascade, for tests and for the model card's description. */
export function gainSquared(sections: readonly Section[], hz: number): number {
  const w = (2 * Math.PI * hz) / FS;
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

/** A random response within the ranges; `random` returns uniform numbers in [0, 1). */
export function drawColouring(random: () => number, ranges: ColouringRanges = DEFAULT_COLOURING): Section[] {
  const uniform = ([lo, hi]: readonly [number, number]) => lo + (hi - lo) * random();
  const logUniform = ([lo, hi]: readonly [number, number]) => Math.exp(uniform([Math.log(lo), Math.log(hi)]));
  const sections: Section[] = [];
  const peaks = Math.floor(random() * (ranges.maxPeaks + 1));
  for (let i = 0; i < peaks; i++) sections.push(peaking(logUniform(ranges.peakHz), uniform(ranges.peakGainDb), logUniform(ranges.peakQ)));
  sections.push(highShelf(logUniform(ranges.shelfHz), uniform(ranges.shelfGainDb)));
  if (random() < ranges.highPassShare) sections.push(highPass(logUniform(ranges.highPassHz)));
  return sections;
}

/** The window through the cascade, as a new array (the input is left alone). */
export function colour(window: Float32Array, sections: readonly Section[]): Float32Array {
  const n = window.length;
  const lead = Math.min(LEAD_IN, n - 1);
  // Mirrored lead-in (without repeating the first sample): continuous at the join.
  let x = new Float64Array(lead + n);
  for (let i = 0; i < lead; i++) x[i] = window[lead - i]!;
  for (let i = 0; i < n; i++) x[lead + i] = window[i]!;
  for (const { b, a } of sections) {
    const y = new Float64Array(x.length);
    const [b0, b1, b2] = b;
    const [a1, a2] = a;
    let x1 = 0;
    let x2 = 0;
    let y1 = 0;
    let y2 = 0;
    for (let i = 0; i < x.length; i++) {
      const xi = x[i]!;
      const v = b0 * xi + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2;
      x2 = x1;
      x1 = xi;
      y2 = y1;
      y1 = v;
      y[i] = v;
    }
    x = y;
  }
  return Float32Array.from(x.subarray(lead));
}

