import type { LeakModel } from '../model/leak-model.ts';
import type { Window } from './windower.ts';

/**
 * Scores windows in batches through one model session: every 1 s part of
 * every window (from any number of sensors) goes into one ONNX Runtime run
 * of up to `maxBatch` rows; a window's score is the mean of its parts.
 *
 * 32 rows per run measured best on 2 cores (ONNX Runtime 1.30, one
 * intra-op thread): ~2.8x one row per run, while 512 rows fell back to
 * ~0.9x as the [batch, 30, 256] intermediates outgrow the caches.
 */
export const DEFAULT_MAX_BATCH = 32;

export async function scoreWindows(model: LeakModel, windows: readonly Window[], maxBatch = DEFAULT_MAX_BATCH): Promise<number[]> {
  const parts = windows.flatMap((w) => w.parts);
  const partScores = new Float32Array(parts.length);
  for (let at = 0; at < parts.length; at += maxBatch) {
    partScores.set(await model.score(parts.slice(at, at + maxBatch)), at);
  }
  return meanOfParts(windows, partScores);
}

/** A window's score from its 1 s parts' scores (all windows' parts in order): their mean. */
export function meanOfParts(windows: readonly Window[], partScores: ArrayLike<number>): number[] {
  let p = 0;
  return windows.map((w) => {
    let sum = 0;
    for (let i = 0; i < w.parts.length; i++) sum += partScores[p++]!;
    return sum / w.parts.length;
  });
}
