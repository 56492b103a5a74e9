/**
 * The shipped model's recipe, in one place: the data sets it is trained and
 * tested on, and the options of its heads and of the run that merges them.
 * `npm run train -w detect` (retrain.ts) runs it; `--recipe NAME` runs
 * another of RECIPES (the next model's candidates), and a JSON file of the
 * same shape another still, e.g. a small one in a test.
 */
import type { PipeMaterial, SensorSite } from '@suido/ingest';

/** A data set as the dataset command makes it (simulators: npm run dataset), every option spelt out. */
export interface DatasetRecipe {
  /** Relative to detect/. */
  readonly dir: string;
  readonly seed: number;
  readonly sensors: number;
  readonly nights: number;
  readonly framesPerNight: number;
  readonly frameSeconds: number;
  readonly dayShare: number;
  /** Absent: every leak there from the first night (the generator's default). */
  readonly leakOnsetShare?: number;
  /** Absent: the generator's 0.4. */
  readonly leakShare?: number;
  /**
   * What every sensor shares instead of drawing it (the dataset command's
   * --material, --environment, --sensor-type, --sample-rate,
   * --leak-distance); absent: the population's mix. Training sensors where
   * the detector is weakest (plastic mains), or a field trial's condition
   * to measure it under (README, "A field trial's condition").
   */
  readonly conditions?: DatasetConditions;
}

/** A data set's condition, as the dataset command takes it and its manifest names it. */
export interface DatasetConditions {
  readonly material?: PipeMaterial;
  readonly environment?: SensorSite;
  readonly sensorType?: 'accelerometer' | 'hydrophone';
  readonly sampleRateHz?: number;
  /** Metres, from and to. */
  readonly leakDistanceM?: readonly [number, number];
}

export interface Recipe {
  /** Split into train / validation / test by sensor. */
  readonly data: DatasetRecipe;
  /** Every split to training. */
  readonly extraTrain: readonly DatasetRecipe[];
  /** Every split to validation (the operating point). */
  readonly extraVal: readonly DatasetRecipe[];
  /** Hand-held clips: the card's second test, and the recording threshold. */
  readonly recordingsTest?: DatasetRecipe | undefined;
  /** Leaks that begin while the sensor listens: the card's third test. */
  readonly onsetTest?: DatasetRecipe | undefined;
  /** Recordings of one condition each: the card's fourth test (train.ts --conditions-test). */
  readonly conditionsTest?: readonly DatasetRecipe[] | undefined;
  /** Data for the night verdict with level history. */
  readonly levelHistory?: readonly DatasetRecipe[] | undefined;
  /**
   * Hand-held clips (seeds of their own) whose no-leak recordings, with the
   * recordings test's train and val splits, choose the recording stage's
   * thresholds (train.ts --stage-thresholds; mergeOptions must hold
   * --recording-stage). Why: 2.4.6's thresholds, chosen on seed 8's 1,100
   * no-leak clips alone, called 16 of 1,226 no-leak clips of seed 17 where
   * the budget allowed 14; chosen on 2,172 (2.4.7) they called 5.
   */
  readonly stageThresholds?: readonly DatasetRecipe[] | undefined;
  /** Heads of the ensemble, each trained by a process of its own. */
  readonly heads: number;
  /** train.ts options of every head (and of the feature shards, which must key the cache as the heads do). */
  readonly headOptions: readonly string[];
  /** train.ts options the last head adds (its card's probe). */
  readonly lastHeadOptions: readonly string[];
  /** train.ts options of the run that merges the heads and chooses the operating point. */
  readonly mergeOptions: readonly string[];
  /**
   * The mains-line share (train.ts --mains-lines) the merged model is served
   * at, where its heads were trained plain (2.4.4: 2.4.0's heads behind the
   * line front end at 0.5); absent: as its heads were trained. A share given
   * to the run (`npm run train -- --mains-lines S`) trains and serves at S.
   */
  readonly servedMainsLineShare?: number | undefined;
}

/** Hand-held logger clips: one 30 s recording a sensor, at night. */
const clips = (seed: number, sensors: number): DatasetRecipe => ({ dir: `../data/handheld-seed${seed}-${sensors}`, seed, sensors, nights: 1, framesPerNight: 1, frameSeconds: 30, dayShare: 0 });
/**
 * A field trial's condition (README, "A field trial's condition"): 1,000
 * hydrophone clips of 30 s at 8 kHz, half with a leak, seed 41 (no other
 * set's), what else `conditions` holds fixed. 1,000 and not the 200 that
 * measured 2.4.4, 2.6.0 and 2.7.0: with 80–90 audible-leak clips a set,
 * two models' clip ROC-AUC on the same clips could not be told apart
 * within about ±0.025 (detect/README.md, "2.7.0: plastic mains as clips").
 */
const trial = (name: string, conditions: DatasetConditions): DatasetRecipe => ({
  dir: `../data/conditions-1000/${name}`,
  seed: 41,
  sensors: 1000,
  nights: 1,
  framesPerNight: 1,
  frameSeconds: 30,
  dayShare: 0,
  leakShare: 0.5,
  conditions: { sensorType: 'hydrophone', sampleRateHz: 8000, ...conditions },
});
/** Noise loggers: 4 nights of 12 one-second frames from 02:00 to 04:00, 15 % of frames by day (the generator's defaults). */
const LOGGER_NIGHTS = { nights: 4, framesPerNight: 12, frameSeconds: 1, dayShare: 0.15 };
const loggers = (seed: number, sensors: number, dir = `../data/acoustic-dataset-seed${seed}-${sensors}`): DatasetRecipe => ({ dir, seed, sensors, ...LOGGER_NIGHTS });
const onsets = (seed: number, sensors: number): DatasetRecipe => ({ dir: `../data/onset/acoustic-dataset-seed${seed}-${sensors}`, seed, sensors, ...LOGGER_NIGHTS, leakOnsetShare: 0.5 });

const SHAPE = ['--hidden', '128,64,32', '--l2', '0.001', '--backend', 'wasm', '--search-persistence', '--separate-sites', 'near_prv,near_pump'];

/**
 * The shipped model's (README, "2.4.0: the 9,200-sensor heads"; 2.4.7 adds
 * the recording stage, detect/README.md "2.4.7"; MODEL_CARD.md names the
 * commands it ran).
 */
export const SHIPPED_RECIPE: Recipe = {
  data: loggers(3, 2000, '../data/acoustic-dataset-2000'),
  extraTrain: [loggers(1, 600, '../data/acoustic-dataset-600'), loggers(2, 1200), loggers(4, 2000), loggers(6, 2000), loggers(7, 2000), clips(9, 1000), clips(10, 2000)],
  extraVal: [loggers(5, 2000)],
  recordingsTest: clips(8, 2000),
  onsetTest: onsets(12, 1000),
  levelHistory: [onsets(5, 2000)],
  stageThresholds: [clips(18, 2000)],
  heads: 4,
  headOptions: [...SHAPE, '--colour-share', '0.5', '--context'],
  lastHeadOptions: ['--family-probe'],
  mergeOptions: [...SHAPE, '--recording-stage'],
  servedMainsLineShare: 0.5,
};

/**
 * Recordings no step of any model used, measured by the candidates' recipes
 * (train.ts --conditions-test): a field trial's conditions, and clips of the
 * population's mix.
 */
const CONDITIONS_TEST: readonly DatasetRecipe[] = [
  trial('pvc-hyd-pump-0-5', { material: 'pvc', environment: 'near_pump', leakDistanceM: [0, 5] }),
  trial('pvc-hyd-quiet-0-5', { material: 'pvc', environment: 'quiet_residential', leakDistanceM: [0, 5] }),
  trial('pe-hyd-pump-0-5', { material: 'pe', environment: 'near_pump', leakDistanceM: [0, 5] }),
  trial('di-hyd-pump-0-5', { material: 'ductile_iron', environment: 'near_pump', leakDistanceM: [0, 5] }),
  trial('pvc-hyd-pump', { material: 'pvc', environment: 'near_pump' }),
  // Hand-held clips of the population's mix that no step of any model used: 2,000 where the card's second test
  // has 300 (its other splits choose the recording threshold), so that two models' clips can be told apart.
  clips(17, 2000),
];

/**
 * The shipped recipe with 4,000 more training sensors on plastic mains (2,000
 * PVC, 2,000 PE; seeds of their own). Why: one context head trained on seed
 * 3's 1,400 training sensors and 1,400 more scored PVC windows of the test
 * split at ROC-AUC 0.797 with 1,400 more of the population's mix and 0.863
 * with 700 PVC and 700 PE sensors (PE 0.883 and 0.929; every window 0.928
 * and 0.927; nights 0.353 recall at 0.68 false alerts per 100 and 0.393 at
 * 0.14; asbestos cement 0.940 and 0.891): a plastic main's leak is learnt
 * from plastic mains, and the mix holds too few of them. Measured at full
 * size (2.6.0, README "2.6.0: more plastic mains"): plastic leak nights
 * found twice as often, but metal mains, hand-held clips and the
 * field-trial sets lost, so it was not shipped; kept to rebuild and compare.
 */
export const PLASTIC_MAINS_RECIPE: Recipe = {
  ...SHIPPED_RECIPE,
  extraTrain: [
    ...SHIPPED_RECIPE.extraTrain,
    { ...loggers(13, 2000, '../data/acoustic-dataset-pvc-seed13-2000'), conditions: { material: 'pvc' } },
    { ...loggers(14, 2000, '../data/acoustic-dataset-pe-seed14-2000'), conditions: { material: 'pe' } },
  ],
  conditionsTest: CONDITIONS_TEST,
};

/**
 * The shipped recipe with 2,000 more hand-held clips of plastic mains in
 * training (1,000 PVC, 1,000 PE; seeds of their own, sensor types as the
 * population draws them), measured on the same held-out recordings.
 * Why: 2.6.0 (4,000 more plastic mains as loggers' nights) found plastic
 * leak nights twice as often but lost every recording test (hand-held clips
 * 0.859 -> 0.822, the PVC-pump trial 0.913 -> 0.887): what a logger hears
 * over a night did not carry to a 30 s clip. A field engineer's recording
 * and the recordings the detector is judged on are clips, and plastic mains
 * are where clips are weakest, so this adds plastic mains as clips. Its rule
 * for shipping (detect/README.md, "2.7.0: plastic mains as clips") was
 * written before its figures were read. Measured (2.7.0, session 19): no
 * recording test moved beyond the draw of its clips, and the onset verdict
 * lost, so it was not shipped; kept to rebuild and compare.
 */
export const PLASTIC_CLIPS_RECIPE: Recipe = {
  ...SHIPPED_RECIPE,
  extraTrain: [
    ...SHIPPED_RECIPE.extraTrain,
    { ...clips(15, 1000), dir: '../data/handheld-pvc-seed15-1000', conditions: { material: 'pvc' } },
    { ...clips(16, 1000), dir: '../data/handheld-pe-seed16-1000', conditions: { material: 'pe' } },
  ],
  conditionsTest: CONDITIONS_TEST,
};

/** Recipes by name (`npm run train -w detect -- --recipe NAME`; a JSON file of a Recipe's shape is taken too). */
export const RECIPES: Readonly<Record<string, Recipe>> = { shipped: SHIPPED_RECIPE, 'plastic-mains': PLASTIC_MAINS_RECIPE, 'plastic-clips': PLASTIC_CLIPS_RECIPE };

/** Every data set the recipe reads, each once. */
export const recipeDatasets = (r: Recipe): DatasetRecipe[] => {
  const all = [r.data, ...r.extraTrain, ...r.extraVal, ...(r.recordingsTest ? [r.recordingsTest] : []), ...(r.onsetTest ? [r.onsetTest] : []), ...(r.levelHistory ?? []), ...(r.stageThresholds ?? []), ...(r.conditionsTest ?? [])];
  return all.filter((d, i) => all.findIndex((e) => e.dir === d.dir) === i);
};

/** The dataset command's options for one data set. */
export const datasetArgs = (d: DatasetRecipe): string[] => [
  '--seed', String(d.seed), '--sensors', String(d.sensors), '--nights', String(d.nights), '--frames-per-night', String(d.framesPerNight),
  '--frame-seconds', String(d.frameSeconds), '--day-share', String(d.dayShare),
  ...(d.leakShare !== undefined ? ['--leak-share', String(d.leakShare)] : []),
  ...(d.leakOnsetShare !== undefined ? ['--leak-onset-share', String(d.leakOnsetShare)] : []),
  ...conditionArgs(d.conditions ?? {}),
  '--out', d.dir,
];

/** The dataset command's leak share where none is given. */
const DEFAULT_LEAK_SHARE = 0.4;

/** The dataset command's flags of a condition. */
const conditionArgs = (c: DatasetConditions): string[] => [
  ...(c.material !== undefined ? ['--material', c.material] : []),
  ...(c.environment !== undefined ? ['--environment', c.environment] : []),
  ...(c.sensorType !== undefined ? ['--sensor-type', c.sensorType] : []),
  ...(c.sampleRateHz !== undefined ? ['--sample-rate', String(c.sampleRateHz)] : []),
  ...(c.leakDistanceM !== undefined ? ['--leak-distance', `${c.leakDistanceM[0]}-${c.leakDistanceM[1]}`] : []),
];

/** Does a manifest (as the generator writes it) describe this data set, whole? */
export function manifestMatches(d: DatasetRecipe, manifest: { seed?: unknown; options?: Record<string, unknown>; conditions?: Record<string, unknown> }): boolean {
  const o = manifest.options ?? {};
  const wanted: [string, number | undefined][] = [['sensors', d.sensors], ['nights', d.nights], ['framesPerNight', d.framesPerNight], ['frameSeconds', d.frameSeconds], ['dayShare', d.dayShare], ['leakOnsetShare', d.leakOnsetShare]];
  // The generator writes the leak share always, and conditions only where one was asked for.
  const made = manifest.conditions ?? {};
  const asked: Record<string, unknown> = { ...d.conditions };
  const keys = new Set([...Object.keys(made), ...Object.keys(asked)]);
  const sameConditions = [...keys].every((k) => JSON.stringify(made[k]) === JSON.stringify(asked[k]));
  return manifest.seed === d.seed && wanted.every(([k, v]) => o[k] === v) && o.leakShare === (d.leakShare ?? DEFAULT_LEAK_SHARE) && sameConditions;
}

/**
 * train.ts's data options: the sets every run of the recipe reads in the
 * same roles. The heads' runs leave the extra validation out: it serves the
 * operating point alone (early stopping keeps to --data's validation
 * sensors), so a head is the same without it, and is spared scoring it.
 */
export const trainDataArgs = (r: Recipe, opts: { extraVal?: boolean } = {}): string[] => [
  '--data', r.data.dir,
  ...(r.extraTrain.length > 0 ? ['--extra-train', r.extraTrain.map((d) => d.dir).join(',')] : []),
  ...(r.extraVal.length > 0 && opts.extraVal !== false ? ['--extra-val', r.extraVal.map((d) => d.dir).join(',')] : []),
];

/** The hand-held recordings' test option: the merge's, and the feature shards' (they cache its features). */
export const recordingsArgs = (r: Recipe): string[] => (r.recordingsTest ? ['--recordings-test', r.recordingsTest.dir] : []);

/** The held-out tests' options (the merge run's). */
export const heldOutArgs = (r: Recipe): string[] => [
  ...recordingsArgs(r),
  ...(r.onsetTest ? ['--onset-test', r.onsetTest.dir] : []),
  ...(r.conditionsTest && r.conditionsTest.length > 0 ? ['--conditions-test', r.conditionsTest.map((d) => d.dir).join(',')] : []),
  ...(r.levelHistory && r.levelHistory.length > 0 ? ['--level-history', r.levelHistory.map((d) => d.dir).join(',')] : []),
  ...(r.stageThresholds && r.stageThresholds.length > 0 ? ['--stage-thresholds', r.stageThresholds.map((d) => d.dir).join(',')] : []),
];
