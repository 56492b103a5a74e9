import { MODEL_SAMPLE_RATE_HZ } from '../model/feature-spec.ts';

/**
 * Training-time mains hum, added to a window independently of its label.
 *
 * The simulator hums as Hiroshima does: 60 Hz, a transformer heard by 15 %
 * of sensors, electrical pickup far under the background
 * (simulators/src/sensors/confounders/mains-hum.ts). Real recordings bring
 * more: 50 Hz from eastern Japan or abroad, a sensor on a pump station's
 * switchboard, an unshielded cable. With 2.4.2, 60 Hz and 180 Hz at three
 * times a hand-held clip's RMS took the window ROC-AUC from 0.906 to 0.733
 * (50 Hz and 150 Hz: 0.840; README, "Infrasound and hum"). So a share of training
 * sensors hear a hum of their own, and the model must find the leak beside
 * it: a few narrow lines do not make a broadband hiss. A first probe (one
 * head, share 0.3) did not bear this out: no gain on loggers and worse on
 * clips, with and without loud hum (README). The shipped training leaves it
 * off; it is here for a model whose features a strong line moves less.
 *
 * A hum is drawn per sensor (a site keeps its hum): the grid (50 or 60 Hz,
 * within ±0.1 Hz), its series — a transformer's (twice the grid frequency
 * strongest, all harmonics) or pickup's (the grid frequency and its odd
 * harmonics) — and its level against the window, −20 to +15 dB of the
 * window's RMS. Each window draws its lines' phases and a wander of ±2 dB.
 */
export interface HumSite {
  readonly gridHz: number;
  /** Multiples of gridHz and their share of the hum's power (summing to 1). */
  readonly lines: readonly { readonly multiple: number; readonly share: number }[];
  /** The hum's RMS against the window's RMS, dB. */
  readonly levelDb: number;
}

const uniform = (random: () => number, lo: number, hi: number) => lo + (hi - lo) * random();

export function drawHum(random: () => number): HumSite {
  const gridHz = (random() < 0.5 ? 50 : 60) + uniform(random, -0.1, 0.1);
  const transformer = random() < 0.5;
  const dbs = transformer
    ? // 2 × grid strongest, then the others 3–20 dB under it (magnetostriction: even and odd).
      [1, 2, 3, 4, 5, 6].map((m) => ({ multiple: m, db: m === 2 ? 0 : uniform(random, -20, -3) }))
    : // Pickup: the grid frequency, odd harmonics 5–20 dB under it.
      [1, 3, 5, 7].map((m) => ({ multiple: m, db: m === 1 ? 0 : uniform(random, -20, -5) }));
  const total = dbs.reduce((s, l) => s + 10 ** (l.db / 10), 0);
  return { gridHz, lines: dbs.map((l) => ({ multiple: l.multiple, share: 10 ** (l.db / 10) / total })), levelDb: uniform(random, -20, 15) };
}

/** The window with the site's hum added (a new array); lines at or above the model's Nyquist are left out. */
export function addHum(window: Float32Array, hum: HumSite, random: () => number): Float32Array {
  let power = 0;
  for (const v of window) power += v * v;
  const rms = Math.sqrt(power / Math.max(1, window.length));
  const humRms = rms * 10 ** ((hum.levelDb + uniform(random, -2, 2)) / 20);
  const out = Float32Array.from(window);
  for (const { multiple, share } of hum.lines) {
    const hz = hum.gridHz * multiple;
    const phase = uniform(random, 0, 2 * Math.PI);
    if (hz >= MODEL_SAMPLE_RATE_HZ / 2) continue;
    // A sine's peak is √2 its RMS.
    const amplitude = Math.SQRT2 * humRms * Math.sqrt(share);
    const step = (2 * Math.PI * hz) / MODEL_SAMPLE_RATE_HZ;
    for (let i = 0; i < out.length; i++) out[i]! += amplitude * Math.sin(phase + step * i);
  }
  return out;
}
