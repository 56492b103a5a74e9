/**
 * Seeded pseudo-random numbers. Every stream is derived from the scenario
 * seed and a path of labels (a device id, a day, a purpose), so a device's
 * data depends only on the seed and its own labels: adding a meter, running
 * longer or drawing more faults never changes what another device sends.
 *
 * The generator is xoshiro128** (Blackman & Vigna), seeded through
 * splitmix32: small state, 32-bit integer arithmetic only, so the sequence is
 * the same on every platform and Node version.
 */
export interface Rng {
  /** Uniform in [0, 1), 32 bits of resolution. */
  next(): number;
  /** Uniform 32-bit unsigned integer. */
  uint32(): number;
  /** Fills `out` with the next `out.length` uint32 values: the same numbers `uint32()` would give, in bulk. */
  fill(out: Uint32Array): Uint32Array;
}

export type StreamLabel = string | number;

/** A generator for the stream named by `labels` under `seed`. */
export function createRng(seed: number, ...labels: readonly StreamLabel[]): Rng {
  let h = mix32(seed >>> 0);
  for (const label of labels) h = mix32(h ^ hashLabel(label));
  return xoshiro128(h);
}

function xoshiro128(seed: number): Rng {
  // splitmix32 spreads one 32-bit seed over the 128-bit state; an all-zero
  // state would stick at zero, which splitmix32 cannot produce for 4 words.
  let sm = seed >>> 0;
  const split = (): number => {
    sm = (sm + 0x9e3779b9) >>> 0;
    let z = sm;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = split();
  let b = split();
  let c = split();
  let d = split();
  const uint32 = (): number => {
    const result = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    const t = b << 9;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 11);
    return result;
  };
  const fill = (out: Uint32Array): Uint32Array => {
    // The generator's step inlined, with its state in locals: noise synthesis draws millions a second.
    let [w, x, y, z] = [a, b, c, d];
    for (let i = 0; i < out.length; i++) {
      out[i] = Math.imul(rotl(Math.imul(x, 5), 7), 9) >>> 0;
      const t = x << 9;
      y ^= w;
      z ^= x;
      x ^= y;
      w ^= z;
      y ^= t;
      z = rotl(z, 11);
    }
    [a, b, c, d] = [w, x, y, z];
    return out;
  };
  return { uint32, next: () => uint32() / 4_294_967_296, fill };
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** murmur3's finaliser: every input bit affects every output bit. */
function mix32(x: number): number {
  let h = x >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function hashLabel(label: StreamLabel): number {
  if (typeof label === 'number') {
    // Day indexes and epoch milliseconds exceed 32 bits; fold both halves in.
    const hi = Math.floor(label / 4_294_967_296);
    return mix32((label >>> 0) ^ mix32(hi ^ 0x5bd1e995));
  }
  // FNV-1a over UTF-16 code units; tagged so that "1" and 1 differ.
  let h = 0x811c9dc5;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193);
  return mix32(h ^ 0x27d4eb2f);
}
