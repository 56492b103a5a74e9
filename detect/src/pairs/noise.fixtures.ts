/**
 * Reproducible near-Gaussian noise for the pair tests (a sum of four
 * uniforms from mulberry32): a plain LCG's interleaved draws are correlated
 * enough to fake a sound two sensors share.
 */
export function noiseStream(seed: number): () => number {
  let s = seed >>> 0;
  const uniform = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  return () => uniform() + uniform() + uniform() + uniform() - 2;
}
