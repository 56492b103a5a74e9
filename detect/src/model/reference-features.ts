import {
  BAND_COUNT,
  FEATURE_COUNT,
  FEATURE_GROUPS,
  MEDIAN_RANK,
  P10_RANK,
  RELATIVE_FLOOR,
  type FeatureGroup,
  FRAME_SAMPLES,
  FRAMES_PER_WINDOW,
  HOP_SAMPLES,
  LOG_FLOOR,
  STD_FLOOR,
  SPECTRUM_BINS,
  WINDOW_SAMPLES,
  LOW_BIN_COUNT,
  LOW_FEATURE_GROUPS,
  LOW_FRAME_SAMPLES,
  LOW_FRAMES_PER_WINDOW,
  LOW_HOP_SAMPLES,
  LOW_MEDIAN_RANK,
  LOW_P10_RANK,
  BAND_FEATURE_COUNT,
  type LowFeatureGroup,
  bandFilterbank,
  hannWindow,
  lowDftMatrices,
  lowHannWindow,
} from './feature-spec.ts';

const HANN = hannWindow();
const FILTERBANK = bandFilterbank().weights;
const LOW_HANN = lowHannWindow();
// The graph's own float32 matrices, so that both sides multiply the same numbers.
const LOW_DFT = lowDftMatrices();
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
 * training. Output layout: FEATURE_GROUPS in order, BAND_COUNT values each,
 * then LOW_FEATURE_GROUPS in order, LOW_BIN_COUNT values each (see
 * feature-spec.ts for what each group is and why).
 */
export function referenceFeatures(window: Float32Array, out = new Float32Array(FEATURE_COUNT)): Float32Array {
  if (window.length !== WINDOW_SAMPLES) throw new Error(`window must hold ${WINDOW_SAMPLES} samples, got ${window.length}`);
  let mean = 0;
  for (let i = 0; i < WINDOW_SAMPLES; i++) mean += window[i]!;
  mean /= WINDOW_SAMPLES;

  const F = FRAMES_PER_WINDOW;
  const B = BAND_COUNT;
  const powers = new Float64Array(F * SPECTRUM_BINS);
  const re = new Float64Array(FRAME_SAMPLES);
  const im = new Float64Array(FRAME_SAMPLES);
  let meanPower = 0;
  for (let f = 0; f < F; f++) {
    const start = f * HOP_SAMPLES;
    for (let n = 0; n < FRAME_SAMPLES; n++) {
      re[n] = (window[start + n]! - mean) * HANN[n]!;
      im[n] = 0;
    }
    fft(re, im);
    for (let k = 0; k < SPECTRUM_BINS; k++) {
      const p = re[k]! * re[k]! + im[k]! * im[k]!;
      powers[f * SPECTRUM_BINS + k] = p;
      meanPower += p;
    }
  }
  meanPower /= F * SPECTRUM_BINS;
  const floor = RELATIVE_FLOOR * meanPower + LOG_FLOOR;

  const logBands = new Float64Array(F * B);
  const bandPower = new Float64Array(F * B);
  const spectralFlatness = new Float64Array(F * B);
  const logPower = new Float64Array(SPECTRUM_BINS);
  let total = 0;
  for (let f = 0; f < F; f++) {
    for (let k = 0; k < SPECTRUM_BINS; k++) logPower[k] = Math.log(powers[f * SPECTRUM_BINS + k]! + floor);
    for (let b = 0; b < B; b++) {
      let power = 0;
      let meanLog = 0;
      for (let k = 0; k < SPECTRUM_BINS; k++) {
        const w = FILTERBANK[k * B + b]!;
        if (w !== 0) {
          power += w * powers[f * SPECTRUM_BINS + k]!;
          meanLog += w * logPower[k]!;
        }
      }
      const l = Math.log(power + floor);
      logBands[f * B + b] = l;
      bandPower[f * B + b] = power;
      spectralFlatness[f * B + b] = l - meanLog;
      total += l;
    }
  }
  // Level normalisation: gain and sensor sensitivity shift every band alike,
  // and real recordings come uncalibrated, so only the shape is kept.
  const level = total / (F * B);
  const column = new Float64Array(F);
  const at = (g: FeatureGroup, b: number) => FEATURE_GROUPS.indexOf(g) * B + b;
  for (let b = 0; b < B; b++) {
    let sum = 0;
    let sf = 0;
    let mp = 0;
    for (let f = 0; f < F; f++) {
      column[f] = logBands[f * B + b]! - level;
      sum += column[f]!;
      sf += spectralFlatness[f * B + b]!;
      mp += bandPower[f * B + b]!;
    }
    const m = sum / F;
    let sq = 0;
    for (let f = 0; f < F; f++) sq += (column[f]! - m) ** 2;
    const sorted = Float64Array.from(column).sort();
    const values: Record<FeatureGroup, number> = {
      mean: m,
      std: Math.sqrt(sq / F + STD_FLOOR),
      p10: sorted[P10_RANK]!,
      median: sorted[MEDIAN_RANK]!,
      sflat: sf / F,
      // log(mean power) − mean(log power); the level cancels.
      tflat: Math.log(mp / F + floor) - (m + level),
    };
    for (const g of FEATURE_GROUPS) out[at(g, b)] = values[g];
  }
  lowBlock(window, mean, Math.log(meanPower + LOG_FLOOR), floor, out);
  return out;
}

/** The low-frequency block (feature-spec.ts), written after the band features. */
function lowBlock(window: Float32Array, dc: number, level: number, floor: number, out: Float32Array): void {
  const F = LOW_FRAMES_PER_WINDOW;
  const J = LOW_BIN_COUNT;
  const shape = new Float64Array(F * J);
  const frame = new Float64Array(LOW_FRAME_SAMPLES);
  for (let f = 0; f < F; f++) {
    const start = f * LOW_HOP_SAMPLES;
    for (let n = 0; n < LOW_FRAME_SAMPLES; n++) frame[n] = (window[start + n]! - dc) * LOW_HANN[n]!;
    for (let j = 0; j < J; j++) {
      let re = 0;
      let im = 0;
      for (let n = 0; n < LOW_FRAME_SAMPLES; n++) {
        re += frame[n]! * LOW_DFT.cos[n * J + j]!;
        im += frame[n]! * LOW_DFT.sin[n * J + j]!;
      }
      shape[f * J + j] = Math.log(re * re + im * im + floor) - level;
    }
  }
  const column = new Float64Array(F);
  const at = (g: LowFeatureGroup, j: number) => BAND_FEATURE_COUNT + LOW_FEATURE_GROUPS.indexOf(g) * J + j;
  for (let j = 0; j < J; j++) {
    let sum = 0;
    for (let f = 0; f < F; f++) sum += column[f] = shape[f * J + j]!;
    const m = sum / F;
    let sq = 0;
    for (let f = 0; f < F; f++) sq += (column[f]! - m) ** 2;
    const sorted = Float64Array.from(column).sort();
    out[at('lowMedian', j)] = sorted[LOW_MEDIAN_RANK]!;
    out[at('lowP10', j)] = sorted[LOW_P10_RANK]!;
    out[at('lowStd', j)] = Math.sqrt(sq / F + STD_FLOOR);
  }
}
