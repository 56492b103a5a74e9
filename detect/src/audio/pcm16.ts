/**
 * 16-bit PCM as stored (frames, hand-held clips) to samples at full scale ±1.
 * A plain loop: `Float32Array.from(pcm, fn)` goes through the iterator
 * protocol and took 25 times as long, a third of the detector's time per
 * window (bench/detector.bench.ts).
 */
export function fromPcm16(pcm: Int16Array): Float32Array {
  const out = new Float32Array(pcm.length);
  for (let i = 0; i < pcm.length; i++) out[i] = pcm[i]! / 32768;
  return out;
}
