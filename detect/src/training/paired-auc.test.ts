import { describe, expect, it } from 'vitest';
import { rocAuc } from './metrics.ts';
import { pairedAucDifference } from './paired-auc.ts';
import { seededRandom } from './seeded-random.ts';

/** Recordings whose score is the label plus noise: `noise` sets how well a model ranks them. */
function scores(labels: readonly number[], noise: number, seed: number): number[] {
  const r = seededRandom(seed);
  return labels.map((y) => y + noise * (r() + r() + r() - 1.5));
}

describe('pairedAucDifference', () => {
  const labels = Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? 1 : 0));

  it('gives each model its ROC-AUC and an interval that holds their difference', () => {
    const a = scores(labels, 1.2, 1);
    const b = scores(labels, 2.5, 2);
    const p = pairedAucDifference(a, b, labels, { draws: 500 });
    expect(p.aucA).toBe(rocAuc(a, labels));
    expect(p.aucB).toBe(rocAuc(b, labels));
    expect(p.difference).toBeCloseTo(p.aucA - p.aucB, 12);
    expect(p.low).toBeLessThan(p.difference);
    expect(p.high).toBeGreaterThan(p.difference);
    // The better ranker is better beyond the draw of recordings.
    expect(p.low).toBeGreaterThan(0);
    expect(p.draws).toBe(500);
  });

  it('puts zero inside the interval for two models that rank alike, and narrows it as the models agree', () => {
    const a = scores(labels, 1.5, 3);
    const b = scores(labels, 1.5, 4);
    const apart = pairedAucDifference(a, b, labels, { draws: 500 });
    expect(apart.low).toBeLessThan(0);
    expect(apart.high).toBeGreaterThan(0);
    // B is A with a little noise of its own: the same recordings right and wrong, so the interval is much narrower.
    const r = seededRandom(5);
    const near = pairedAucDifference(a, a.map((s) => s + 0.05 * (r() - 0.5)), labels, { draws: 500 });
    expect(near.high - near.low).toBeLessThan((apart.high - apart.low) / 3);
  });

  it('is the same for the same seed, and refuses scores that are not paired or one class alone', () => {
    const a = scores(labels, 1, 6);
    const b = scores(labels, 1.3, 7);
    expect(pairedAucDifference(a, b, labels, { draws: 200, seed: 9 })).toEqual(pairedAucDifference(a, b, labels, { draws: 200, seed: 9 }));
    expect(() => pairedAucDifference(a, b.slice(1), labels)).toThrow(/one score a recording/);
    expect(() => pairedAucDifference([0.1, 0.2], [0.3, 0.4], [1, 1])).toThrow(/with and without a leak/);
  });
});
