import { highPass as section, runSections } from './biquad.ts';

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
 * "Infrasound and hum"). 12 Hz: above the simulated background's 10 Hz, and low
 * enough that the lowest bins the model reads (15.6 Hz up) lose under 3 dB;
 * a 20 Hz corner stopped more rumble but cost the shipped model 0.004 of
 * logger window AUC, 12 Hz 0.001.
 */
export const INFRASOUND_CUTOFF_HZ = 12;

/** `samples` high-passed at `cornerHz` (4th order: two Butterworth sections); a new array. */
export function highPass(samples: Float32Array, sampleRateHz: number, cornerHz = INFRASOUND_CUTOFF_HZ): Float32Array {
  if (!(cornerHz > 0 && cornerHz < sampleRateHz / 2)) throw new RangeError(`high-pass corner ${cornerHz} Hz must be between 0 and half of ${sampleRateHz} Hz`);
  if (samples.length === 0) return new Float32Array(0);
  const s = section(cornerHz, sampleRateHz);
  // Settled on the first sample: a DC offset (every recorder has one) is a constant the
  // filter has already settled on, not a step it rings from.
  return Float32Array.from(runSections(samples, [s, s], samples[0]));
}
