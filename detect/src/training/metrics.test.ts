import { describe, expect, it } from 'vitest';
import { persistenceScore } from './evaluation.ts';
import { confusionAt, persists, rocAuc } from './metrics.ts';

describe('metrics', () => {
  it('ROC-AUC: perfect, inverted, chance and ties', () => {
    expect(rocAuc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1])).toBe(1);
    expect(rocAuc([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1])).toBe(0);
    expect(rocAuc([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1])).toBe(0.5);
    expect(rocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBe(0.75);
    expect(rocAuc([0.1, 0.2], [1, 1])).toBeNaN();
  });
  it('confusion at a threshold', () => {
    expect(confusionAt([0.2, 0.6, 0.7, 0.4], [0, 0, 1, 1], 0.5)).toEqual({ tp: 1, fp: 1, tn: 1, fn: 1, precision: 0.5, recall: 0.5, f1: 0.5 });
  });
  it('persistence: k of the last n windows, and the score at which it fires', () => {
    const s = [0.9, 0.1, 0.9, 0.1, 0.9, 0.1, 0.1, 0.1];
    expect(persists(s, 0.5, 3, 5)).toBe(true);
    expect(persists(s, 0.5, 3, 4)).toBe(false);
    expect(persists([0.9, 0.9], 0.5, 3, 4)).toBe(false);
    expect(persistenceScore(s, { k: 3, n: 5 })).toBeCloseTo(0.9);
    expect(persistenceScore(s, { k: 3, n: 4 })).toBeCloseTo(0.1);
    // "k of n fires at threshold t" iff t <= persistenceScore
    for (const t of [0.05, 0.1, 0.5, 0.9, 0.95]) expect(persists(s, t, 3, 4)).toBe(t <= persistenceScore(s, { k: 3, n: 4 }));
  });
});
