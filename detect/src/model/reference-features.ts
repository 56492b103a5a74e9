import {
  BAND_COUNT,
  FEATURE_COUNT,
  FRAME_SAMPLES,
  FRAMES_PER_WINDOW,
  HOP_SAMPLES,
  LOG_FLOOR,
  STD_FLOOR,
  SPECTRUM_BINS,
  WINDOW_SAMPLES,
  bandFilterbank,
  hannWindow,
} from './feature-spec.ts';

const HANN = hannWindow();
const FILTERBANK = bandFilterbank().weights;
const FFT_BITS = Math.log2(FRAME_SAMPLES);
const BIT_REVERSED = Uint16Array.from({ length: FRAME_SAMPLES }, (_, i) => {
  let r = 0;
  for (let b = 0; b < FFT_BITS; b++) r |= ((i >> b) & 1) << (FFT_BITS - 1 - b);
  return r;
});
const TWIDDLE_RE = Float64Array.from({ length: FRAME_SAMPLES / 2 }, (_, k) => Math.cos((-2 * Math.PI * k) / FRAME_SAMPLES));
const TWIDDLE_IM = Float64Array.from({ length: FRAME_SAMPLES / 2 }, (_, k) => Math.sin((-2 * Math.PI * k) / FRAME_SAMPLES));

/** In-place iterative radix-2 FFT; the graph uses a DFT matrix for the same numbers. */
function fft(re: Float64Array, im: Float64Array): void {
  for (let i = 0; i < FRAME_SAMPLES; i++) {
    const j = BIT_REVERSED[i]!;
    if (j > i) {
      [re[i], re[j]] = [re[j]!, re[i]!];
      [im[i], im[j]] = [im[j]!, im[i]!];
    }
  }
  for (let size = 2; size <= FRAME_SAMPLES; size *= 2) {
    const half = size / 2;
    const step = FRAME_SAMPLES / size;
    for (let start = 0; start < FRAME_SAMPLES; start += size) {
      for (let k = 0; k < half; k++) {
        const wr = TWIDDLE_RE[k * step]!;
        const wi = TWIDDLE_IM[k * step]!;
        const a = start + k;
        const b = a + half;
        const tr = re[b]! * wr - im[b]! * wi;
        const ti = re[b]! * wi + im[b]! * wr;
        re[b] = re[a]! - tr;
        im[b] = im[a]! - ti;
        re[a] = re[a]! + tr;
        im[a] = im[a]! + ti;
      }
    }
  }
}

/**
 * The model's features for one window of PCM at MODEL_SAMPLE_RATE_HZ scaled
 * to [-1, 1]: the same arithmetic as the ONNX graph, in plain TypeScript, for
 * training. Output layout: [mean(24) | std(24) | min(24)] of level-normalised
 * log band power over the window's frames.
 */
export function referenceFeatures(window: Float32Array, out = new Float32Array(FEATURE_COUNT)): Float32Array {
  if (window.length !== WINDOW_SAMPLES) throw new Error(`window must hold ${WINDOW_SAMPLES} samples, got ${window.length}`);
  let mean = 0;
  for (let i = 0; i < WINDOW_SAMPLES; i++) mean += window[i]!;
  mean /= WINDOW_SAMPLES;

  const logBands = new Float64Array(FRAMES_PER_WINDOW * BAND_COUNT);
  const re = new Float64Array(FRAME_SAMPLES);
  const im = new Float64Array(FRAME_SAMPLES);
  let total = 0;
  for (let f = 0; f < FRAMES_PER_WINDOW; f++) {
    const start = f * HOP_SAMPLES;
    for (let n = 0; n < FRAME_SAMPLES; n++) {
      re[n] = (window[start + n]! - mean) * HANN[n]!;
      im[n] = 0;
    }
    fft(re, im);
    for (let b = 0; b < BAND_COUNT; b++) {
      let power = 0;
      for (let k = 0; k < SPECTRUM_BINS; k++) {
        const w = FILTERBANK[k * BAND_COUNT + b]!;
        if (w !== 0) power += w * (re[k]! * re[k]! + im[k]! * im[k]!);
      }
      const l = Math.log(power + LOG_FLOOR);
      logBands[f * BAND_COUNT + b] = l;
      total += l;
    }
  }
  // Level normalisation: gain and sensor sensitivity shift every band alike,
  // and real recordings come uncalibrated, so only the shape is kept.
  const level = total / (FRAMES_PER_WINDOW * BAND_COUNT);
  for (let b = 0; b < BAND_COUNT; b++) {
    let sum = 0;
    let min = Infinity;
    for (let f = 0; f < FRAMES_PER_WINDOW; f++) {
      const v = logBands[f * BAND_COUNT + b]! - level;
      sum += v;
      if (v < min) min = v;
    }
    const m = sum / FRAMES_PER_WINDOW;
    let sq = 0;
    for (let f = 0; f < FRAMES_PER_WINDOW; f++) {
      const d = logBands[f * BAND_COUNT + b]! - level - m;
      sq += d * d;
    }
    out[b] = m;
    out[BAND_COUNT + b] = Math.sqrt(sq / FRAMES_PER_WINDOW + STD_FLOOR);
    out[2 * BAND_COUNT + b] = min;
  }
  return out;
}
