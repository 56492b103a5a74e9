/**
 * What real recordings do that the simulated ones seldom do, as changes to
 * a recording (samples at ±1 full scale, at its own rate): each a thing a
 * device or its surroundings varies, at a strength a field engineer meets.
 * The robustness command (robustness.ts) scores a data set's recordings as
 * recorded and with each, so a model is judged on what it was not trained on.
 */
export interface RecordingVariant {
  readonly name: string;
  readonly description: string;
  readonly apply: (samples: Float32Array, sampleRateHz: number) => Float32Array;
}

function rms(x: Float32Array): number {
  let p = 0;
  for (const v of x) p += v * v;
  return Math.sqrt(p / Math.max(1, x.length));
}

/** `samples` plus sinusoids [hz, amplitude in RMS of the recording] (a new array). */
function withTones(samples: Float32Array, sampleRateHz: number, tones: readonly (readonly [number, number])[]): Float32Array {
  const r = rms(samples);
  return Float32Array.from(samples, (v, i) => v + tones.reduce((a, [hz, amplitude]) => a + amplitude * r * Math.sin((2 * Math.PI * hz * i) / sampleRateHz), 0));
}

export const RECORDING_VARIANTS: readonly RecordingVariant[] = [
  { name: 'as-recorded', description: 'as recorded', apply: (x) => x },
  { name: 'dc-offset', description: 'a DC offset of 5 % of full scale', apply: (x) => x.map((v) => v + 0.05) },
  {
    name: 'quiet-gain',
    description: '30 dB less gain, requantised to 16 bits',
    apply: (x) => x.map((v) => Math.round(v * 10 ** (-30 / 20) * 32768) / 32768),
  },
  {
    name: 'clipped',
    description: 'clipped at twice its RMS',
    apply: (x) => {
      const limit = 2 * rms(x);
      return x.map((v) => Math.max(-limit, Math.min(limit, v)));
    },
  },
  { name: 'sway', description: 'a 1.3 Hz sway at 5× its RMS (a logger moving on its magnet)', apply: (x, rate) => withTones(x, rate, [[1.3, 5]]) },
  { name: 'rumble', description: 'a 6 Hz rumble at 5× its RMS (ground motion from traffic)', apply: (x, rate) => withTones(x, rate, [[6, 5]]) },
  { name: 'hum-60', description: '60 Hz and 180 Hz at 3× and 1.5× its RMS (mains, western Japan)', apply: (x, rate) => withTones(x, rate, [[60, 3], [180, 1.5]]) },
  { name: 'hum-50', description: '50 Hz and 150 Hz at 3× and 1.5× its RMS (mains, eastern Japan)', apply: (x, rate) => withTones(x, rate, [[50, 3], [150, 1.5]]) },
];
