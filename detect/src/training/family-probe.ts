import type { ExampleSet } from './examples.ts';
import { subsetExamples } from './examples.ts';
import { fitLeakModel, type FitOptions } from './fit.ts';
import { rocAuc } from './metrics.ts';

/**
 * How the recipe carries over to a sensor type it never heard: one head
 * trained on one type's training windows (validation windows of the same
 * type for early stopping), scored on every type's test windows. The
 * committed model is trained on every type; this asks what happens when the
 * field brings a device unlike any in training — the diagonal is the
 * familiar case, the rest the unfamiliar one (README, "What it does not
 * carry over to").
 */
export interface FamilyProbe {
  /** trainedOn → testedOn → window ROC-AUC (audible leak vs no leak), with the window counts. */
  readonly auc: Record<string, Record<string, number>>;
  readonly trainWindows: Record<string, number>;
  readonly testWindows: Record<string, number>;
}

export async function probeSensorTypes(
  sets: { train: ExampleSet; val: ExampleSet; test: ExampleSet },
  fit: FitOptions,
  log: (msg: string) => void = () => {},
): Promise<FamilyProbe> {
  const types = [...new Set(sets.train.examples.map((e) => e.meta.sensorType))].sort();
  const judged = subsetExamples(sets.test, (e) => !e.meta.leak || e.meta.audible === true);
  const auc: Record<string, Record<string, number>> = {};
  const trainWindows: Record<string, number> = {};
  const testWindows: Record<string, number> = {};
  for (const t of types) testWindows[t] = judged.examples.filter((e) => e.meta.sensorType === t).length;
  for (const trainedOn of types) {
    const only = (set: ExampleSet) => subsetExamples(set, (e) => e.meta.sensorType === trainedOn);
    const train = only(sets.train);
    trainWindows[trainedOn] = train.examples.length;
    log(`family probe: one head on ${train.examples.length} ${trainedOn} windows`);
    const fitted = await fitLeakModel(train, only(sets.val), { ...fit, heads: 1, onEpoch: (epoch, loss, valLoss) => log(`  ${trainedOn} epoch ${epoch}: loss ${loss.toFixed(4)}, validation ${valLoss.toFixed(4)}`) });
    const scores = fitted.predict(judged.features, judged.examples.length);
    fitted.dispose();
    auc[trainedOn] = {};
    for (const testedOn of types) {
      const ix = judged.examples.flatMap((e, i) => (e.meta.sensorType === testedOn ? [i] : []));
      auc[trainedOn][testedOn] = rocAuc(
        ix.map((i) => scores[i]!),
        ix.map((i) => (judged.examples[i]!.meta.leak ? 1 : 0)),
      );
    }
    log(`family probe: trained on ${trainedOn}: ${types.map((t) => `${t} ${auc[trainedOn]![t]!.toFixed(3)}`).join(', ')}`);
  }
  return { auc, trainWindows, testWindows };
}
