import type { PipeMaterial } from '@suido/ingest';
import { correlatePairs, placeLeak } from './pair-correlation.ts';

/**
 * Speed of the fluid-borne wave in a water-filled main of each material at
 * its usual wall, m/s: Korteweg's c = c_w / √(1 + 2·K·r / (E·e)), with
 * water's c_w ≈ 1,480 m/s and K ≈ 2.2 GPa, each material's modulus E and
 * radius-over-wall r/e (DOMAIN.md gives ~1,100–1,400 in iron, ~400–500 in
 * PVC). A pipe's own may differ by several per cent (its wall, its age):
 * crews measure it on site where they can (a tap test), hence
 * `--wave-speed-ms`.
 */
export const NOMINAL_WAVE_SPEED_MS: Readonly<Record<PipeMaterial, number>> = {
  ductile_iron: 1331,
  cast_iron: 1314,
  steel: 1291,
  asbestos_cement: 1016,
  pvc: 430,
  pe: 365,
};

/**
 * The band a pair is correlated in, Hz, by the main's material: where a
 * leak's noise is (DOMAIN.md: metal mains mostly ~200–1,500 Hz, plastic
 * below ~200–300; asbestos cement between), so that bins holding only each
 * sensor's own noise do not dilute the peak. Correlators let their users
 * set such filters; these are ours. The number of independent lags in the
 * band, not the recorder's rate, then sets how high two unrelated
 * recordings peak, so one threshold holds across rates.
 */
export const LEAK_BAND_HZ: Readonly<Record<PipeMaterial, readonly [number, number]>> = {
  ductile_iron: [100, 1500],
  cast_iron: [100, 1500],
  steel: [100, 1500],
  asbestos_cement: [50, 800],
  pvc: [10, 300],
  pe: [10, 300],
};

/** How near, m, a peak may place a source to a sensor or a mapped PRV or pump and still be taken for it, not a leak. */
export const KNOWN_SOURCE_M = 10;

/**
 * The peak-over-mean ratio, in the leak band, above which a pair is called
 * a leak: chosen by `npm run pairs -w detect` on the validation split of
 * 1,000 simulated pairs (seed 34: four nights of twelve 1 s frames, each
 * night's frames correlated together as the live correlator does; valves
 * and pumps on the main shared and mapped) at 1 false pair-night per 100
 * quiet ones; on the test split it called 4 of 352 quiet pair-nights and 35
 * of 47 audible leak pairs, each placed within 10 m (detect/README.md, "In
 * the live system"). Two unrelated recordings give about 3–5.6 in the band.
 */
export const PAIR_RATIO_THRESHOLD = 5.79;

/** Lags a little beyond the spacing: the peak of a leak at a sensor sits at the stretch's edge. */
const LAG_MARGIN = 1.05;

/**
 * The lags where a peak is a known source, not a leak between the sensors:
 * a mapped PRV or pump (along the main from sensor a, m) placed within
 * `nearM` of where it stands, and the stretch's edges (a source at or
 * beyond a sensor: a pump down the street, a valve behind it) within
 * `nearM` of either sensor. A leak that close to a sensor or a valve is lost
 * to the pair; the sensor's own model still hears it.
 */
export function knownSourceLags(spacingM: number, waveSpeedMs: number, sourcesM: readonly number[], nearM = KNOWN_SOURCE_M): [number, number][] {
  // Placed at p from a ⇔ lag (D − 2p)/c: ±nearM in position is ±2·nearM / c in lag.
  const halfWidth = (2 * nearM) / waveSpeedMs;
  const edge = (spacingM - 2 * nearM) / waveSpeedMs;
  const out: [number, number][] = [
    [edge, Number.POSITIVE_INFINITY],
    [Number.NEGATIVE_INFINITY, -edge],
  ];
  for (const p of sourcesM) {
    const lag = (spacingM - 2 * Math.min(spacingM, Math.max(0, p))) / waveSpeedMs;
    out.push([lag - halfWidth, lag + halfWidth]);
  }
  return out;
}

export interface PairGeometry {
  /** Along the main from sensor a to sensor b, m. */
  readonly spacingM: number;
  /** The main's: its leak band (LEAK_BAND_HZ). */
  readonly material: PipeMaterial;
  readonly waveSpeedMs: number;
  /** Mapped PRVs and pumps on the main, m along it from sensor a (negative: beyond a). */
  readonly sourcesM?: readonly number[] | undefined;
  /** Default PAIR_RATIO_THRESHOLD. */
  readonly threshold?: number | undefined;
}

/** What a correlator says of two recordings made in step. */
export interface PairVerdict {
  /** How much later b hears the strongest shared sound than a, s (negative: b first). */
  readonly lagS: number;
  /** The GCC-PHAT peak over the mean within the lags the spacing allows, known sources left out. */
  readonly ratio: number;
  readonly threshold: number;
  /** ratio > threshold: a sound both sensors share, between them, that no mapped source explains. */
  readonly leak: boolean;
  /** Where the peak places it: m along the main from sensor a, and from sensor b. */
  readonly fromAM: number;
  readonly fromBM: number;
  /**
   * How far the true place may be from it, m, by the lag's one-sample step
   * and a wave speed off by 5 % (c/(2·fs) + 0.05·c·|τ|/2).
   */
  readonly withinM: number;
}

/** The shortest recording a pair is judged on, s: a shorter one gives too few independent lags for its ratio to mean anything. */
export const MIN_PAIR_SECONDS = 1;

/**
 * Judges two recordings of one length, rate and instant (a correlator's
 * pair) as `npm run pairs` measured it: GCC-PHAT in the material's leak band
 * within ±1.05 × spacing / wave speed, known sources left out, called above
 * the threshold, the peak placed along the main.
 */
export function judgePair(a: Float32Array, b: Float32Array, sampleRateHz: number, geometry: PairGeometry): PairVerdict {
  return judgePairRecordings([{ a, b }], sampleRateHz, geometry);
}

/**
 * judgePair over several pairs of recordings made in step at one rate (a
 * night's frames of two loggers): their cross-spectra summed
 * (correlatePairs), judged as one.
 */
export function judgePairRecordings(recordings: readonly { readonly a: Float32Array; readonly b: Float32Array }[], sampleRateHz: number, geometry: PairGeometry): PairVerdict {
  const { spacingM, waveSpeedMs } = geometry;
  if (!(spacingM > 2 * KNOWN_SOURCE_M)) throw new RangeError(`a pair's sensors must be more than ${2 * KNOWN_SOURCE_M} m apart along the main, got ${spacingM}`);
  if (!(waveSpeedMs > 0)) throw new RangeError(`the wave speed must be positive, got ${waveSpeedMs}`);
  const threshold = geometry.threshold ?? PAIR_RATIO_THRESHOLD;
  const r = correlatePairs(recordings, sampleRateHz, (spacingM / waveSpeedMs) * LAG_MARGIN, knownSourceLags(spacingM, waveSpeedMs, geometry.sourcesM ?? []), LEAK_BAND_HZ[geometry.material]);
  const fromAM = placeLeak(spacingM, waveSpeedMs, r.lagS);
  return {
    lagS: r.lagS,
    ratio: r.ratio,
    threshold,
    leak: r.ratio > threshold,
    fromAM,
    fromBM: spacingM - fromAM,
    withinM: waveSpeedMs / (2 * sampleRateHz) + (0.05 * waveSpeedMs * Math.abs(r.lagS)) / 2,
  };
}
