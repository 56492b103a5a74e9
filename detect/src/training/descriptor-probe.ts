import { PIPE_MATERIALS } from '@suido/ingest';
import type { Thresholds } from '../model/operating-point.ts';
import { chooseOperatingPoint, nightReport, nights, persistenceScore, type Persistence, type SeparateGroups } from './evaluation.ts';
import { featureWidth, type ExampleSet } from './examples.ts';
import { fitLeakModel, type FitOptions } from './fit.ts';
import { rocAuc } from './metrics.ts';

/**
 * Would a head told what it listens to find more? The heads hear one
 * window and its sensor's context, never the main's material or the
 * sensor's type, and a steep low spectrum means a leak on PVC and a pump
 * or a tram on ductile iron; second stages and thresholds that add the
 * material after the heads moved the totals by 0.03 at most (detect/README,
 * "Levers measured in session 20", "First nights"). This trains one head
 * more with the same options on the same windows, each window's features
 * followed by DESCRIPTOR_COLUMNS (the registry holds both), and measures it
 * beside the run's own head on the test split. A probe: nothing serves
 * descriptors (the graph has no such input).
 */
export const DESCRIPTOR_COLUMNS: readonly string[] = [...PIPE_MATERIALS.map((m) => `material:${m}`), 'sensorType:hydrophone'];

/** A set's features with the descriptor columns after each row's own. */
export function withDescriptors(set: ExampleSet): ExampleSet {
  const width = featureWidth(set);
  const out = width + DESCRIPTOR_COLUMNS.length;
  const features = new Float32Array(set.examples.length * out);
  set.examples.forEach((e, i) => {
    features.set(set.features.subarray(i * width, (i + 1) * width), i * out);
    const m = PIPE_MATERIALS.indexOf(e.meta.material as (typeof PIPE_MATERIALS)[number]);
    if (m >= 0) features[i * out + width + m] = 1;
    if (e.meta.sensorType === 'hydrophone') features[i * out + width + PIPE_MATERIALS.length] = 1;
  });
  return { ...set, features };
}

export interface DescriptorReport {
  /** Window ROC-AUC, audible leak against no leak, and per material. */
  readonly windowAuc: number;
  readonly windowAucByMaterial: Record<string, number>;
  /** Nights by the K-of-N rule, thresholds chosen on validation nights at the budget as the run's operating point is (its separate sites apart). */
  readonly thresholds: Thresholds;
  readonly nightAuc: number;
  readonly recall: number;
  readonly falsePer100: number;
  readonly recallByMaterial: Record<string, number>;
}

export interface DescriptorProbe {
  readonly columns: readonly string[];
  readonly persistence: Persistence;
  readonly plain: DescriptorReport;
  readonly described: DescriptorReport;
}

/** One set's figures from its scores (val chooses the night threshold; test is measured). */
function report(val: ExampleSet, valScores: Float32Array, test: ExampleSet, testScores: Float32Array, persistence: Persistence, maxFalsePer100: number, separate: SeparateGroups): DescriptorReport {
  const judged = test.examples.flatMap((e, i) => (!e.meta.daytime && (!e.meta.leak || e.meta.audible === true) ? [i] : []));
  const auc = (ix: readonly number[]) => rocAuc(ix.map((i) => testScores[i]!), ix.map((i) => (test.examples[i]!.meta.leak ? 1 : 0)));
  const materials = [...new Set(judged.map((i) => test.examples[i]!.meta.material))].sort();
  const nightScore = (s: number[]) => persistenceScore(s, persistence);
  const { thresholds } = chooseOperatingPoint(val.examples, valScores, [persistence], maxFalsePer100, separate).chosen;
  const r = nightReport(nights(test.examples, testScores, nightScore), thresholds);
  return {
    windowAuc: auc(judged),
    windowAucByMaterial: Object.fromEntries(materials.map((m) => [m, auc(judged.filter((i) => test.examples[i]!.meta.material === m))])),
    thresholds,
    nightAuc: r.auc,
    recall: r.recall,
    falsePer100: r.falseAlertsPer100Nights,
    recallByMaterial: r.recallByMaterial,
  };
}

/**
 * `plain` scores the run's own head (trained on the same windows without
 * descriptors); the described head is fitted with `fit` on the training
 * windows and stopped early on `stopping`, as the run's head was.
 */
export async function probeDescriptors(
  sets: { train: ExampleSet; stopping: ExampleSet; val: ExampleSet; test: ExampleSet },
  plain: (set: ExampleSet) => Float32Array,
  fit: FitOptions,
  persistence: Persistence,
  maxFalsePer100: number,
  separate: SeparateGroups,
  log: (msg: string) => void = () => {},
): Promise<DescriptorProbe> {
  const { val, test } = sets;
  log(`descriptor probe: one head more on ${sets.train.examples.length} windows, each told ${DESCRIPTOR_COLUMNS.join(', ')}`);
  const described = await fitLeakModel(withDescriptors(sets.train), withDescriptors(sets.stopping), {
    ...fit,
    heads: 1,
    onEpoch: (epoch, loss, valLoss) => log(`  described head epoch ${epoch}: loss ${loss.toFixed(4)}, validation ${valLoss.toFixed(4)}`),
  });
  try {
    const dv = withDescriptors(val);
    const dt = withDescriptors(test);
    const out: DescriptorProbe = {
      columns: DESCRIPTOR_COLUMNS,
      persistence,
      plain: report(val, plain(val), test, plain(test), persistence, maxFalsePer100, separate),
      described: report(val, described.predict(dv.features, dv.examples.length), test, described.predict(dt.features, dt.examples.length), persistence, maxFalsePer100, separate),
    };
    for (const [name, r] of [['plain', out.plain], ['described', out.described]] as const) {
      log(
        `descriptor probe, ${name}: window AUC ${r.windowAuc.toFixed(3)} (${Object.entries(r.windowAucByMaterial).map(([m, v]) => `${m} ${v.toFixed(3)}`).join(', ')}); nights at ${r.thresholds.default.toFixed(3)}${Object.entries(r.thresholds.bySite).map(([site, t]) => `, ${site} ${t!.toFixed(3)}`).join('')}: recall ${r.recall.toFixed(3)} at ${r.falsePer100.toFixed(2)} false/100, AUC ${r.nightAuc.toFixed(3)} (${Object.entries(r.recallByMaterial).map(([m, v]) => `${m} ${v.toFixed(3)}`).join(', ')})`,
      );
    }
    return out;
  } finally {
    described.dispose();
  }
}
