import { describe, expect, it } from 'vitest';
import { planHeldOutSets, type GivenDataset, type TrainingDatasets } from './held-out-sets.ts';

const set = (arg: string, seed: number, sensors: number, leakOnsetShare?: number): GivenDataset => ({
  arg,
  manifest: { seed, options: { sensors, ...(leakOnsetShare !== undefined && { leakOnsetShare }) } },
});

/** The shipped model's run, in small: --data seed 3, extra training seed 4, extra validation seed 5. */
const run = (over: Partial<TrainingDatasets> = {}): TrainingDatasets => ({
  data: set('d3', 3, 2000),
  extraTrain: [set('d4', 4, 2000)],
  extraVal: [set('d5', 5, 2000)],
  recordingsTest: set('hh8', 8, 2000),
  onsetTest: set('on12', 12, 1000, 0.5),
  levelHistory: [set('on5', 5, 2000, 0.5)],
  contextModel: true,
  ...over,
});

const problemsOf = (sets: TrainingDatasets): string[] => {
  try {
    planHeldOutSets(sets);
    return [];
  } catch (e) {
    expect(e).toMatchObject({ code: 'CONFIG_INVALID' });
    return [...(e as { problems: string[] }).problems];
  }
};

describe('the held-out sets of a training run', () => {
  it("takes every split of an unused seed's onset set, and only the test split of --data's own remake", () => {
    expect(planHeldOutSets(run())).toEqual({ onsetSplits: 'all' });
    expect(planHeldOutSets(run({ onsetTest: set('on3', 3, 2000, 0.5) }))).toEqual({ onsetSplits: 'test' });
    expect(planHeldOutSets(run({ onsetTest: undefined, levelHistory: [] }))).toEqual({ onsetSplits: undefined });
  });

  it('refuses an onset set whose sensors a step saw: a seed of training, validation, the verdict or the recordings', () => {
    for (const seed of [3, 4, 5, 8]) {
      expect(problemsOf(run({ onsetTest: set('onX', seed, 1000, 0.5) }))).toEqual([expect.stringContaining(`seed ${seed} made sensors a step here used`)]);
    }
    // --data's seed with other sensors is not its remake: its test sensors differ.
    expect(problemsOf(run({ onsetTest: set('on3', 3, 1000, 0.5) }))).toHaveLength(1);
  });

  it('refuses a verdict fitted on sensors that trained a head, or without an onset test or a context model, naming every problem at once', () => {
    expect(problemsOf(run({ levelHistory: [set('on4', 4, 2000, 0.5)] }))).toEqual([expect.stringContaining('--level-history on4: seed 4 made sensors the heads were trained on')]);
    // Validation's seed is fine: validation chose thresholds, it trained no head.
    expect(problemsOf(run({ levelHistory: [set('on5', 5, 2000, 0.5)] }))).toEqual([]);
    const all = problemsOf(run({ onsetTest: undefined, contextModel: false, levelHistory: [set('d3x', 3, 2000)] }));
    expect(all).toEqual([
      '--level-history needs --onset-test, where the verdict it fits is measured',
      '--level-history is for a context model (--context, or a reused one)',
      expect.stringContaining('--level-history d3x: its leaks all begin before its first night'),
      expect.stringContaining('--level-history d3x: seed 3 made sensors the heads were trained on'),
    ]);
  });

  it('refuses a test set that is training or validation data, and an onset set without onsets', () => {
    expect(problemsOf(run({ recordingsTest: set('./d4', 4, 2000) }))).toEqual([expect.stringContaining('--recordings-test ./d4 is also training or validation data')]);
    expect(problemsOf(run({ onsetTest: set('d5/', 5, 2000), levelHistory: [] }))).toEqual([
      expect.stringContaining('its leaks all begin before its first night'),
      '--onset-test d5/ is also training or validation data',
    ]);
  });

  it('takes condition sets of recordings and of seeds of their own; refuses one of a seed a step learned from, or of loggers', () => {
    const clips = (arg: string, seed: number): GivenDataset => ({ arg, manifest: { seed, options: { sensors: 200, nights: 1, framesPerNight: 1, frameSeconds: 30 }, conditions: { material: 'pvc' } } });
    // Sharing a seed with another held-out set (or each other) is no leak: none of them trains or fits anything.
    expect(problemsOf(run({ conditionsTest: [clips('pvc41', 41), clips('pe41', 41), clips('hh', 8)] }))).toEqual([]);
    const loggers: GivenDataset = { arg: 'logs', manifest: { seed: 42, options: { sensors: 200, nights: 4, framesPerNight: 12 } } };
    expect(problemsOf(run({ conditionsTest: [clips('pvc4', 4), clips('pvc5', 5), loggers] }))).toEqual([
      expect.stringContaining('--conditions-test pvc4: seed 4 made sensors a step here learned from'),
      expect.stringContaining('--conditions-test pvc5: seed 5 made sensors a step here learned from'),
      '--conditions-test logs: not recordings (one frame a sensor: --nights 1 --frames-per-night 1)',
    ]);
  });

  it("takes the recording stage's threshold sets of recordings and of seeds no other set has, tests included", () => {
    const clips = (arg: string, seed: number): GivenDataset => ({ arg, manifest: { seed, options: { sensors: 2000, nights: 1, framesPerNight: 1, frameSeconds: 30 } } });
    expect(problemsOf(run({ stageThresholds: [clips('hh18', 18)] }))).toEqual([]);
    const loggers: GivenDataset = { arg: 'logs', manifest: { seed: 43, options: { sensors: 200, nights: 4, framesPerNight: 12 } } };
    expect(problemsOf(run({ conditionsTest: [clips('hh17', 17)], stageThresholds: [clips('hh8b', 8), clips('hh17b', 17), clips('d4b', 4), loggers] }))).toEqual([
      '--stage-thresholds hh8b: seed 8 is another data set\'s here; give it a seed of its own',
      '--stage-thresholds hh17b: seed 17 is another data set\'s here; give it a seed of its own',
      '--stage-thresholds d4b: seed 4 is another data set\'s here; give it a seed of its own',
      '--stage-thresholds logs: not recordings (one frame a sensor: --nights 1 --frames-per-night 1)',
    ]);
  });
});
