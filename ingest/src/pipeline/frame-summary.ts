import type { FrameSummary } from '../store/store.ts';

/**
 * Level and clipping of a frame, kept after its PCM is pruned: the minimum
 * night level over weeks is how noise loggers judge a leak (DOMAIN.md).
 */
export function summariseFrame(samples: Int16Array): FrameSummary {
  // The level is of the sound, so the ADC's DC offset is removed first.
  let mean = 0;
  for (let i = 0; i < samples.length; i++) mean += samples[i]!;
  mean /= samples.length;
  let sumSquares = 0;
  let clipped = 0;
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    sumSquares += (s - mean) * (s - mean);
    if (s >= 32767 || s <= -32768) clipped++;
  }
  const rms = Math.sqrt(sumSquares / samples.length);
  // Digital silence has no level; floor it at the 16-bit noise floor (-96 dBFS)
  // rather than -Infinity, which no JSON or database carries.
  const rmsDbfs = rms > 0 ? Math.max(-96, 20 * Math.log10(rms / 32768)) : -96;
  return { rmsDbfs: Math.round(rmsDbfs * 100) / 100, clippedRatio: clipped / samples.length };
}
