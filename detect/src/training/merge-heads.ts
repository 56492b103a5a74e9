import type { LeakModelWeights } from '../model/onnx-graph.ts';

/** One trained model's heads and the seeds they were trained with (fit.ts: head h of a run has seed seed + firstHead + h). */
export interface HeadsOf {
  readonly name: string;
  readonly weights: LeakModelWeights;
  readonly headSeeds: readonly number[];
}

export class MergeError extends Error {
  readonly code = 'HEADS_INCOMPATIBLE';
}

/**
 * One ensemble from heads trained apart (train.ts --first-head, each process
 * a share of the heads). They must have been trained on the same features:
 * the same standardisation to the last bit (same data, same device
 * colouring), the same kind of model and layer shapes; a head trained twice
 * (the same seed in two of them) would weigh double, so that is refused too.
 */
export function mergeHeads(models: readonly HeadsOf[]): { weights: LeakModelWeights; headSeeds: number[] } {
  const [first, ...rest] = models;
  if (!first) throw new MergeError('no model to take heads from');
  const shapeOf = (w: LeakModelWeights) => w.layers.map((l) => `${l.inputs}x${l.units}`).join(',');
  const seeds = [...first.headSeeds];
  const heads = [first.weights.layers, ...(first.weights.moreHeads ?? [])];
  for (const m of rest) {
    const w = m.weights;
    if (Boolean(w.context) !== Boolean(first.weights.context)) throw new MergeError(`${m.name} and ${first.name}: one is a context model, the other not`);
    if (shapeOf(w) !== shapeOf(first.weights)) throw new MergeError(`${m.name} has layers ${shapeOf(w)}, ${first.name} ${shapeOf(first.weights)}`);
    if (!sameValues(w.featureMean, first.weights.featureMean) || !sameValues(w.featureStd, first.weights.featureStd)) {
      throw new MergeError(`${m.name} and ${first.name} were standardised differently: trained on other data or another device colouring (same --data, --extra-train, --colour-share and --seed, only --first-head differs)`);
    }
    const twice = m.headSeeds.filter((s) => seeds.includes(s));
    if (twice.length > 0) throw new MergeError(`${m.name} has heads of seed ${twice.join(', ')} already taken from another model`);
    seeds.push(...m.headSeeds);
    heads.push(w.layers, ...(w.moreHeads ?? []));
  }
  const [layers, ...moreHeads] = heads;
  return { weights: { ...first.weights, layers: layers!, ...(moreHeads.length > 0 ? { moreHeads } : {}) }, headSeeds: seeds };
}

function sameValues(a: Float32Array, b: Float32Array): boolean {
  return a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
}
