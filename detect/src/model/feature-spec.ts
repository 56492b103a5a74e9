/**
 * The leak model's input and its spectral features, defined once. Both the
 * ONNX graph (serving) and the reference implementation (training) are built
 * from these constants, and a test holds them to each other.
 *
 * Why these numbers:
 * - 4 kHz: leak energy lies below ~1.5 kHz in metal mains and below ~300 Hz in
 *   plastic ones (DOMAIN.md), so a 2 kHz Nyquist keeps all of it; every device
 *   we expect (hand-held loggers 4–8 kHz, field sensors up to ~10 kHz,
 *   hydrophones) records at 4 kHz or more, so we only ever low-pass and
 *   downsample, never invent a band a device did not record.
 * - 1 s windows: frames from field sensors are ~1 s; leak hiss is steady over
 *   a second, traffic and footsteps are not, so a second holds both the level
 *   and its steadiness.
 * - 256-sample frames (64 ms, 15.6 Hz bins), hop 128: resolves 60 Hz mains
 *   hum from its harmonics and the plastic-pipe leak band from rumble.
 * - 24 bands on the ERB scale from 30 to 1,950 Hz: fine at low frequency
 *   (plastic pipes, hum), coarser above (metal-pipe hiss is broadband).
 */
export const MODEL_SAMPLE_RATE_HZ = 4000;

/**
 * What is done to the audio before the graph sees it, beyond resampling and
 * the 12 Hz high-pass every model has (stream/windower.ts). A model is
 * trained with one front end and must be served with the same one, so the
 * model file names it (metadata `mains_line_share`, LeakModel.info.frontEnd).
 */
export interface FrontEnd {
  /**
   * Mains lines carrying this share of a 1 s window's power or more are taken
   * out (audio/mains-lines.ts); 0 leaves them in.
   */
  readonly minLineShare: number;
}

/** High-pass only: the front end of every model trained before mains lines were taken out. */
export const PLAIN_FRONT_END: FrontEnd = { minLineShare: 0 };
export const WINDOW_SAMPLES = 4000;
export const FRAME_SAMPLES = 256;
export const HOP_SAMPLES = 128;
export const FRAMES_PER_WINDOW = Math.floor((WINDOW_SAMPLES - FRAME_SAMPLES) / HOP_SAMPLES) + 1;
export const SPECTRUM_BINS = FRAME_SAMPLES / 2 + 1;
export const BAND_COUNT = 24;
export const BAND_LOW_HZ = 30;
export const BAND_HIGH_HZ = 1950;
/** Absolute floor under power before the log: keeps a silent window finite. */
export const LOG_FLOOR = 1e-10;
/**
 * Relative floor under power before the log, as a share of the window's mean
 * bin power (−60 dB). It keeps the features level-invariant (an absolute floor
 * would treat a quiet uncalibrated recording differently from a loud one) and
 * keeps bins the resampler's anti-alias filter emptied from turning float32
 * rounding into large log differences between the graph and the reference.
 */
export const RELATIVE_FLOOR = 1e-6;
/** Under the variance before its square root: keeps a perfectly steady band finite. */
export const STD_FLOOR = 1e-6;
/**
 * Per band, over the window's 30 frames of level-normalised log band power:
 * - mean, std: the band's level and how much it moves;
 * - p10 (3rd smallest of 30), median (15th smallest): the floor under
 *   transients, as a noise logger's minimum, but one click or dropout cannot
 *   set it the way it sets the minimum;
 * - sflat: spectral flatness within the band (log of arithmetic over geometric
 *   mean of its bins' power), mean over frames: ~0.6 for steady broadband hiss
 *   in a band, larger for a tone (hum, pump lines, squeal) standing in it;
 * - tflat: log of the mean power over frames minus the mean log power: ~0.6
 *   for steady Gaussian noise, large when a pass or a burst dominates.
 * All are differences of log powers, so gain and sensitivity cancel.
 */
export const FEATURE_GROUPS = ['mean', 'std', 'p10', 'median', 'sflat', 'tflat'] as const;
export type FeatureGroup = (typeof FEATURE_GROUPS)[number];
export const BAND_FEATURE_COUNT = FEATURE_GROUPS.length * BAND_COUNT;
/** Ranks (0-based, ascending) of the order statistics over frames. */
export const P10_RANK = 2;
export const MEDIAN_RANK = 14;

/**
 * The low-frequency block: plastic mains carry leak noise only below
 * ~200–300 Hz (DOMAIN.md), where the ERB bands above are 2–4 bins of 15.6 Hz
 * wide and a hydrophone's water-column resonances, 60 Hz hum and a pump's
 * lines sit in the same bands as the leak. So 512-sample frames (128 ms,
 * 7.8 Hz bins), hop 256 (14 frames per window), and each bin from 15.6 to
 * 305 Hz kept on its own: per bin, over the frames, of the log power minus
 * log of the window's mean bin power (the level, as in the bands above):
 * - lowMedian (8th smallest of 14): the bin's steady level;
 * - lowP10 (2nd smallest): its floor under transients;
 * - lowStd: how much it moves (hiss is steady, a tram's rumble is not).
 * It bought 1.5.0 window ROC-AUC 0.894 → 0.908 and PE 0.854 → 0.891 on the
 * same sensors and data as 1.4.0, but not hydrophones on PVC, and it makes
 * the model carry over worse to a sensor type it was not trained on
 * (README, "What it does not carry over to").
 */
export const LOW_FRAME_SAMPLES = 512;
export const LOW_HOP_SAMPLES = 256;
export const LOW_FRAMES_PER_WINDOW = Math.floor((WINDOW_SAMPLES - LOW_FRAME_SAMPLES) / LOW_HOP_SAMPLES) + 1;
export const LOW_FIRST_BIN = 2;
export const LOW_BIN_COUNT = 38;
export const LOW_FEATURE_GROUPS = ['lowMedian', 'lowP10', 'lowStd'] as const;
export type LowFeatureGroup = (typeof LOW_FEATURE_GROUPS)[number];
export const LOW_MEDIAN_RANK = 7;
export const LOW_P10_RANK = 1;
export const LOW_FEATURE_COUNT = LOW_FEATURE_GROUPS.length * LOW_BIN_COUNT;
/** Features per window: the band block, then the low-frequency block. */
export const FEATURE_COUNT = BAND_FEATURE_COUNT + LOW_FEATURE_COUNT;

/** Periodic Hann window: the standard analysis window for overlapping frames. */
export function hannWindow(): Float32Array {
  const w = new Float32Array(FRAME_SAMPLES);
  for (let n = 0; n < FRAME_SAMPLES; n++) w[n] = 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / FRAME_SAMPLES);
  return w;
}

/** Real-input DFT as two matrices [FRAME_SAMPLES x SPECTRUM_BINS]: cos and −sin parts, row-major. */
export function dftMatrices(): { cos: Float32Array; sin: Float32Array } {
  const cos = new Float32Array(FRAME_SAMPLES * SPECTRUM_BINS);
  const sin = new Float32Array(FRAME_SAMPLES * SPECTRUM_BINS);
  for (let n = 0; n < FRAME_SAMPLES; n++) {
    for (let k = 0; k < SPECTRUM_BINS; k++) {
      const phase = (2 * Math.PI * ((n * k) % FRAME_SAMPLES)) / FRAME_SAMPLES;
      cos[n * SPECTRUM_BINS + k] = Math.cos(phase);
      sin[n * SPECTRUM_BINS + k] = -Math.sin(phase);
    }
  }
  return { cos, sin };
}

/** Start index of each frame in the window. */
export function frameStarts(): number[] {
  return Array.from({ length: FRAMES_PER_WINDOW }, (_, f) => f * HOP_SAMPLES);
}

/** Start index of each low-frequency block frame in the window. */
export function lowFrameStarts(): number[] {
  return Array.from({ length: LOW_FRAMES_PER_WINDOW }, (_, f) => f * LOW_HOP_SAMPLES);
}

/** Periodic Hann window of the low-frequency block's frames. */
export function lowHannWindow(): Float32Array {
  const w = new Float32Array(LOW_FRAME_SAMPLES);
  for (let n = 0; n < LOW_FRAME_SAMPLES; n++) w[n] = 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / LOW_FRAME_SAMPLES);
  return w;
}

/** DFT of the low block's bins only, as [LOW_FRAME_SAMPLES x LOW_BIN_COUNT] cos and −sin matrices, row-major. */
export function lowDftMatrices(): { cos: Float32Array; sin: Float32Array } {
  const cos = new Float32Array(LOW_FRAME_SAMPLES * LOW_BIN_COUNT);
  const sin = new Float32Array(LOW_FRAME_SAMPLES * LOW_BIN_COUNT);
  for (let n = 0; n < LOW_FRAME_SAMPLES; n++) {
    for (let j = 0; j < LOW_BIN_COUNT; j++) {
      const k = LOW_FIRST_BIN + j;
      const phase = (2 * Math.PI * ((n * k) % LOW_FRAME_SAMPLES)) / LOW_FRAME_SAMPLES;
      cos[n * LOW_BIN_COUNT + j] = Math.cos(phase);
      sin[n * LOW_BIN_COUNT + j] = -Math.sin(phase);
    }
  }
  return { cos, sin };
}

const erb = (hz: number) => 21.4 * Math.log10(1 + 0.00437 * hz);
const erbToHz = (e: number) => (10 ** (e / 21.4) - 1) / 0.00437;

/**
 * Triangular filterbank [SPECTRUM_BINS x BAND_COUNT], row-major, each band
 * normalised to unit sum so that a band's value is the mean power of its bins
 * (bands of different width stay comparable).
 */
export function bandFilterbank(): { weights: Float32Array; centresHz: number[] } {
  const lo = erb(BAND_LOW_HZ);
  const hi = erb(BAND_HIGH_HZ);
  const edges = Array.from({ length: BAND_COUNT + 2 }, (_, i) => erbToHz(lo + ((hi - lo) * i) / (BAND_COUNT + 1)));
  const binHz = MODEL_SAMPLE_RATE_HZ / FRAME_SAMPLES;
  const weights = new Float32Array(SPECTRUM_BINS * BAND_COUNT);
  for (let b = 0; b < BAND_COUNT; b++) {
    const [left, centre, right] = [edges[b]!, edges[b + 1]!, edges[b + 2]!];
    let sum = 0;
    for (let k = 0; k < SPECTRUM_BINS; k++) {
      const f = k * binHz;
      const w = f <= left || f >= right ? 0 : f <= centre ? (f - left) / (centre - left) : (right - f) / (right - centre);
      weights[k * BAND_COUNT + b] = w;
      sum += w;
    }
    if (sum === 0) {
      // A band narrower than a bin at the low end takes its nearest bin whole.
      const k = Math.round(centre / binHz);
      weights[k * BAND_COUNT + b] = 1;
      sum = 1;
    }
    for (let k = 0; k < SPECTRUM_BINS; k++) weights[k * BAND_COUNT + b]! /= sum;
  }
  return { weights, centresHz: edges.slice(1, -1) };
}
