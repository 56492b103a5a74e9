import { framePcm, type FrameMeta, type SplitData } from './dataset.ts';
import type { Example } from './examples.ts';
import { nights, type NightOutcome } from './evaluation.ts';

/**
 * The rule noise loggers use (DOMAIN.md): a leak keeps the *minimum* night
 * noise level high, and steady, so the night's level spread is small;
 * traffic raises the maximum, not the minimum. Level here is the frame's
 * broadband RMS with the sensor's gain removed (dB re full scale at 0 dB
 * gain), as a calibrated logger reports it.
 *
 * Night score = L_min − alpha · spread, where spread = L_p90 − L_min; alpha
 * and the threshold are fitted on the validation split, as the model's are.
 */
export function frameLevelDb(data: SplitData, meta: FrameMeta): number {
  const pcm = framePcm(data, meta);
  // Remove the DC offset first: a sensor's ADC offset is not sound.
  let mean = 0;
  for (let i = 0; i < pcm.length; i++) mean += pcm[i]!;
  mean /= Math.max(pcm.length, 1);
  let sq = 0;
  for (let i = 0; i < pcm.length; i++) sq += (pcm[i]! - mean) ** 2;
  const rms = Math.sqrt(sq / Math.max(pcm.length, 1)) / 32768;
  return 20 * Math.log10(Math.max(rms, 1e-7)) - meta.gainDb;
}

export function baselineNights(examples: readonly Example[], levels: ReadonlyMap<string, number>, alpha: number): NightOutcome[] {
  const perWindow = examples.map((e) => levels.get(e.meta.id)!);
  return nights(examples, perWindow, (ls) => {
    const sorted = [...ls].sort((a, b) => a - b);
    const min = sorted[0]!;
    const p90 = sorted[Math.min(sorted.length - 1, Math.floor(0.9 * sorted.length))]!;
    return min - alpha * (p90 - min);
  });
}

export const BASELINE_ALPHAS = [0, 0.25, 0.5, 1, 2] as const;

export function frameLevels(data: SplitData): Map<string, number> {
  return new Map(data.frames.map((m) => [m.id, frameLevelDb(data, m)]));
}
