import { createRng, type Rng } from '../random/prng.ts';
import { drawAcousticSite, type AcousticSite, type SiteOptions } from './acoustic-site.ts';
import type { LeakSource } from './leak/leak-noise.ts';
import type { NightConditions } from './night-conditions.ts';
import { renderSensorFrame, type SensorFrame } from './sensor-frame.ts';

/**
 * Two sensors on one main, `spacingM` apart along it: a leak noise
 * correlator's pair (DOMAIN.md, "Localisation"). They listen to the same
 * pipe (material and segment), record at one rate, and each keeps its own
 * device, surroundings and local noise. A leak between or beside them is one
 * source heard twice: the same sound, along the pipe to each, arriving at
 * each after its own distance over the pipe's wave speed. So the pair's
 * recordings are coherent in the leak's band, where a sensor's own
 * background is not — what tells a leak from a louder night at one sensor
 * (detect/README.md, "S-0003"). What this does not render yet: a pump or
 * PRV on the same main is a point source too, heard by both; here each
 * sensor's confounders are its own, so a pair's coherence without a leak is
 * lower than such a main would give.
 */
export interface SensorPair {
  readonly a: AcousticSite;
  readonly b: AcousticSite;
  /** Along the main from a to b, m. */
  readonly spacingM: number;
}

/** Correlating loggers are spaced along a main 100–300 m apart on metal, closer on plastic, where leak noise fades fast. */
export const PAIR_SPACING_M = { metal: [100, 300], plastic: [40, 120] } as const;

export function drawSensorPair(rng: Rng, opts: SiteOptions & { readonly spacingM?: number } = {}): SensorPair {
  const seed = rng.uint32();
  const a = drawAcousticSite(createRng(seed, 'a'), opts);
  // The second sensor: on the same main, recording at the first one's rate.
  const drawnB = drawAcousticSite(createRng(seed, 'b'), { ...opts, material: a.material, sampleRateHz: a.hardware.sampleRateHz });
  const b: AcousticSite = { ...drawnB, pipe: a.pipe };
  const [lo, hi] = a.material === 'pvc' || a.material === 'pe' ? PAIR_SPACING_M.plastic : PAIR_SPACING_M.metal;
  const spacingM = opts.spacingM ?? lo + (hi - lo) * createRng(seed, 'spacing').next();
  return { a, b, spacingM };
}

/** A leak on the pair's main, `positionM` along it from sensor a (between the two when 0 ≤ position ≤ spacing). */
export interface PairLeak {
  readonly leak: LeakSource;
  readonly positionM: number;
}

export interface PairFrameRequest {
  readonly startMs: number;
  readonly sampleCount: number;
  /** Each sensor's night; the leak's night-to-night pressure shift (leakDb) and the rain are a's for both. */
  readonly nights: { readonly a: NightConditions; readonly b: NightConditions };
  readonly leaks: readonly PairLeak[];
}

export interface PairFrame {
  readonly a: SensorFrame;
  readonly b: SensorFrame;
  /**
   * How much later the leak's sound reaches b than a, s (negative: b hears
   * it first): (distance to b − distance to a) / wave speed, what a
   * correlator's cross-correlation peak measures. Null without a leak.
   */
  readonly leakLagS: number | null;
}

/**
 * Renders one frame at both sensors, recorded at the same instant (correlating loggers record in step).
 * The pair's leaks are drawn from one stream (`rng`'s first draw): rendered alone, each sensor's frame is as
 * renderSensorFrame would give it with that leak at its distance, but the two share the leak's sound.
 */
export function renderPairFrame(pair: SensorPair, request: PairFrameRequest, rng: Rng): PairFrame {
  const sharedSeed = rng.uint32();
  const rngA = createRng(sharedSeed, 'a');
  const rngB = createRng(sharedSeed, 'b');
  const c = pair.a.pipe.waveSpeedMs;
  const fs = pair.a.hardware.sampleRateHz;
  const distances = request.leaks.map((l) => ({ a: Math.abs(l.positionM), b: Math.abs(pair.spacingM - l.positionM) }));
  // One delay for the pair's leaks together: a pair hears one leak at a time in practice; with several, the first sets it.
  const lag = distances.length > 0 ? (distances[0]!.b - distances[0]!.a) / c : null;
  const at = (d: (x: { a: number; b: number }) => number): LeakSource[] => request.leaks.map((l, i) => ({ ...l.leak, distanceM: d(distances[i]!) }));
  const nightB: NightConditions = { ...request.nights.b, leakDb: request.nights.a.leakDb, rainIntensity: request.nights.a.rainIntensity };
  const shared = (delayS: number) => (lag === null ? undefined : { seed: sharedSeed, delaySamples: delayS * fs });
  const a = renderSensorFrame(pair.a, { startMs: request.startMs, sampleCount: request.sampleCount, night: request.nights.a, leaks: at((d) => d.a), sharedLeaks: shared(Math.max(0, -(lag ?? 0))) }, rngA);
  const b = renderSensorFrame(pair.b, { startMs: request.startMs, sampleCount: request.sampleCount, night: nightB, leaks: at((d) => d.b), sharedLeaks: shared(Math.max(0, lag ?? 0)) }, rngB);
  return { a, b, leakLagS: lag };
}
