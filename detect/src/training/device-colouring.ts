import { highPass, highShelf, peaking, runSections, type Section } from '../audio/biquad.ts';

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
 * and high-pass forms, audio/biquad.ts), run forward over a mirrored lead-in so the window
 * starts without the filter's start-up transient.
 */
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

/** Lead-in length: the slowest section (a 10 Hz high-pass) settles within ~0.1 s. */
const LEAD_IN = 400;

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
  const x = new Float64Array(lead + n);
  for (let i = 0; i < lead; i++) x[i] = window[lead - i]!;
  for (let i = 0; i < n; i++) x[lead + i] = window[i]!;
  return Float32Array.from(runSections(x, sections).subarray(lead));
}

