/**
 * `train.ts --features-only I/N`: the feature cache filled by N processes at
 * once, each taking its share of the dataset splits, so that the heads
 * trained after it (one process each) all start from the cache. Features are
 * most of a first run's time and one process uses one core.
 */
export interface FeatureShard {
  /** 0-based. */
  readonly index: number;
  readonly count: number;
}

/** "I/N" (1-based I, as a person counts shards) → a shard; a RangeError that says why otherwise. */
export function parseFeatureShard(text: string): FeatureShard {
  const match = /^(\d+)\/(\d+)$/.exec(text);
  const index = Number(match?.[1]) - 1;
  const count = Number(match?.[2]);
  if (!match || !(count >= 1) || !(index >= 0 && index < count)) throw new RangeError(`--features-only wants I/N with 1 <= I <= N (e.g. 1/2), got '${text}'`);
  return { index, count };
}

/**
 * Job indices per shard, each shard's total weight as even as a greedy
 * longest-first share makes it (the heaviest job goes to the lightest shard).
 * Every process computes the same share from the same weights, so they agree
 * on who does what without talking.
 */
export function shareOut(weights: readonly number[], shards: number): number[][] {
  const out: number[][] = Array.from({ length: shards }, () => []);
  const load = new Array<number>(shards).fill(0);
  const order = weights.map((w, i) => [w, i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [w, i] of order) {
    const lightest = load.indexOf(Math.min(...load));
    out[lightest]!.push(i);
    load[lightest]! += w;
  }
  return out.map((jobs) => jobs.sort((a, b) => a - b));
}
