import { resolve } from 'node:path';
import { ConfigError } from '@suido/ingest';
import type { DatasetConditions } from './recipe.ts';

/** What a data set's manifest.json says that decides where a training run may use it. */
export interface DatasetManifest {
  readonly seed: number;
  readonly options: { readonly sensors: number; readonly leakOnsetShare?: number; readonly frameSeconds?: number; readonly nights?: number; readonly framesPerNight?: number };
  /** What the data set held fixed instead of drawing (the dataset command's --material, ...); absent: nothing. */
  readonly conditions?: DatasetConditions;
  /** Frames per split, as the generator counted them. */
  readonly splits?: Readonly<Record<string, { readonly frames?: number }>>;
}

/** A data set given on the command line: the argument as typed, and its manifest. */
export interface GivenDataset {
  readonly arg: string;
  readonly manifest: DatasetManifest;
}

/** The data sets of one training run, by option. */
export interface TrainingDatasets {
  readonly data: GivenDataset;
  readonly extraTrain: readonly GivenDataset[];
  readonly extraVal: readonly GivenDataset[];
  readonly recordingsTest?: GivenDataset | undefined;
  readonly onsetTest?: GivenDataset | undefined;
  /** Data sets of one condition each, of recordings (--conditions-test). */
  readonly conditionsTest?: readonly GivenDataset[] | undefined;
  /** Recordings the recording stage's thresholds are chosen on, beside --recordings-test's train and val (--stage-thresholds). */
  readonly stageThresholds?: readonly GivenDataset[] | undefined;
  readonly levelHistory: readonly GivenDataset[];
  /** A context model (--context, or reused heads that are one): the level verdict needs its band levels. */
  readonly contextModel: boolean;
}

/** Where the onset test's windows come from: --data's remake's test split, or every split of a seed no step used. */
export type OnsetSplits = 'test' | 'all';

/**
 * Checks, before any feature is computed or head trained, that the test
 * and verdict data sets are held out from what they judge (a training run
 * takes hours; a refusal after it wastes them), and says which splits the
 * onset test takes. Throws ConfigError naming every problem.
 *
 * Rules (train.ts documents the options): a test set is none of the
 * training or validation sets; --onset-test and --level-history need leaks
 * that begin inside the nights; an onset test is --data's own remake (same
 * seed and sensors: its test split, sensors no head saw) or of a seed no
 * data set of the run has (same seed, same sensors); --level-history's
 * seed trained no head, and it needs --onset-test (where its verdict is
 * measured) and a context model; a --conditions-test set is of recordings
 * (one frame a sensor) and of a seed that no training, validation or
 * verdict set here has (a seed's remake under a condition keeps its
 * sensors' leaks, sizes and splits); a --stage-thresholds set is of
 * recordings and of a seed no other set here has.
 */
export function planHeldOutSets(sets: TrainingDatasets): { onsetSplits: OnsetSplits | undefined } {
  const problems: string[] = [];
  const learnedFrom = [sets.data, ...sets.extraTrain, ...sets.extraVal];
  const learnedDirs = new Set(learnedFrom.map((d) => resolve(d.arg)));
  const withOnsets = (option: string, d: GivenDataset) => {
    const share = d.manifest.options.leakOnsetShare;
    if (!(share !== undefined && share > 0)) problems.push(`--${option} ${d.arg}: its leaks all begin before its first night (made without --leak-onset-share)`);
  };
  if (sets.recordingsTest && learnedDirs.has(resolve(sets.recordingsTest.arg))) problems.push(`--recordings-test ${sets.recordingsTest.arg} is also training or validation data`);

  let onsetSplits: OnsetSplits | undefined;
  const onset = sets.onsetTest;
  if (onset) {
    withOnsets('onset-test', onset);
    const main = sets.data.manifest;
    if (learnedDirs.has(resolve(onset.arg))) problems.push(`--onset-test ${onset.arg} is also training or validation data`);
    else if (onset.manifest.seed === main.seed && onset.manifest.options.sensors === main.options.sensors) onsetSplits = 'test';
    else {
      // Remakes of a seed hold the same sensors: another seed's sensors are new to every step only if no data set here has it.
      const used = [...learnedFrom, ...sets.levelHistory, ...(sets.recordingsTest ? [sets.recordingsTest] : [])].map((d) => d.manifest.seed);
      if (used.includes(onset.manifest.seed)) {
        problems.push(
          `--onset-test ${onset.arg}: seed ${onset.manifest.seed} made sensors a step here used; give --data's own remake (seed ${main.seed}, ${main.options.sensors} sensors: its test split) or a seed no data set here has (every split)`,
        );
      } else onsetSplits = 'all';
    }
  }

  const conditionsTest = sets.conditionsTest ?? [];
  const fittedSeeds = [...learnedFrom, ...sets.levelHistory].map((d) => d.manifest.seed);
  for (const d of conditionsTest) {
    if (fittedSeeds.includes(d.manifest.seed)) problems.push(`--conditions-test ${d.arg}: seed ${d.manifest.seed} made sensors a step here learned from (a condition keeps the seed's leaks and splits); give it a seed of its own`);
    if (d.manifest.options.nights !== 1 || d.manifest.options.framesPerNight !== 1) problems.push(`--conditions-test ${d.arg}: not recordings (one frame a sensor: --nights 1 --frames-per-night 1)`);
  }

  // Choosing thresholds is fitting: a set chosen on must be recordings of a seed no other set here has (tests included).
  const otherSeeds = [...learnedFrom, ...sets.levelHistory, ...conditionsTest, ...(sets.recordingsTest ? [sets.recordingsTest] : []), ...(onset ? [onset] : [])].map((d) => d.manifest.seed);
  for (const d of sets.stageThresholds ?? []) {
    if (otherSeeds.includes(d.manifest.seed)) problems.push(`--stage-thresholds ${d.arg}: seed ${d.manifest.seed} is another data set's here; give it a seed of its own`);
    if (d.manifest.options.nights !== 1 || d.manifest.options.framesPerNight !== 1) problems.push(`--stage-thresholds ${d.arg}: not recordings (one frame a sensor: --nights 1 --frames-per-night 1)`);
  }

  if (sets.levelHistory.length > 0) {
    if (!onset) problems.push('--level-history needs --onset-test, where the verdict it fits is measured');
    if (!sets.contextModel) problems.push('--level-history is for a context model (--context, or a reused one)');
    const trainedOn = [sets.data, ...sets.extraTrain].map((d) => d.manifest.seed);
    for (const d of sets.levelHistory) {
      withOnsets('level-history', d);
      if (trainedOn.includes(d.manifest.seed)) problems.push(`--level-history ${d.arg}: seed ${d.manifest.seed} made sensors the heads were trained on (--data, --extra-train)`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { onsetSplits };
}
