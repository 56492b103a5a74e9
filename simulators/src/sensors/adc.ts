/**
 * The ADC: int16 full scale, the preamp's gain before it, a DC offset, and
 * clipping where a real converter clips. Levels before the gain are fractions
 * of full scale at 0 dB gain, so the server's `PCM / 10^(gain/20)` gives them
 * back (less the offset, and less the sensor's unknown sensitivity).
 */
export const FULL_SCALE = 32767;
const MIN_CODE = -32768;

export interface Quantised {
  readonly samples: Int16Array;
  /** Samples that hit a rail. */
  readonly clippedSamples: number;
}

export function quantise(signal: Float64Array, gainDb: number, dcOffsetLsb = 0): Quantised {
  const scale = FULL_SCALE * 10 ** (gainDb / 20);
  const samples = new Int16Array(signal.length);
  let clippedSamples = 0;
  for (let i = 0; i < signal.length; i++) {
    const v = Math.round(signal[i]! * scale + dcOffsetLsb);
    if (v >= FULL_SCALE) {
      samples[i] = FULL_SCALE;
      clippedSamples++;
    } else if (v <= MIN_CODE) {
      samples[i] = MIN_CODE;
      clippedSamples++;
    } else samples[i] = v;
  }
  return { samples, clippedSamples };
}

/** Quantises through a preamp of `gainDb` into int16 PCM, clipping at full scale. */
export function toPcm(signal: Float64Array, gainDb: number): Int16Array {
  return quantise(signal, gainDb).samples;
}
