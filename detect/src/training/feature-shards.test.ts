import { describe, expect, it } from 'vitest';
import { parseFeatureShard, shareOut } from './feature-shards.ts';

describe('feature shards', () => {
  it('reads I/N, counting from 1, and refuses anything else', () => {
    expect(parseFeatureShard('1/2')).toEqual({ index: 0, count: 2 });
    expect(parseFeatureShard('3/3')).toEqual({ index: 2, count: 3 });
    for (const bad of ['0/2', '3/2', '1', 'a/b', '1/0', '']) expect(() => parseFeatureShard(bad), bad).toThrow(RangeError);
  });

  it('gives every job to exactly one shard, the loads near even', () => {
    // A 2,000-sensor training split beside validation splits and recordings, as the shipped run has them.
    const weights = [79_000, 17_000, 17_000, 24_000, 96_000, 96_000, 96_000, 60_000, 30_000, 5_000];
    const shards = shareOut(weights, 2);
    expect(shards.flat().sort((a, b) => a - b)).toEqual(weights.map((_, i) => i));
    const loads = shards.map((s) => s.reduce((sum, i) => sum + weights[i]!, 0));
    expect(Math.abs(loads[0]! - loads[1]!)).toBeLessThanOrEqual(Math.max(...weights) / 2);
    expect(shareOut(weights, 1)).toEqual([weights.map((_, i) => i)]);
    expect(shareOut([5], 3)).toEqual([[0], [], []]);
  });
});
