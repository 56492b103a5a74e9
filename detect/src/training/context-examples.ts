import { FEATURE_COUNT } from '../model/feature-spec.ts';
import { CONTEXT_FEATURE_COUNT, CONTEXT_ROWS, contextRows, joinsContext, referenceContextFeatures } from '../model/sensor-context.ts';
import { featureWidth, type Example, type ExampleSet } from './examples.ts';

/**
 * A window set as a context model sees it (model/sensor-context.ts): each
 * example's features become the order statistics over it and its sensor's
 * previous windows, filled as the detector fills them (contextRows, and only
 * windows spaced as joinsContext spaces them), so training sees the start of
 * a sensor's history, and a contiguous recording, as the detector does.
 *
 * Labels are the sensor's: a leak the sensor hears on a quiet night
 * (`sensorAudible`) is 1 in every window, including a window a passing truck
 * drowned, because the context is what is scored; a leak it cannot hear is
 * left out (weight 0), as the window model leaves out inaudible windows.
 *
 * `stride` keeps every stride-th window of each sensor (neighbouring
 * contexts share all but one window, so training loses little and the set
 * shrinks by the stride); evaluation uses every window.
 */
export function contextExamples(set: ExampleSet, opts: { stride?: number } = {}): ExampleSet {
  if (featureWidth(set) !== FEATURE_COUNT) throw new Error(`context examples are built from window features (${FEATURE_COUNT} per example)`);
  const stride = opts.stride ?? 1;
  if (!Number.isInteger(stride) || stride < 1) throw new RangeError('stride must be a whole number >= 1');
  const bySensor = new Map<string, number[]>();
  set.examples.forEach((e, i) => {
    const list = bySensor.get(e.meta.sensorId);
    if (list) list.push(i);
    else bySensor.set(e.meta.sensorId, [i]);
  });
  const kept: number[] = [];
  const rows: Float32Array[] = [];
  const row = (i: number) => set.features.subarray(i * FEATURE_COUNT, (i + 1) * FEATURE_COUNT);
  for (const list of bySensor.values()) {
    // In time order, whatever order the set holds them in.
    list.sort((a, b) => set.examples[a]!.windowStartMs - set.examples[b]!.windowStartMs);
    const joined: Float32Array[] = [];
    let lastJoinedMs: number | undefined;
    list.forEach((i, pos) => {
      if ((pos + 1) % stride === 0) {
        kept.push(i);
        rows.push(referenceContextFeatures([row(i), ...contextRows(joined.slice(-CONTEXT_ROWS), row(i))]));
      }
      const startMs = set.examples[i]!.windowStartMs;
      if (joinsContext(lastJoinedMs, startMs)) {
        joined.push(row(i));
        lastJoinedMs = startMs;
      }
    });
  }
  // Back in the set's own order, so evaluation lines scores up with examples.
  const order = kept.map((_, k) => k).sort((a, b) => kept[a]! - kept[b]!);
  const examples: Example[] = order.map((k) => set.examples[kept[k]!]!);
  const features = new Float32Array(order.length * CONTEXT_FEATURE_COUNT);
  order.forEach((k, dst) => features.set(rows[k]!, dst * CONTEXT_FEATURE_COUNT));
  return {
    examples,
    features,
    labels: Float32Array.from(examples, (e) => (e.meta.leak && e.meta.sensorAudible ? 1 : 0)),
    weights: Float32Array.from(examples, (e) => (e.meta.leak && !e.meta.sensorAudible ? 0 : 1)),
    skipped: set.skipped,
  };
}
