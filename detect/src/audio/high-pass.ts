/**
 * A 4th-order high-pass (two 2nd-order Butterworth sections, −6 dB at the
 * corner, −24 dB per octave below it) run over one chunk of audio as it
 * arrives. Each chunk on its own, even where chunks follow each other: a
 * window's audio then depends on its chunk alone, so a detector restarted
 * between two chunks scores exactly as one that never stopped.
 *
 * Why it sits in front of the model: a real sensor records infrasound the
 * simulated data does not hold (the soil column does not carry it to a
 * buried main, so the simulator's background stops at 10 Hz): a hand-held
 * logger moved on its magnet, a bus's ground motion, a pressure surge. The
 * model's features are levels relative to the window's total power, so
 * infrasound under every band the model reads still moves every feature: a
 * 6 Hz rumble at five times a recording's RMS took the shipped model's
 * window ROC-AUC on hand-held clips from 0.906 to 0.816 (README,
 * "Infrasound"). 12 Hz: above the simulated background's 10 Hz, and low
 * enough that the lowest bins the model reads (15.6 Hz up) lose under 3 dB;
 * a 20 Hz corner stopped more rumble but cost the shipped model 0.004 of
 * logger window AUC, 12 Hz 0.001.
 */
export const INFRASOUND_CUTOFF_HZ = 12;

interface Section {
  readonly b0: number;
  readonly b1: number;
  readonly b2: number;
  readonly a1: number;
  readonly a2: number;
}

/** Bilinear-transform Butterworth high-pass section (Q = 1/√2) at `cornerHz`. */
function section(cornerHz: number, sampleRateHz: number): Section {
  const k = Math.tan((Math.PI * cornerHz) / sampleRateHz);
  const q = Math.SQRT1_2;
  const norm = 1 / (1 + k / q + k * k);
  return { b0: norm, b1: -2 * norm, b2: norm, a1: 2 * (k * k - 1) * norm, a2: (1 - k / q + k * k) * norm };
}

const sections = new Map<string, Section>();

/** `samples` high-passed at `cornerHz`; a new array. */
export function highPass(samples: Float32Array, sampleRateHz: number, cornerHz = INFRASOUND_CUTOFF_HZ): Float32Array {
  if (!(cornerHz > 0 && cornerHz < sampleRateHz / 2)) throw new RangeError(`high-pass corner ${cornerHz} Hz must be between 0 and half of ${sampleRateHz} Hz`);
  const out = new Float32Array(samples.length);
  if (samples.length === 0) return out;
  const key = `${cornerHz}:${sampleRateHz}`;
  const s = sections.get(key) ?? section(cornerHz, sampleRateHz);
  sections.set(key, s);
  const { b0, b1, b2, a1, a2 } = s;
  // Each section starts as if its input had always been its first sample: a DC offset (every
  // recorder has one) is a constant the filter has settled on, not a step it rings from. The first
  // section's settled output is 0, so the second starts from rest.
  let source = samples;
  for (let pass = 0; pass < 2; pass++) {
    let x1 = source[0]!;
    let x2 = x1;
    let y1 = 0;
    let y2 = 0;
    for (let i = 0; i < source.length; i++) {
      const x = source[i]!;
      const y = b0 * x + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2;
      x2 = x1;
      x1 = x;
      y2 = y1;
      y1 = y;
      out[i] = y;
    }
    source = out;
  }
  return out;
}
