import { describe, expect, it } from 'vitest';
import type { FrameMeta } from './dataset.ts';
import type { Example, ExampleSet } from './examples.ts';
import { withoutMarginalLeaks } from './label-margin.ts';

const example = (id: string, leak: boolean, snrDb: number | null, sensorSnrDb: number | null): Example =>
  ({ meta: { id, sensorId: id, leak, audible: leak, sensorAudible: leak, snrDb, sensorSnrDb } as unknown as FrameMeta, windowStartMs: 0 }) as Example;

const set = (examples: Example[]): ExampleSet => ({
  examples,
  features: new Float32Array(examples.length),
  labels: Float32Array.from(examples, (e) => (e.meta.leak ? 1 : 0)),
  weights: new Float32Array(examples.length).fill(1),
  skipped: {},
});

describe('withoutMarginalLeaks', () => {
  const s = set([example('quiet', false, null, null), example('faint', true, 5, 1.5), example('clear', true, 1, 8), example('unknown', true, null, null)]);

  it("weighs out a context model's leaks whose sensor hears them under the margin on a quiet night, nothing else", () => {
    const { set: out, dropped } = withoutMarginalLeaks(s, 3, true);
    expect(Array.from(out.weights)).toEqual([1, 0, 1, 1]);
    expect(dropped).toBe(1);
    expect(out.labels).toBe(s.labels);
  });

  it("judges a window model's leaks by the frame's own SNR", () => {
    expect(Array.from(withoutMarginalLeaks(s, 3, false).set.weights)).toEqual([1, 1, 0, 1]);
  });

  it('keeps weights already 0 and counts only those it drops', () => {
    const zero = { ...s, weights: Float32Array.of(1, 0, 1, 1) };
    const { set: out, dropped } = withoutMarginalLeaks(zero, 3, true);
    expect(Array.from(out.weights)).toEqual([1, 0, 1, 1]);
    expect(dropped).toBe(0);
  });
});
