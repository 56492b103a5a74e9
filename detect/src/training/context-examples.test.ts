import { describe, expect, it } from 'vitest';
import { FEATURE_COUNT } from '../model/feature-spec.ts';
import { CONTEXT_FEATURE_COUNT, CONTEXT_ROWS, contextRows, referenceContextFeatures } from '../model/sensor-context.ts';
import { contextExamples } from './context-examples.ts';
import type { FrameMeta } from './dataset.ts';
import type { ExampleSet } from './examples.ts';

/** One sensor's windows, a minute apart; `leakFrom` is the first window with the leak (Infinity: none). */
function sensorWindows(sensorId: string, count: number, leakFrom: number, sensorAudible = true, apartMs = 60_000): ExampleSet {
  const examples = Array.from({ length: count }, (_, i) => {
    const leak = i >= leakFrom;
    const meta = {
      id: `${sensorId}/${i}`, sensorId, night: 0, frame: i, startMs: i * apartMs, sampleRateHz: 4000, samples: 4000, offsetBytes: 0, gainDb: 0,
      material: 'ductile_iron', sensorType: 'hydrophone', environment: 'quiet_residential', daytime: false,
      leak, audible: leak ? sensorAudible : null, sensorAudible: leak ? sensorAudible : null, leakSizeLps: leak ? 0.3 : null, distanceM: leak ? 10 : null,
      ...(Number.isFinite(leakFrom) ? { leakStartMs: leakFrom * apartMs } : {}),
      snrDb: leak ? 6 : null, confounders: [], clipped: false,
    } satisfies FrameMeta;
    return { meta, windowStartMs: meta.startMs };
  });
  const features = new Float32Array(count * FEATURE_COUNT).map((_, j) => Math.floor(j / FEATURE_COUNT));
  return { examples, features, labels: new Float32Array(count), weights: new Float32Array(count).fill(1), skipped: {} };
}

describe('contextExamples', () => {
  it('labels every window of a sensor that hears its leak all along, and leaves an inaudible one out', () => {
    const heard = contextExamples(sensorWindows('S-1', 20, 0));
    expect([...heard.labels]).toEqual(Array(20).fill(1));
    expect([...heard.weights]).toEqual(Array(20).fill(1));
    expect(heard.features.length).toBe(20 * CONTEXT_FEATURE_COUNT);
    const unheard = contextExamples(sensorWindows('S-2', 20, 0, false));
    expect([...unheard.weights]).toEqual(Array(20).fill(0));
  });

  it('builds a contiguous recording\'s contexts from its spaced windows, as the detector does', () => {
    // 1 s apart: windows 0, 3, 6, … join the history (joinsContext); a window's features are its index.
    const set = contextExamples(sensorWindows('clip', 30, Infinity, true, 1000));
    const own = (k: number) => new Float32Array(FEATURE_COUNT).fill(k);
    for (const k of [1, 4, 20, 29]) {
      const joined = Array.from({ length: k }, (_, j) => j).filter((j) => j % 3 === 0).map(own);
      const expected = referenceContextFeatures([own(k), ...contextRows(joined.slice(-CONTEXT_ROWS), own(k))]);
      expect([...set.features.subarray(k * CONTEXT_FEATURE_COUNT, (k + 1) * CONTEXT_FEATURE_COUNT)], `window ${k}`).toEqual([...expected]);
    }
    // Window 29's lower median over its 12 rows (29; 0, 3, …, 27; 27 again to fill): 15. Its last eleven would give 23.
    expect(set.features[29 * CONTEXT_FEATURE_COUNT]).toBe(15);
  });

  it('keeps every stride-th window in the set order', () => {
    const set = contextExamples(sensorWindows('S-4', 9, Infinity), { stride: 3 });
    expect(set.examples.map((e) => e.meta.frame)).toEqual([2, 5, 8]);
    expect([...set.labels]).toEqual([0, 0, 0]);
  });
});
