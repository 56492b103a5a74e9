import { describe, expect, it } from 'vitest';
import { datasetArgs, heldOutArgs, manifestMatches, PLASTIC_CLIPS_RECIPE, PLASTIC_MAINS_RECIPE, RECIPES, recipeDatasets, SHIPPED_RECIPE, trainDataArgs } from './recipe.ts';

describe('the training recipe', () => {
  it("names the shipped model's thirteen data sets once each, in the roles its card gives them", () => {
    const sets = recipeDatasets(SHIPPED_RECIPE);
    expect(sets).toHaveLength(13);
    expect(new Set(sets.map((d) => d.dir)).size).toBe(13);
    expect(trainDataArgs(SHIPPED_RECIPE)).toEqual([
      '--data', '../data/acoustic-dataset-2000',
      '--extra-train', '../data/acoustic-dataset-600,../data/acoustic-dataset-seed2-1200,../data/acoustic-dataset-seed4-2000,../data/acoustic-dataset-seed6-2000,../data/acoustic-dataset-seed7-2000,../data/handheld-seed9-1000,../data/handheld-seed10-2000',
      '--extra-val', '../data/acoustic-dataset-seed5-2000',
    ]);
    // The heads' runs leave the extra validation (the operating point's) out.
    expect(trainDataArgs(SHIPPED_RECIPE, { extraVal: false })).not.toContain('--extra-val');
    expect(heldOutArgs(SHIPPED_RECIPE)).toEqual([
      '--recordings-test', '../data/handheld-seed8-2000', '--onset-test', '../data/onset/acoustic-dataset-seed12-1000', '--level-history', '../data/onset/acoustic-dataset-seed5-2000',
      '--stage-thresholds', '../data/handheld-seed18-2000',
    ]);
  });

  it("fits the recording stage in the merge, its thresholds also chosen on hand-held clips of a seed no other set has (2.4.7)", () => {
    // train.ts refuses --stage-thresholds without --recording-stage.
    expect(SHIPPED_RECIPE.mergeOptions).toContain('--recording-stage');
    expect(SHIPPED_RECIPE.headOptions).not.toContain('--recording-stage');
    const [choosing] = SHIPPED_RECIPE.stageThresholds!;
    expect(datasetArgs(choosing!)).toEqual(['--seed', '18', '--sensors', '2000', '--nights', '1', '--frames-per-night', '1', '--frame-seconds', '30', '--day-share', '0', '--out', '../data/handheld-seed18-2000']);
    // A set sharing a seed with one the model trained on would hold the same leaks.
    expect(recipeDatasets(SHIPPED_RECIPE).filter((d) => d.seed === 18)).toEqual([choosing]);
    for (const r of Object.values(RECIPES)) expect(recipeDatasets(r).filter((d) => d.seed === 18)).toHaveLength(1);
  });

  it('spells out every option of the dataset command, and knows a manifest made with them', () => {
    const onset = SHIPPED_RECIPE.onsetTest!;
    expect(datasetArgs(onset)).toEqual(['--seed', '12', '--sensors', '1000', '--nights', '4', '--frames-per-night', '12', '--frame-seconds', '1', '--day-share', '0.15', '--leak-onset-share', '0.5', '--out', onset.dir]);
    // As the generator writes it (a leak onset share only where one was asked for).
    const options = { sensors: 1000, nights: 4, framesPerNight: 12, frameSeconds: 1, dayShare: 0.15, leakShare: 0.4, leakOnsetShare: 0.5 };
    expect(manifestMatches(onset, { seed: 12, options })).toBe(true);
    expect(manifestMatches(onset, { seed: 13, options })).toBe(false);
    const { leakOnsetShare: _, ...withoutOnsets } = options;
    expect(manifestMatches(onset, { seed: 12, options: withoutOnsets })).toBe(false);
    expect(manifestMatches({ ...onset, leakOnsetShare: undefined }, { seed: 12, options: withoutOnsets })).toBe(true);
    expect(manifestMatches(onset, { seed: 12, options: { ...options, sensors: 999 } })).toBe(false);
  });

  it('adds training sensors on plastic mains, each set of one material, and knows their manifests from a mixed one', () => {
    const sets = recipeDatasets(PLASTIC_MAINS_RECIPE);
    expect(sets).toHaveLength(21);
    const plastic = PLASTIC_MAINS_RECIPE.extraTrain.filter((d) => d.conditions !== undefined);
    expect(plastic.map((d) => [d.conditions, d.sensors])).toEqual([[{ material: 'pvc' }, 2000], [{ material: 'pe' }, 2000]]);
    expect(datasetArgs(plastic[0]!)).toEqual(expect.arrayContaining(['--material', 'pvc']));
    expect(datasetArgs(SHIPPED_RECIPE.data)).not.toContain('--material');
    // Everything else is the shipped recipe's: its heads are trained and merged as 2.4.4's were.
    expect({ ...PLASTIC_MAINS_RECIPE, extraTrain: [], conditionsTest: undefined }).toEqual({ ...SHIPPED_RECIPE, extraTrain: [], conditionsTest: undefined });
    const options = { sensors: 2000, nights: 4, framesPerNight: 12, frameSeconds: 1, dayShare: 0.15, leakShare: 0.4 };
    expect(manifestMatches(plastic[0]!, { seed: 13, options, conditions: { material: 'pvc' } })).toBe(true);
    expect(manifestMatches(plastic[0]!, { seed: 13, options })).toBe(false);
    expect(manifestMatches(plastic[0]!, { seed: 13, options, conditions: { material: 'pe' } })).toBe(false);
    expect(manifestMatches(plastic[0]!, { seed: 13, options, conditions: { material: 'pvc', environment: 'near_pump' } })).toBe(false);
    expect(manifestMatches({ ...plastic[0]!, conditions: undefined }, { seed: 13, options, conditions: { material: 'pvc' } })).toBe(false);
    expect(Object.keys(RECIPES)).toEqual(['shipped', 'plastic-mains', 'plastic-clips']);
    // 2.4.4's heads were trained plain and are served behind the line front end at 0.5; so are the next model's.
    expect([SHIPPED_RECIPE.servedMainsLineShare, PLASTIC_MAINS_RECIPE.servedMainsLineShare]).toEqual([0.5, 0.5]);
  });

  it('adds hand-held clips of plastic mains, each set of one material and seed of its own, and is otherwise the shipped recipe', () => {
    const plastic = PLASTIC_CLIPS_RECIPE.extraTrain.filter((d) => d.conditions !== undefined);
    expect(plastic.map((d) => [d.conditions, d.seed, d.sensors, d.frameSeconds, d.nights, d.framesPerNight])).toEqual([
      [{ material: 'pvc' }, 15, 1000, 30, 1, 1],
      [{ material: 'pe' }, 16, 1000, 30, 1, 1],
    ]);
    expect(datasetArgs(plastic[1]!)).toEqual(expect.arrayContaining(['--material', 'pe', '--frame-seconds', '30', '--out', '../data/handheld-pe-seed16-1000']));
    // No other set of the recipe has their seeds: one sharing a seed with a held-out set would hold its leaks.
    expect(recipeDatasets(PLASTIC_CLIPS_RECIPE)).toHaveLength(21);
    expect(recipeDatasets(PLASTIC_CLIPS_RECIPE).filter((d) => d.seed === 15 || d.seed === 16)).toEqual(plastic);
    expect(PLASTIC_CLIPS_RECIPE.conditionsTest).toEqual(PLASTIC_MAINS_RECIPE.conditionsTest);
    expect({ ...PLASTIC_CLIPS_RECIPE, extraTrain: [], conditionsTest: undefined }).toEqual({ ...SHIPPED_RECIPE, extraTrain: [], conditionsTest: undefined });
  });

  it("measures the field trial's conditions: recordings of one condition each, made and matched with every flag", () => {
    const trials = PLASTIC_MAINS_RECIPE.conditionsTest!;
    expect(trials).toHaveLength(6);
    // The last is hand-held clips of the population's mix, every flag the generator's default.
    expect(datasetArgs(trials[5]!)).toEqual(['--seed', '17', '--sensors', '2000', '--nights', '1', '--frames-per-night', '1', '--frame-seconds', '30', '--day-share', '0', '--out', '../data/handheld-seed17-2000']);
    expect(heldOutArgs(PLASTIC_MAINS_RECIPE)).toEqual(expect.arrayContaining(['--conditions-test', trials.map((d) => d.dir).join(',')]));
    expect(heldOutArgs(SHIPPED_RECIPE)).not.toContain('--conditions-test');
    const pump = trials[0]!;
    expect(datasetArgs(pump)).toEqual([
      '--seed', '41', '--sensors', '1000', '--nights', '1', '--frames-per-night', '1', '--frame-seconds', '30', '--day-share', '0', '--leak-share', '0.5',
      '--material', 'pvc', '--environment', 'near_pump', '--sensor-type', 'hydrophone', '--sample-rate', '8000', '--leak-distance', '0-5',
      '--out', '../data/conditions-1000/pvc-hyd-pump-0-5',
    ]);
    // The manifest as the generator wrote it for those flags (README, "A field trial's condition").
    const manifest = {
      seed: 41,
      options: { sensors: 1000, nights: 1, framesPerNight: 1, frameSeconds: 30, dayShare: 0, leakShare: 0.5 },
      conditions: { material: 'pvc', environment: 'near_pump', sensorType: 'hydrophone', sampleRateHz: 8000, leakDistanceM: [0, 5] },
    };
    expect(manifestMatches(pump, manifest)).toBe(true);
    expect(manifestMatches(pump, { ...manifest, options: { ...manifest.options, leakShare: 0.4 } })).toBe(false);
    expect(manifestMatches(pump, { ...manifest, conditions: { ...manifest.conditions, leakDistanceM: [0, 6] } })).toBe(false);
  });
});
