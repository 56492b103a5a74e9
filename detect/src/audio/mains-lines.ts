/**
 * Takes strong mains lines out of one window of audio: a sinusoid at a
 * multiple of 50 or 60 Hz is fitted (least squares, over the whole window)
 * and subtracted where it carries at least `minShare` of the window's power.
 *
 * Why: the model's features are band levels relative to the window's total
 * power, so one loud line (a transformer's 100/120 Hz, a pump motor's
 * magnetostriction, an unshielded cable's 50/60 Hz and odd harmonics) pushes
 * every other band down and hides the hiss beside it. With model 2.4.3, a 60 Hz
 * hum three times a hand-held clip's RMS took the window ROC-AUC from 0.864 to
 * 0.654 (README, "Infrasound and hum"). A line is a pure tone over a second,
 * hiss is not: a fit over 4,000 samples takes the line and leaves the hiss in
 * its 1 Hz almost untouched, so the leak's broadband sound is what remains.
 *
 * Which lines: 50 and 60 Hz (both grids exist in Japan) and their multiples
 * up to MAX_LINE_HZ, each searched within ±(0.2 k + 0.1) Hz of k times the
 * grid (at most ±1 Hz): the grid wanders ±0.1 Hz and harmonic k k times as
 * far. Weak lines stay: below `minShare` a line moves the features little,
 * and the simulator's own weak pickup and transformer hum, on which the model
 * was trained, stay as they were.
 */
export const GRIDS_HZ = [50, 60] as const;
export const MAX_LINE_HZ = 600;
/**
 * The share a model trained with the front end takes lines out at: a line
 * under a tenth of the power moves every relative level by under 0.46 dB,
 * less than a window's own spread (README, "Mains lines taken out").
 */
export const DEFAULT_MIN_LINE_SHARE = 0.1;

export interface FittedLine {
  readonly hz: number;
  /** The line's share of the window's power left when it was taken out (louder lines first). */
  readonly share: number;
}

interface Candidate {
  readonly nominalHz: number;
  readonly halfWidthHz: number;
}

const CANDIDATES: readonly Candidate[] = GRIDS_HZ.flatMap((grid) =>
  Array.from({ length: Math.floor(MAX_LINE_HZ / grid) }, (_, i) => {
    const k = i + 1;
    return { nominalHz: grid * k, halfWidthHz: Math.min(1, 0.2 * k + 0.1) };
  }),
)
  // 300 and 600 Hz are multiples of both grids: search them once, with the wider range.
  .sort((a, b) => a.nominalHz - b.nominalHz || b.halfWidthHz - a.halfWidthHz)
  .filter((c, i, all) => i === 0 || all[i - 1]!.nominalHz !== c.nominalHz);

/** Cosine and sine sums of `x` at `hz` and the 2×2 normal equations of a least-squares sinusoid there. */
function project(x: Float32Array, hz: number, sampleRateHz: number) {
  const step = (2 * Math.PI * hz) / sampleRateHz;
  const cs = Math.cos(step);
  const sn = Math.sin(step);
  // A rotating phasor instead of a cos and sin per sample; 4,000 rotations drift by ~1e-13.
  let c = 1;
  let s = 0;
  let xc = 0;
  let xs = 0;
  let cc = 0;
  let ss = 0;
  let sc = 0;
  for (let n = 0; n < x.length; n++) {
    const v = x[n]!;
    xc += v * c;
    xs += v * s;
    cc += c * c;
    ss += s * s;
    sc += s * c;
    const nc = c * cs - s * sn;
    s = s * cs + c * sn;
    c = nc;
  }
  const det = cc * ss - sc * sc;
  if (!(det > 0)) return { a: 0, b: 0, power: 0 };
  const a = (xc * ss - xs * sc) / det;
  const b = (xs * cc - xc * sc) / det;
  // The fitted sinusoid's energy over the window: the part of x's energy it explains.
  return { a, b, power: a * xc + b * xs };
}

/** The frequency within the candidate's range where a fitted sinusoid explains most of `x`. */
function bestFrequency(x: Float32Array, c: Candidate, sampleRateHz: number): number {
  const powerAt = (hz: number) => project(x, hz, sampleRateHz).power;
  // A 1 s window's main lobe is ±1 Hz wide: 0.25 Hz steps land within 0.125 Hz of the peak...
  let best = c.nominalHz;
  let bestPower = -1;
  for (let hz = c.nominalHz - c.halfWidthHz; hz <= c.nominalHz + c.halfWidthHz + 1e-9; hz += 0.25) {
    const p = powerAt(hz);
    if (p > bestPower) [best, bestPower] = [hz, p];
  }
  // ...and within the lobe the power has one peak, which a golden-section search closes in on.
  let lo = Math.max(best - 0.25, c.nominalHz - c.halfWidthHz);
  let hi = Math.min(best + 0.25, c.nominalHz + c.halfWidthHz);
  const ratio = (Math.sqrt(5) - 1) / 2;
  let x1 = hi - ratio * (hi - lo);
  let x2 = lo + ratio * (hi - lo);
  let p1 = powerAt(x1);
  let p2 = powerAt(x2);
  while (hi - lo > 0.002) {
    if (p1 > p2) {
      [hi, x2, p2] = [x2, x1, p1];
      x1 = hi - ratio * (hi - lo);
      p1 = powerAt(x1);
    } else {
      [lo, x1, p1] = [x1, x2, p2];
      x2 = lo + ratio * (hi - lo);
      p2 = powerAt(x2);
    }
  }
  return (lo + hi) / 2;
}

/** A quarter of a second: long enough to tell a line from the hiss beside it, short enough that its ±4 Hz lobe holds the whole range a line may wander. */
const SCREEN_SECONDS = 0.25;

/**
 * `samples` with each mains line of at least `minShare` of its power taken
 * out (a new array), and the lines taken. A window without such a line comes
 * back unchanged (a copy).
 */
export function removeMainsLines(samples: Float32Array, sampleRateHz: number, minShare = DEFAULT_MIN_LINE_SHARE): { samples: Float32Array; lines: FittedLine[] } {
  if (!(minShare > 0 && minShare <= 1)) throw new RangeError(`minShare ${minShare} must be in (0, 1]`);
  const out = Float32Array.from(samples);
  let energy = 0;
  for (const v of samples) energy += v * v;
  const lines: FittedLine[] = [];
  if (!(energy > 0)) return { samples: out, lines };
  // A cheap look at each candidate first, on the window's first quarter second: its
  // lobe is ±4 Hz wide, so a line anywhere in its candidate's range keeps over 80 %
  // of its power at the nominal frequency. Only a loud one is searched and fitted.
  // Lines at different frequencies are near orthogonal, so taking one out leaves
  // the others' look as it was.
  const head = out.subarray(0, Math.min(out.length, Math.round(SCREEN_SECONDS * sampleRateHz)));
  const screened = CANDIDATES.filter((c) => c.nominalHz < sampleRateHz / 2 - 2)
    .map((c) => ({ c, energy: (project(head, c.nominalHz, sampleRateHz).power * out.length) / head.length }))
    .sort((a, b) => b.energy - a.energy);
  for (const s of screened) {
    // Against what is left: once a louder line is out, the features are relative to the rest.
    if (s.energy < (minShare / 2) * energy) continue;
    const hz = bestFrequency(out, s.c, sampleRateHz);
    const { a, b, power } = project(out, hz, sampleRateHz);
    if (power < minShare * energy) continue;
    const step = (2 * Math.PI * hz) / sampleRateHz;
    for (let n = 0; n < out.length; n++) out[n]! -= a * Math.cos(step * n) + b * Math.sin(step * n);
    lines.push({ hz, share: power / energy });
    energy -= power;
  }
  return { samples: out, lines };
}
