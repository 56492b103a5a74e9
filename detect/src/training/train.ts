/**
 * `npm run train -w detect`: dataset → features → TensorFlow.js → ONNX →
 * evaluation through ONNX Runtime → model card. Deterministic for a seed.
 *
 *   tsx src/training/train.ts --data ../data/acoustic-dataset --out model [--extra-train DIR[,DIR...]] [--extra-val DIR[,DIR...]]
 *     [--seed 1] [--heads 1] [--hidden 32,16] [--l2 0.0001] [--k 4 --n 6 | --search-persistence]
 *     [--max-false-per-100 0.5] [--backend cpu|wasm] [--colour-share 0.5] [--hum-share 0.3] [--mains-lines 0.1] [--family-probe] [--descriptor-probe] [--train-min-snr DB]
 *     [--context [--context-stride 3]] [--first-head 0] [--reuse-model DIR[,DIR...] --version V]
 *     [--separate-sites near_prv] [--separate-materials pvc,pe | --calibrate-materials] [--recordings-test DIR] [--onset-test DIR [--level-history DIR[,DIR...] [--confirm-nights] [--verdict-first-nights]]]
 *     [--conditions-test DIR[,DIR...]] [--recording-stage [--stage-thresholds DIR[,DIR...]] [--untold-stage]]
 *
 * --data gives the train, validation and test splits. --extra-train datasets
 * (other seeds of the generator: other simulated sensors) add every one of
 * their splits to TRAINING only, so validation and test stay exactly those of
 * --data and models trained with and without extra data compare on the same
 * sensors. --extra-val datasets add every one of their splits to VALIDATION
 * for the operating point (early stopping keeps to --data's validation
 * sensors, so the heads do not change): a threshold of its own for a site
 * that is 15 % of the sensors rests on few nights otherwise. The persistence rule is --k of --n (default 4 of 6); with
 * --search-persistence it is chosen on validation among
 * PERSISTENCE_CANDIDATES, with the threshold. --hidden and --l2 shape each
 * head. --colour-share passes that share of the training windows through a
 * random device response (device-colouring.ts); --hum-share adds mains hum
 * of a random grid, series and level to that share (mains-hum.ts), drawn
 * apart from the colouring. --mains-lines S gives the model a front end
 * that takes out mains lines of share S or more of a window's power
 * (audio/mains-lines.ts), trained with and served with (the model file
 * says `mains_line_share`); without it the model is high-pass only, as
 * every model before. --family-probe adds single
 * heads trained on one sensor type each and scored on the others' test
 * windows to the card (family-probe.ts). --descriptor-probe trains one head
 * more beside the run's own, each window told the main's material and the
 * sensor's type, and logs both on the test split (descriptor-probe.ts;
 * metrics.json `descriptorProbe`). --train-min-snr DB leaves audible leaks
 * under DB of in-band SNR out of training, every test keeping them
 * (label-margin.ts). --context trains a context model
 * (model/sensor-context.ts: each window scored with its sensor's previous
 * windows), on every --context-stride'th window of each training sensor
 * (default 3); colouring is then drawn per sensor. --first-head F trains
 * heads F … F + --heads − 1 of an ensemble (their seeds as one run would
 * give them), so processes can share the heads out over cores; --reuse-model
 * A,B then merges their heads into one model (merge-heads.ts).
 * --feature-cache DIR keeps each dataset split's window features there
 * (feature-cache.ts): a second run on the same data skips the hour spent on
 * them; --features-only I/N (with the command's other options as the run
 * that reads them will have them) computes only the I-th of N shares of
 * those features into the cache and stops, so N processes fill it together
 * (feature-shards.ts). --recordings-test DIR adds a second test to the card: the test
 * split of a data set of hand-held recordings (one long frame a sensor:
 * \`npm run dataset -w simulators -- --nights 1 --frames-per-night 1
 * --frame-seconds 30 --day-share 0\`), scored as score-wav scores a clip,
 * and chooses the model's recording threshold on that data set's training
 * and validation splits (evaluation.ts chooseRecordingThreshold); it must
 * not be training or validation data. --onset-test DIR adds a third test:
 * a data set with leaks that begin inside the recorded nights (\`npm run
 * dataset -w simulators -- --seed S --sensors N --leak-onset-share 0.5\`):
 * with --data's seed and sensors, its test split (the same test sensors,
 * other leak timing); with a seed no data set here has, every split (none
 * of its sensors seen by any step). Judged at the operating point, its
 * onset leaks apart from those there from the first night. --level-history DIR,...
 * (data sets with leak onsets whose sensors trained no head: another seed's
 * remake of --extra-val) fits the night verdict with level history
 * (model/level-history.ts, level-verdict.ts) on every split's nights,
 * chooses its threshold there at the same budget, writes it into the model
 * (\`level_verdict\`) and measures it on the onset test beside the K-of-N
 * rule; beside it, the verdict confirmed by the night before (a lower
 * threshold for two nights in a row, level-verdict.ts chooseConfirmation),
 * which --confirm-nights writes into the model instead; with
 * --verdict-first-nights the verdict judges a sensor's first night too, told
 * it has no earlier night (VERDICT_INPUTS_EVERY_NIGHT), where without it the
 * K-of-N rule does. --conditions-test
 * DIR,... adds a fourth: data sets of recordings of one condition each (the
 * dataset command's --material, --environment, --sensor-type, --sample-rate,
 * --leak-distance: a field trial's), every split, scored through the
 * written model file as score-wav scores them (clip-scores.ts); their seeds
 * must be none that a step here learned from (planHeldOutSets). The
 * command in a model card (`npm run train -w detect` for the committed one)
 * rebuilds that model.
 */
import '@tensorflow/tfjs-backend-wasm';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { LeakModel } from '../model/leak-model.ts';
import { denseForward } from '../model/dense-forward.ts';
import { buildLeakModelGraph, type LeakModelWeights } from '../model/onnx-graph.ts';
import { readLeakModelWeights } from '../model/onnx-weights.ts';
import { BAND_COUNT, MODEL_SAMPLE_RATE_HZ, PLAIN_FRONT_END, WINDOW_SAMPLES, FEATURE_COUNT, type FrontEnd } from '../model/feature-spec.ts';
import { CONTEXT_ROWS, CONTEXT_SPACING_MS, CONTEXT_WINDOWS } from '../model/sensor-context.ts';
import { SensorHistories, scoreSensorWindows, windowInputs } from '../stream/sensor-histories.ts';
import { reportedClips, scoreClips } from './clip-scores.ts';
import { fitRecordingStage } from './second-stage.ts';
import type { RecordingStage } from '../model/recording-stage.ts';
import { contextExamples } from './context-examples.ts';
import { DEFAULT_WINDOWING } from '../stream/windower.ts';
import { BASELINE_ALPHAS, baselineNights, frameLevels } from './baseline.ts';
import { SPLITS, loadSplit, type Split, type SplitData } from './dataset.ts';
import { PIPE_MATERIALS, SENSOR_SITES } from '@suido/ingest';
import { groupThresholds, recordingThresholds, uniformThresholds, type Thresholds } from '../model/operating-point.ts';
import { chooseOperatingPoint, chooseRecordingThreshold, chooseThreshold, nightReport, nights, onsetSensors, persistenceScore, verdictSubset, windowReport, withLeaksOf, type NightOutcome, type Persistence } from './evaluation.ts';
import { concatExamples, frameWindows, subsetExamples, type Example, type ExampleSet } from './examples.ts';
import { chooseLevelVerdict, judgedNights, verdictNights } from './level-verdict.ts';
import { VERDICT_INPUTS, VERDICT_INPUTS_EVERY_NIGHT, type LevelVerdict } from '../model/level-history.ts';
import { cachedExamples } from './feature-cache.ts';
import { parseFeatureShard, shareOut } from './feature-shards.ts';
import { probeSensorTypes, type FamilyProbe } from './family-probe.ts';
import { withoutMarginalLeaks } from './label-margin.ts';
import { probeDescriptors } from './descriptor-probe.ts';
import { DEFAULT_FIT, fitLeakModel, type FitOptions, type FittedModel } from './fit.ts';
import { planHeldOutSets, type DatasetManifest, type GivenDataset, type OnsetSplits } from './held-out-sets.ts';
import { mergeHeads } from './merge-heads.ts';
import { renderModelCard, type ConditionsReport, type ModelCardInput } from './model-card.ts';

/**
 * The one-window recipe's version (1.6.0 was the last shipped); a context
 * model (--context, the shipped recipe with --separate-sites near_prv,near_pump) is
 * 2.x: its graph takes a second input.
 */
export const MODEL_VERSION = '1.6.0';
export const CONTEXT_MODEL_VERSION = '2.4.7';
const TARGETS = { auc: 0.98, recall: 0.95, falsePer100: 1 };
/**
 * K of N window rules tried on validation nights (12 frames a night, one per
 * 10 minutes, DOMAIN.md): a leak is steady all night, a truck, a tram or a
 * spell of water use lifts one or a few windows, so rules that need most of
 * an hour or of the night are in the set beside the engine's short ones.
 */
export const PERSISTENCE_CANDIDATES: readonly Persistence[] = [
  { k: 3, n: 5 },
  { k: 4, n: 6 },
  { k: 5, n: 6 },
  { k: 6, n: 8 },
  { k: 8, n: 12 },
  { k: 10, n: 12 },
];

/**
 * A context model's scores rise a few windows after a leak starts: the
 * context must fill with leak windows first (the end-to-end leak, 2.0.0's
 * heads: 0.004, 0.009, 0.50, 0.67, then 0.82 and above from the 5th window
 * of the night it began). So of a night's 12 windows about 8 can be above a
 * threshold that night, and a rule needing more raises a new leak a night
 * late. Validation cannot show this — every simulated leak is there from the
 * sensor's first night, so its contexts never hold an onset — so such
 * rules are not offered to a context model.
 */
export const CONTEXT_ONSET_WINDOWS = 4;
const persistenceCandidates = (contextModel: boolean) =>
  contextModel ? PERSISTENCE_CANDIDATES.filter((p) => p.k <= CONTEXT_WINDOWS - CONTEXT_ONSET_WINDOWS) : PERSISTENCE_CANDIDATES;

const { values } = parseArgs({
  options: {
    data: { type: 'string', default: '../data/acoustic-dataset' },
    'extra-train': { type: 'string', default: '' },
    'extra-val': { type: 'string', default: '' },
    out: { type: 'string', default: 'model' },
    seed: { type: 'string', default: String(DEFAULT_FIT.seed) },
    k: { type: 'string', default: '4' },
    n: { type: 'string', default: '6' },
    'search-persistence': { type: 'boolean', default: false },
    'max-false-per-100': { type: 'string', default: '0.5' },
    backend: { type: 'string', default: 'cpu' },
    epochs: { type: 'string', default: String(DEFAULT_FIT.epochs) },
    heads: { type: 'string', default: String(DEFAULT_FIT.heads) },
    hidden: { type: 'string', default: DEFAULT_FIT.hidden.join(',') },
    l2: { type: 'string', default: String(DEFAULT_FIT.l2) },
    'colour-share': { type: 'string', default: '0' },
    'hum-share': { type: 'string', default: '0' },
    'mains-lines': { type: 'string' },
    'features-only': { type: 'string' },
    'family-probe': { type: 'boolean', default: false },
    'descriptor-probe': { type: 'boolean', default: false },
    'train-min-snr': { type: 'string' },
    'untold-stage': { type: 'boolean', default: false },
    context: { type: 'boolean', default: false },
    'reuse-model': { type: 'string', default: '' },
    'first-head': { type: 'string', default: '0' },
    'feature-cache': { type: 'string', default: '' },
    version: { type: 'string', default: '' },
    'context-stride': { type: 'string', default: '3' },
    'separate-sites': { type: 'string', default: '' },
    'separate-materials': { type: 'string', default: '' },
    'calibrate-materials': { type: 'boolean', default: false },
    'recording-stage': { type: 'boolean', default: false },
    'stage-thresholds': { type: 'string', default: '' },
    'recordings-test': { type: 'string', default: '' },
    'conditions-test': { type: 'string', default: '' },
    'onset-test': { type: 'string', default: '' },
    'level-history': { type: 'string', default: '' },
    'confirm-nights': { type: 'boolean', default: false },
    'verdict-first-nights': { type: 'boolean', default: false },
  },
});
const int = (name: string, text: string | undefined, min: number) => {
  const v = Number(text);
  if (!Number.isInteger(v) || v < min) throw new Error(`--${name} must be an integer >= ${min}, got '${text}'`);
  return v;
};
const list = (text: string) => text.split(',').filter((d) => d !== '');
const extraTrainArgs = list(values['extra-train']!);
const extraValArgs = list(values['extra-val']!);
const dataArgs = [values.data!, ...extraTrainArgs, ...extraValArgs];
/** Index in dataArgs → where its splits go: the first dataset is split, then the extra training ones, then the extra validation ones. */
const roleOf = (d: number): 'split' | 'train' | 'val' => (d === 0 ? 'split' : d <= extraTrainArgs.length ? 'train' : 'val');
const dataDirs = dataArgs.map((d) => resolve(d));
const outDir = resolve(values.out!);
const fixedPersistence: Persistence | undefined = values['search-persistence'] ? undefined : { k: int('k', values.k, 1), n: int('n', values.n, 1) };
if (fixedPersistence && fixedPersistence.k > fixedPersistence.n) throw new Error('--k must not exceed --n');
const maxFalsePer100 = Number(values['max-false-per-100']);
if (!(maxFalsePer100 >= 0)) throw new Error(`--max-false-per-100 must be a number >= 0, got '${values['max-false-per-100']}'`);
/**
 * --separate-sites near_prv[,...] and --separate-materials pvc[,...]:
 * registry sites (SENSOR_SITES) and pipe materials (PIPE_MATERIALS) that get
 * a threshold of their own, chosen on their validation nights; every other
 * sensor shares the default, chosen on the rest (evaluation.ts:
 * chooseOperatingPoint). The model file carries them (site_thresholds,
 * material_thresholds). --calibrate-materials: every material a threshold
 * of its own from one calibrated probability instead
 * (material-calibration.ts), chosen on the nights of sensors at sites that
 * are not separate.
 */
const namesFrom = <K extends string>(option: 'separate-sites' | 'separate-materials', allowed: readonly K[]): K[] =>
  list(values[option]!).map((s): K => {
    if (!(allowed as readonly string[]).includes(s)) throw new Error(`--${option}: '${s}' is not one of ${allowed.join(', ')}`);
    return s as K;
  });
const separate = { sites: namesFrom('separate-sites', SENSOR_SITES), materials: namesFrom('separate-materials', PIPE_MATERIALS), calibrateMaterials: values['calibrate-materials']! };
const backend = ((text: string | undefined): 'wasm' | 'cpu' => {
  if (text === 'wasm' || text === 'cpu') return text;
  throw new Error(`--backend must be wasm or cpu, got '${text}'`);
})(values.backend);
const hidden = values.hidden!.split(',').map((u) => int('hidden', u, 1));
const l2 = Number(values.l2);
if (!(l2 >= 0)) throw new Error(`--l2 must be a number >= 0, got '${values.l2}'`);
const colourShare = Number(values['colour-share']);
if (!(colourShare >= 0 && colourShare <= 1)) throw new Error(`--colour-share must be a number from 0 to 1, got '${values['colour-share']}'`);
const trainMinSnrDb = values['train-min-snr'] === undefined ? undefined : Number(values['train-min-snr']);
if (trainMinSnrDb !== undefined && !Number.isFinite(trainMinSnrDb)) throw new Error(`--train-min-snr must be a number of dB, got '${values['train-min-snr']}'`);
const humShare = Number(values['hum-share']);
if (!(humShare >= 0 && humShare <= 1)) throw new Error(`--hum-share must be a number from 0 to 1, got '${values['hum-share']}'`);
/**
 * --reuse-model DIR: the heads of the model in DIR (leak-detector.onnx, with
 * the metrics.json its training wrote) instead of training new ones — or of
 * several, DIR,DIR,..., trained apart with --first-head: one ensemble; the
 * training split is not read, and the operating point, the baseline and
 * every figure are chosen and measured again on validation and test. Give
 * the same --data and --extra-train as the command that trained it (the
 * card names them) and a --version for the result.
 */
const reuseDirs = list(values['reuse-model']!);
const reuse = reuseDirs.length > 0 ? mergeReused(await Promise.all(reuseDirs.map((d) => loadReused(resolve(d)))), reuseDirs) : undefined;
if (reuse && !values.version) throw new Error('--reuse-model needs --version: the new operating point makes another model');
const confirmNights = values['confirm-nights']!;
if (confirmNights && list(values['level-history']!).length === 0) throw new Error('--confirm-nights confirms the night verdict: it needs --level-history');
const verdictLayout = values['verdict-first-nights'] ? VERDICT_INPUTS_EVERY_NIGHT : VERDICT_INPUTS;
if (values['verdict-first-nights'] && list(values['level-history']!).length === 0) throw new Error('--verdict-first-nights fits the night verdict to judge first nights too: it needs --level-history');
if (values['recording-stage'] && !values['recordings-test']) throw new Error('--recording-stage is fitted on hand-held recordings: it needs --recordings-test');
if (values['untold-stage'] && !values['recording-stage']) throw new Error('--untold-stage fits a second recording stage beside --recording-stage\'s: it needs --recording-stage');
if (values['stage-thresholds'] && !values['recording-stage']) throw new Error('--stage-thresholds chooses the recording stage\'s thresholds: it needs --recording-stage');
if (reuse && values['first-head'] !== '0') throw new Error('--first-head is for training heads; --reuse-model takes the heads it is given');
if (reuse && (values.context || values['family-probe'])) throw new Error('--reuse-model takes --context and the probe from the reused model; leave them out');
if (reuse && values['train-min-snr'] !== undefined) throw new Error('--train-min-snr shapes training: the reused heads were trained as their card says; leave it out');
if (reuse && values['descriptor-probe']) throw new Error('--descriptor-probe trains a head beside the run\'s own: it needs a run that trains one, not --reuse-model');
const context = reuse ? reuse.metrics.context : values.context ? { stride: int('context-stride', values['context-stride'], 1) } : undefined;
/**
 * The front end the heads are trained with, and the model is served with.
 * Reused heads bring theirs; --mains-lines with --reuse-model serves them
 * with another (every figure is then measured with it, and the card says
 * what they were trained with).
 */
const frontEnd: FrontEnd = ((): FrontEnd => {
  const given = values['mains-lines'];
  const share = given === undefined ? (reuse?.metrics.mainsLineShare ?? PLAIN_FRONT_END.minLineShare) : Number(given);
  if (!(share >= 0 && share <= 1)) throw new Error(`--mains-lines must be a share from 0 to 1, got '${given}'`);
  return { minLineShare: share };
})();
/** The share the heads were trained with: the reused heads', or this run's. */
const trainedLineShare = reuse ? (reuse.metrics.trainedMainsLineShare ?? reuse.metrics.mainsLineShare) : frontEnd.minLineShare;
const modelVersion = values.version || (context ? CONTEXT_MODEL_VERSION : MODEL_VERSION);
const fitOptions = {
  ...DEFAULT_FIT,
  hidden,
  l2,
  seed: int('seed', values.seed, 0),
  epochs: int('epochs', values.epochs, 1),
  heads: int('heads', values.heads, 1),
  // Only when set, so a run without it writes the metrics.json it wrote before the option.
  ...(values['first-head'] !== '0' ? { firstHead: int('first-head', values['first-head'], 0) } : {}),
  backend,
  ...(context ? { context: true } : {}),
};
const log = (msg: string) => process.stderr.write(`[train] ${msg}\n`);

const manifestTexts: string[] = [];
for (const dir of dataDirs) {
  manifestTexts.push(
    await readFile(join(dir, 'manifest.json'), 'utf8').catch(() => {
      throw new Error(`no dataset in ${dir}: run \`npm run dataset -w simulators -- --out ${dir}\` first`);
    }),
  );
}
const manifests = manifestTexts.map((text) => JSON.parse(text) as Record<string, unknown>);
const featureCache = values['feature-cache'] ? resolve(values['feature-cache']) : undefined;
const featuresShard = values['features-only'] === undefined ? undefined : parseFeatureShard(values['features-only']);
if (featuresShard && !featureCache) throw new Error('--features-only fills the feature cache: give --feature-cache DIR');
const manifest = manifests[0]!;

// The held-out sets are checked now, not after hours of training.
/** A held-out data set's manifest, read once: its text keys the feature cache. */
const givenManifest = async (option: string, arg: string): Promise<GivenDataset & { text: string }> => {
  const text = await readFile(join(resolve(arg), 'manifest.json'), 'utf8').catch(() => {
    throw new Error(`--${option}: no dataset in ${resolve(arg)}`);
  });
  return { arg, text, manifest: JSON.parse(text) as DatasetManifest };
};
const given = (d: number): GivenDataset => ({ arg: dataArgs[d]!, manifest: manifests[d] as unknown as DatasetManifest });
const levelHistoryArgs = list(values['level-history']!);
const recordingsGiven = values['recordings-test'] ? await givenManifest('recordings-test', values['recordings-test']) : undefined;
const onsetGiven = values['onset-test'] ? await givenManifest('onset-test', values['onset-test']) : undefined;
const conditionsGiven = await Promise.all(list(values['conditions-test']!).map((d) => givenManifest('conditions-test', d)));
const stageThresholdsGiven = await Promise.all(list(values['stage-thresholds']!).map((d) => givenManifest('stage-thresholds', d)));
const { onsetSplits } = planHeldOutSets({
  data: given(0),
  extraTrain: extraTrainArgs.map((_, i) => given(1 + i)),
  extraVal: extraValArgs.map((_, i) => given(1 + extraTrainArgs.length + i)),
  recordingsTest: recordingsGiven,
  onsetTest: onsetGiven,
  conditionsTest: conditionsGiven,
  stageThresholds: stageThresholdsGiven,
  levelHistory: await Promise.all(levelHistoryArgs.map((d) => givenManifest('level-history', d))),
  contextModel: context !== undefined,
});

/**
 * Extra training datasets: every split of each goes to training. Their sensor
 * and frame ids get a prefix ("d2/S-0001"), as every generator run numbers its
 * sensors from S-0001; a check below still refuses a sensor in two splits.
 */
const loadTagged = async (dir: number, split: Split): Promise<SplitData> => {
  const data = await loadSplit(dataDirs[dir]!, split);
  if (dir === 0) return data;
  return withIdPrefix(data, `d${dir + 1}/`);
};
/** Every generator run numbers its sensors from S-0001: a prefix keeps another dataset's ids apart. */
const withIdPrefix = (data: SplitData, tag: string): SplitData => ({ ...data, frames: data.frames.map((f) => ({ ...f, id: tag + f.id, sensorId: tag + f.sensorId })) });

/** One dataset split whose window features a split of the model's data takes. */
interface FeatureJob {
  readonly split: Split;
  /** Its place among the split's sources: seeds the colouring and hum of training windows. */
  readonly part: number;
  /** Index in dataArgs. */
  readonly k: number;
  readonly from: Split;
}
/** Test comes from --data alone; training and validation also take every split of their extra datasets. */
const featureJobs = (split: Split): FeatureJob[] =>
  dataDirs
    .flatMap((_, d) => SPLITS.map((s) => [d, s] as const).filter(([dd, s]) => (roleOf(dd) === 'split' ? s === split : roleOf(dd) === split)))
    .map(([k, from], part) => ({ split, part, k, from }));
/** A job's frames and window features (from the cache where they are there). */
async function runFeatureJob({ split, part, k, from }: FeatureJob): Promise<{ data: SplitData; set: ExampleSet }> {
  const data = await loadTagged(k, from);
  const augmented = [
    ...(split === 'train' && colourShare > 0 ? [`${colourShare} of them through a random device response`] : []),
    ...(split === 'train' && humShare > 0 ? [`${humShare} with mains hum`] : []),
  ];
  log(`${split} ← ${from} of ${dataArgs[k]}: ${data.frames.length} frames; computing features${augmented.map((a) => `, ${a}`).join('')}`);
  const set = await cachedExamples(data, { manifestText: manifestTexts[k]!, split: from }, DEFAULT_WINDOWING, {
    keepPcm: split !== 'train',
    frontEnd,
    // Training windows only: validation and test are scored as recorded.
    ...(split === 'train' && colourShare > 0 ? { colouring: { share: colourShare, seed: fitOptions.seed * 1000 + part, perSensor: context !== undefined } } : {}),
    ...(split === 'train' && humShare > 0 ? { hum: { share: humShare, seed: fitOptions.seed * 1000 + part + 500, perSensor: context !== undefined } } : {}),
    onProgress: (done, total) => log(`  ${split}: ${done}/${total} frames`),
    onHit: (file) => log(`  ${split}: features from the cache (${file})`),
  }, featureCache);
  return { data, set };
}

if (featuresShard) {
  // --features-only I/N: this process's share of every feature job (the recordings' splits among them), into the cache.
  // A job weighs its frames times their seconds: a 30 s clip is thirty windows.
  const weighOf = (m: DatasetManifest, from: Split) => (m.splits?.[from]?.frames ?? 1) * (m.options.frameSeconds ?? 1);
  const jobs = [
    ...SPLITS.filter((split) => !(reuse && split === 'train')).flatMap((split) =>
      featureJobs(split).map((job) => ({ weight: weighOf(given(job.k).manifest, job.from), run: () => runFeatureJob(job) })),
    ),
    ...(recordingsGiven ? SPLITS.map((split) => ({ weight: weighOf(recordingsGiven.manifest, split), run: () => recordingExamples(recordingsGiven, [split]) })) : []),
  ];
  const mine = shareOut(jobs.map((j) => j.weight), featuresShard.count)[featuresShard.index]!;
  log(`features only: ${mine.length} of ${jobs.length} dataset splits (shard ${featuresShard.index + 1} of ${featuresShard.count}) into ${featureCache}`);
  for (const j of mine) await jobs[j]!.run();
  log('features only: done');
  process.exit(0);
}

const sets = {} as Record<Split, ExampleSet>;
const levelsBySplit = new Map<Split, Map<string, number>>();
const splitCounts: Record<string, ModelCardInput['splitCounts'][string]> = {};
const sensorsBySplit = new Map<Split, Set<string>>();
/** Sensors of --data itself (not of an extra dataset). */
const fromData = new Set<string>();
for (const split of SPLITS) {
  if (reuse && split === 'train') {
    // The reused heads were trained already: their training split is described, not read.
    sets.train = { examples: [], features: new Float32Array(0), labels: new Float32Array(0), weights: new Float32Array(0), skipped: {} };
    sensorsBySplit.set(split, new Set());
    splitCounts.train = reuse.metrics.splitCounts.train!;
    continue;
  }
  const parts: ExampleSet[] = [];
  const splitLevels = new Map<string, number>();
  let frames = 0;
  const sensors = new Set<string>();
  for (const job of featureJobs(split)) {
    const { data, set } = await runFeatureJob(job);
    parts.push(set);
    frames += data.frames.length;
    for (const f of data.frames) sensors.add(f.sensorId);
    if (job.k === 0) for (const f of data.frames) fromData.add(f.sensorId);
    if (split !== 'train') for (const [id, level] of frameLevels(data)) splitLevels.set(id, level);
  }
  const windows = parts.length === 1 ? parts[0]! : concatExamples(parts);
  if (context) log(`${split}: context features over each window and its sensor's previous ${CONTEXT_ROWS} (${CONTEXT_SPACING_MS / 1000} s or more apart)${split === 'train' && context.stride > 1 ? `, one window in ${context.stride}` : ''}`);
  sets[split] = context ? contextExamples(windows, { stride: split === 'train' ? context.stride : 1 }) : windows;
  sensorsBySplit.set(split, sensors);
  splitCounts[split] = { frames, windows: sets[split].examples.length, sensors: sensors.size, skipped: sets[split].skipped };
  if (split !== 'train') levelsBySplit.set(split, splitLevels);
}
const levels = (split: 'val' | 'test') => levelsBySplit.get(split)!;
for (const [a, b] of [['train', 'val'], ['train', 'test'], ['val', 'test']] as const) {
  const shared = [...sensorsBySplit.get(a)!].filter((id) => sensorsBySplit.get(b)!.has(id));
  if (shared.length > 0) throw new Error(`sensors in both ${a} and ${b}: ${shared.slice(0, 5).join(', ')}${shared.length > 5 ? ', …' : ''}`);
}

if (trainMinSnrDb !== undefined && !reuse) {
  const { set, dropped } = withoutMarginalLeaks(sets.train, trainMinSnrDb, context !== undefined);
  sets.train = set;
  log(`train: ${dropped} leak windows under ${trainMinSnrDb} dB of SNR (${context ? "the sensor's on a quiet night" : "the frame's"}) weigh 0 (label-margin.ts)`);
}
const epochsRun: number[] = reuse ? [...reuse.metrics.epochsRun] : [];
if (reuse) log(`heads reused from ${values['reuse-model']} (${reuse.metrics.version}, trained by: ${reuse.trainedBy.join(' and ')})`);
else log(`training on ${sets.train.examples.length} windows (${sets.train.labels.reduce((a, b) => a + b, 0)} audible-leak)`);
// Early stopping watches --data's validation sensors only: --extra-val is for the operating point, so that
// adding it leaves the heads (and a retrain's reproduction of them) as they were.
const stopping = extraValArgs.length === 0 ? sets.val : subsetExamples(sets.val, (e) => fromData.has(e.meta.sensorId));
const fitted = reuse ? reusedFit(reuse.weights) : await fitLeakModel(sets.train, stopping, {
  ...fitOptions,
  onEpoch: (epoch, loss, valLoss, head) => {
    const first = fitOptions.firstHead ?? 0;
    epochsRun[head - first] = epoch;
    log(`  head ${head + 1}/${first + fitOptions.heads} epoch ${epoch}: loss ${loss.toFixed(4)}, validation ${valLoss.toFixed(4)}`);
  },
});
// A head told the main's material and the sensor's type, beside the run's own (descriptor-probe.ts), nights by the shipped 8 of 12.
const descriptorProbe = values['descriptor-probe']
  ? await probeDescriptors({ train: sets.train, stopping, val: sets.val, test: sets.test }, (set) => fitted.predict(set.features, set.examples.length), fitOptions, { k: 8, n: 12 }, maxFalsePer100, separate, log)
  : undefined;

// Everything below is measured through the artifact we ship: ONNX Runtime on PCM windows.
// The TensorFlow.js side of the parity check is the heads' mean, as the graph computes it.
// Threshold and persistence are not chosen yet; scores do not depend on them.
// A context model scores each split's windows in their sensors' time order, as the detector does.
const provisional = await LeakModel.load(buildLeakModelGraph(fitted.weights, metadata(uniformThresholds(0.5), PERSISTENCE_CANDIDATES[0]!)));
const pcmOf = (examples: readonly Example[]) => examples.map((e) => ({ sensorId: e.meta.sensorId, window: { startMs: e.windowStartMs, endMs: e.windowStartMs + 1000, parts: [e.pcm!] } }));
const scoreSplit = (set: ExampleSet) => scoreSensorWindows(provisional, context ? new SensorHistories(provisional) : undefined, pcmOf(set.examples));
const valScores = await scoreSplit(sets.val);
const recordingsSet = recordingsGiven ? await recordingExamples(recordingsGiven, ['test']) : undefined;
const recordingsScores = recordingsSet ? await scoreSplit(recordingsSet.set) : undefined;
// Its training and validation splits (none of their sensors trained a head) choose the recording threshold.
const recordingsChoiceSet = recordingsGiven ? await recordingExamples(recordingsGiven, ['train', 'val']) : undefined;
const recordingsChoiceScores = recordingsChoiceSet ? await scoreSplit(recordingsChoiceSet.set) : undefined;
/** Scores and band levels (the graph's band_levels) of windows, each sensor's in time order. */
const scoreWithLevels = async (examples: readonly Example[]) => {
  const inputs = pcmOf(examples).flatMap((w) => windowInputs(w.sensorId, w.window));
  const bandLevels = new Float32Array(inputs.length * BAND_COUNT);
  const scores = await new SensorHistories(provisional).score(inputs, bandLevels);
  return { scores, bandLevels };
};
const onsetSet = onsetGiven && onsetSplits ? await onsetExamples(onsetGiven, onsetSplits) : undefined;
const onsetScored = onsetSet ? await scoreWithLevels(onsetSet.examples) : undefined;
const levelHistoryParts: { examples: Example[]; scores: Float32Array; bandLevels: Float32Array }[] = [];
for (const dir of levelHistoryArgs) {
  for (const split of SPLITS) {
    const examples = await levelHistoryExamples(dir, split);
    const scored = await scoreWithLevels(examples);
    // Only the nights are kept: a split's PCM is a gigabyte.
    levelHistoryParts.push({ examples: examples.map(({ pcm: _, ...e }) => e), ...scored });
    log(`  level history: scored ${examples.length} windows of ${split} of ${dir}`);
  }
}
// The test split's nights as the detector judges them with the verdict: its band levels too. Each
// example is one model input, so a context model's scores here are scoreSplit's to the bit: scored once.
const testWithLevels = levelHistoryArgs.length > 0 ? await scoreWithLevels(sets.test.examples) : undefined;
const testScores = testWithLevels && context ? Array.from(testWithLevels.scores) : await scoreSplit(sets.test);
await provisional.close();

const tfScores = fitted.predict(sets.val.features, sets.val.examples.length);
const parityMaxAbsDiff = valScores.reduce((m, s, i) => Math.max(m, Math.abs(s - tfScores[i]!)), 0);
fitted.dispose();
log(`ONNX Runtime vs ${reuse ? 'the TypeScript forward pass of the reused heads' : 'TensorFlow.js'} on ${valScores.length} validation windows: max |diff| ${parityMaxAbsDiff.toExponential(2)}`);
if (parityMaxAbsDiff > 1e-3) throw new Error(`ONNX export disagrees with TensorFlow.js by ${parityMaxAbsDiff}`);

// Single heads trained on one sensor type each, scored on every type's test windows (family-probe.ts).
const familyProbe = reuse ? reuse.metrics.familyProbe : values['family-probe'] ? await probeSensorTypes({ ...sets, val: stopping }, { ...fitOptions, patience: Math.min(fitOptions.patience, 4) }, log) : undefined;

// The operating point (K of N and threshold) is chosen on validation nights only.
const { chosen, tried: operatingPoints } = chooseOperatingPoint(
  sets.val.examples,
  valScores,
  fixedPersistence ? [fixedPersistence] : persistenceCandidates(context !== undefined),
  maxFalsePer100,
  separate,
);
const describe = (t: Thresholds) => [`threshold ${t.default.toFixed(4)}`, ...groupThresholds(t).map(([name, v]) => `${name} ${v.toFixed(4)}`)].join(', ');
for (const o of operatingPoints) {
  log(`  ${o.persistence.k} of ${o.persistence.n}: ${describe(o.thresholds)}, validation recall ${o.recall.toFixed(3)} at ${o.falsePer100.toFixed(2)} false/100, night AUC ${o.auc.toFixed(4)}, first-night share ${o.firstNightShare.toFixed(3)}`);
}
const { persistence, thresholds, nights: valNights } = chosen;
const nightScore = (s: number[]) => persistenceScore(s, persistence);
log(`operating point: ${persistence.k} of ${persistence.n}, ${describe(thresholds)} (chosen on validation nights)`);

// The baseline gets the same treatment: parameters chosen on validation only.
let baseline = { alpha: 0, threshold: 0, recall: -1 };
for (const alpha of BASELINE_ALPHAS) {
  const bn = baselineNights(sets.val.examples, levels('val'), alpha);
  const t = chooseThreshold(bn, maxFalsePer100);
  const r = nightReport(bn, t).recall;
  if (r > baseline.recall) baseline = { alpha, threshold: t, recall: r };
}
const baselineVal = nightReport(baselineNights(sets.val.examples, levels('val'), baseline.alpha), baseline.threshold);
const baselineTest = nightReport(baselineNights(sets.test.examples, levels('test'), baseline.alpha), baseline.threshold);

const test = {
  window: windowReport(sets.test.examples, testScores, thresholds),
  night: nightReport(nights(sets.test.examples, testScores, nightScore), thresholds),
};
const val = { night: nightReport(valNights, thresholds) };
const recordingChoice =
  recordingsChoiceSet && recordingsChoiceScores ? chooseRecordingThreshold(recordingsChoiceSet.set.examples, recordingsChoiceScores, persistence, maxFalsePer100, separate) : undefined;
if (recordingChoice) log(`recording threshold: ${recordingChoice.threshold.toFixed(4)} (chosen on ${recordingChoice.chosenOn} validation no-leak recordings)`);
const recordings =
  recordingsSet && recordingsScores && recordingChoice
    ? (() => {
        const v = context ? verdictSubset(recordingsSet.set.examples, recordingsScores, persistence.n) : { examples: recordingsSet.set.examples, scores: recordingsScores };
        const outcomes = nights(v.examples, v.scores, nightScore);
        const own = recordingThresholds(thresholds, recordingChoice.threshold);
        return {
          dir: values['recordings-test']!,
          frameSeconds: recordingsSet.frameSeconds,
          threshold: recordingChoice.threshold,
          chosenOn: recordingChoice.chosenOn,
          window: windowReport(recordingsSet.set.examples, recordingsScores, own),
          night: nightReport(outcomes, own),
          atLoggerThresholds: nightReport(outcomes, thresholds),
        };
      })()
    : undefined;
const levelChoice =
  levelHistoryParts.length > 0
    ? chooseLevelVerdict(
        levelHistoryParts.flatMap((p) => verdictNights(p.examples, p.scores, p.bandLevels, persistence, thresholds)),
        Object.keys(thresholds.bySite).sort(),
        maxFalsePer100,
        verdictLayout,
      )
    : undefined;
/** The verdict the model carries: each night alone, or confirmed by the night before (--confirm-nights, where that found more leak nights). */
const shippedVerdict = levelChoice && (confirmNights ? levelChoice.verdict : levelChoice.alone);
if (levelChoice) {
  const { alone, confirmed } = levelChoice.fitting;
  log(`level verdict: threshold ${levelChoice.alone.threshold.toFixed(4)}, fitted on ${levelChoice.leakNights} leak and ${levelChoice.noLeakNights} no-leak nights${verdictLayout === VERDICT_INPUTS_EVERY_NIGHT ? ', first nights too' : ' with an earlier night'}: recall ${alone.recall.toFixed(3)}, ${alone.falsePer100.toFixed(2)} false/100`);
  log(
    confirmed
      ? `  confirmed by the night before: ${levelChoice.verdict.confirmedThreshold!.toFixed(4)} two nights in a row, ${levelChoice.verdict.threshold.toFixed(4)} alone: recall ${confirmed.recall.toFixed(3)}, ${confirmed.falsePer100.toFixed(2)} false/100 (${confirmNights ? 'the model carries it' : 'measured, not carried: --confirm-nights'})`
      : '  confirmed by the night before: no pair of thresholds finds more leak nights; every night stands alone',
  );
}
const onset =
  onsetSet && onsetScored
    ? (() => {
        const outcomes = nights(onsetSet.examples, onsetScored.scores, nightScore);
        const began = onsetSensors(onsetSet.examples);
        const vn = levelChoice ? verdictNights(onsetSet.examples, onsetScored.scores, onsetScored.bandLevels, persistence, thresholds) : undefined;
        const bothWays = (judged: NightOutcome[]) => ({
          onset: nightReport(withLeaksOf(judged, began, true), 0.5),
          fromFirstNight: nightReport(withLeaksOf(judged, began, false), 0.5),
          night: nightReport(judged, 0.5),
          // The ranking where the verdict judges at all: one scale per column.
          withHistory: nightReport(judged.filter((_, i) => vn![i]!.rise !== undefined), 0.5),
        });
        return {
          dir: values['onset-test']!,
          leakOnsetShare: onsetSet.leakOnsetShare,
          splits: onsetSet.splits,
          sensors: new Set(onsetSet.examples.map((e) => e.meta.sensorId)).size,
          night: nightReport(outcomes, thresholds),
          onset: nightReport(withLeaksOf(outcomes, began, true), thresholds),
          fromFirstNight: nightReport(withLeaksOf(outcomes, began, false), thresholds),
          levelHistory:
            levelChoice && vn
              ? {
                  dirs: levelHistoryArgs,
                  verdict: shippedVerdict!,
                  fittedOn: { leakNights: levelChoice.leakNights, noLeakNights: levelChoice.noLeakNights },
                  nightsWithHistory: vn.filter((n) => n.rise !== undefined).length,
                  rule: bothWays(judgedNights(vn)),
                  verdictResult: bothWays(judgedNights(vn, shippedVerdict)),
                  testSplit: testWithLevels && (() => {
                    const tn = verdictNights(sets.test.examples, testWithLevels.scores, testWithLevels.bandLevels, persistence, thresholds);
                    return { rule: nightReport(judgedNights(tn), 0.5), verdict: nightReport(judgedNights(tn, shippedVerdict), 0.5) };
                  })(),
                  confirmation:
                    levelChoice.fitting.confirmed && {
                      adopted: confirmNights,
                      threshold: levelChoice.verdict.threshold,
                      confirmedThreshold: levelChoice.verdict.confirmedThreshold!,
                      aloneThreshold: levelChoice.alone.threshold,
                      aloneResult: bothWays(judgedNights(vn, levelChoice.alone)),
                      confirmedResult: bothWays(judgedNights(vn, levelChoice.verdict)),
                      fitting: { alone: levelChoice.fitting.alone, confirmed: levelChoice.fitting.confirmed },
                    },
                }
              : undefined,
        };
      })()
    : undefined;

/**
 * --recording-stage: the second stage that judges a hand-held recording as a
 * whole (model/recording-stage.ts), fitted on the --recordings-test data
 * set's train and val splits (those the recording threshold is chosen on)
 * through the model as written, and measured on its test split; its
 * thresholds chosen on those and on every split of the --stage-thresholds
 * sets (recordings of seeds of their own).
 */
const stageFit =
  values['recording-stage'] && recordingsGiven
    ? await (async () => {
        const written = await LeakModel.load(buildLeakModelGraph(fitted.weights, metadata(thresholds, persistence, recordingChoice?.threshold, shippedVerdict)));
        try {
          const clipsOf = async (splits: readonly Split[]) => (await Promise.all(splits.map((split) => loadSplit(values['recordings-test']!, split)))).flatMap(reportedClips);
          const choosing = (await Promise.all(stageThresholdsGiven.flatMap((d) => SPLITS.map((split) => loadSplit(d.arg, split))))).flatMap(reportedClips);
          const r = await fitRecordingStage(written, await clipsOf(['train', 'val']), await clipsOf(['test']), maxFalsePer100, { choosing, untold: values['untold-stage']! });
          const t = r.report.test;
          log(`recording stage: fitted on ${r.report.fittedOn.leak} leak and ${r.report.fittedOn.noLeak} no-leak recordings, thresholds chosen on ${r.report.thresholdsChosenOn} no-leak; test clip AUC ${t.headsAuc.toFixed(3)} -> ${t.stageAuc.toFixed(3)}, leak recordings called ${t.heads.leakCalled} -> ${t.stage.leakCalled} of ${t.leak}, no-leak ${t.heads.noLeakCalled} -> ${t.stage.noLeakCalled} of ${t.noLeak}`);
          const u = r.untold?.report.test;
          if (u) log(`recording stage untold (never told the material): test clip AUC ${u.headsAuc.toFixed(3)} -> ${u.stageAuc.toFixed(3)}, leak recordings called ${u.stage.leakCalled} of ${u.leak}, no-leak ${u.stage.noLeakCalled} of ${u.noLeak}`);
          return r;
        } finally {
          await written.close();
        }
      })()
    : undefined;

await mkdir(outDir, { recursive: true });
await writeFile(join(outDir, 'leak-detector.onnx'), buildLeakModelGraph(fitted.weights, metadata(thresholds, persistence, recordingChoice?.threshold, shippedVerdict, stageFit?.stage, stageFit?.untold?.stage)));
const conditions = conditionsGiven.length > 0 ? await conditionsReports(join(outDir, 'leak-detector.onnx'), conditionsGiven) : undefined;
const card = {
  version: modelVersion,
  generatedAt: new Date().toISOString(),
  // The invocation as run, so the card names the data set it was really trained on.
  command: `npx tsx src/training/train.ts ${process.argv.slice(2).join(' ')}`,
  // Heads reused twice over were still trained by the first command(s).
  reusedFrom: reuse?.trainedBy,
  datasetDir: values.data!,
  manifest,
  moreData: extraTrainArgs.map((dir, i) => ({ dir, manifest: manifests[i + 1]! })),
  moreValidation: extraValArgs.map((dir, i) => ({ dir, manifest: manifests[i + 1 + extraTrainArgs.length]! })),
  operatingPoints: operatingPoints.map(({ nights: _, ...o }) => o),
  chosenOn: chosen.chosenOn,
  splitCounts,
  fit: reuse ? reuse.metrics.fit : { ...fitOptions },
  colourShare: reuse ? reuse.metrics.colourShare : colourShare,
  humShare: reuse ? reuse.metrics.humShare : humShare,
  ...((reuse ? reuse.metrics.trainMinSnrDb : trainMinSnrDb) !== undefined && { trainMinSnrDb: reuse ? reuse.metrics.trainMinSnrDb : trainMinSnrDb }),
  mainsLineShare: frontEnd.minLineShare,
  ...(trainedLineShare !== frontEnd.minLineShare && { trainedMainsLineShare: trainedLineShare }),
  context,
  familyProbe,
  ...(descriptorProbe && { descriptorProbe }),
  epochsRun,
  layers: fitted.weights.layers.map((l) => ({ inputs: l.inputs, units: l.units })),
  thresholds,
  persistence,
  maxFalsePer100,
  parityMaxAbsDiff,
  test,
  val,
  baseline: { alpha: baseline.alpha, thresholdDb: baseline.threshold, test: baselineTest, val: baselineVal },
  recordings,
  recordingStage: stageFit?.report,
  recordingStageUntold: stageFit?.untold?.report,
  onset,
  conditions,
  targets: TARGETS,
};
await writeFile(join(outDir, 'MODEL_CARD.md'), renderModelCard(card));
// metrics.json leaves out the default backend, so a run on 'cpu' writes the same file as before the option existed.
const { backend: usedBackend, ...fitRest } = card.fit;
await writeFile(
  join(outDir, 'metrics.json'),
  JSON.stringify(
    {
      ...card,
      manifest: undefined,
      fit: usedBackend === 'cpu' ? fitRest : card.fit,
      // Left out at 0, as the backend is: a run without hum writes the file it wrote before the option.
      humShare: card.humShare > 0 ? card.humShare : undefined,
      mainsLineShare: card.mainsLineShare > 0 ? card.mainsLineShare : undefined,
      moreData: card.moreData.length === 0 ? undefined : card.moreData.map(({ dir, manifest: m }) => ({ dir, seed: m.seed, options: m.options })),
      moreValidation: card.moreValidation.length === 0 ? undefined : card.moreValidation.map(({ dir, manifest: m }) => ({ dir, seed: m.seed, options: m.options })),
      operatingPoints: card.operatingPoints.length <= 1 ? undefined : card.operatingPoints,
    },
    null,
    2,
  ) + '\n',
);
log(`test: window AUC ${test.window.auc.toFixed(4)}; nights: recall ${test.night.recall.toFixed(3)}, ${test.night.falseAlertsPer100Nights.toFixed(2)} false/100, AUC ${test.night.auc.toFixed(4)}`);
if (recordings) log(`hand-held recordings: window AUC ${recordings.window.auc.toFixed(4)}; recordings: recall ${recordings.night.recall.toFixed(3)}, ${recordings.night.falseAlertsPer100Nights.toFixed(2)} false/100, AUC ${recordings.night.auc.toFixed(4)}`);
for (const c of conditions ?? []) {
  log(`conditions test ${c.dir}: clip AUC ${c.clipAuc.toFixed(4)}, window AUC ${c.windowAuc.toFixed(4)}; called a leak: ${c.leakClipsCalled} of ${c.leakClips} leak clips, ${c.noLeakClipsCalled} of ${c.noLeakClips} no-leak clips`);
}
if (onset) log(`onset test: leaks that begin inside the nights: recall ${onset.onset.recall.toFixed(3)}, alerted on the night they begin ${(onset.onset.alertedByNight[0] ?? 0).toFixed(3)}; leaks there from the first night: recall ${onset.fromFirstNight.recall.toFixed(3)}; ${onset.night.falseAlertsPer100Nights.toFixed(2)} false/100`);
const lh = onset?.levelHistory;
if (lh) {
  const judges = lh.confirmation
    ? ([['K-of-N rule', lh.rule], ['level verdict, each night alone', lh.confirmation.aloneResult], ['level verdict, confirmed by the night before', lh.confirmation.confirmedResult]] as const)
    : ([['K-of-N rule', lh.rule], ['level verdict', lh.verdictResult]] as const);
  for (const [name, r] of judges) {
    log(`  ${name}: onsets recall ${r.onset.recall.toFixed(3)}, on the night they begin ${(r.onset.alertedByNight[0] ?? 0).toFixed(3)}; from the first night recall ${r.fromFirstNight.recall.toFixed(3)}; ${r.night.falseAlertsPer100Nights.toFixed(2)} false/100, night AUC where it judges ${r.withHistory.auc.toFixed(4)}`);
  }
}
log(`baseline test: recall ${baselineTest.recall.toFixed(3)}, ${baselineTest.falseAlertsPer100Nights.toFixed(2)} false/100, AUC ${baselineTest.auc.toFixed(4)}`);
log(`wrote ${join(outDir, 'leak-detector.onnx')}, MODEL_CARD.md, metrics.json`);

function metadata(t: Thresholds, persistence: Persistence, recordingThreshold?: number, levelVerdict?: LevelVerdict, recordingStage?: RecordingStage, recordingStageUntold?: RecordingStage): Record<string, string> {
  return {
    version: modelVersion,
    threshold: String(t.default),
    // Only where there are any: a model without them reads as before.
    ...(Object.keys(t.bySite).length > 0 && { site_thresholds: JSON.stringify(t.bySite) }),
    ...(Object.keys(t.byMaterial).length > 0 && { material_thresholds: JSON.stringify(t.byMaterial) }),
    ...(recordingThreshold !== undefined && { recording_threshold: String(recordingThreshold) }),
    ...(levelVerdict !== undefined && { level_verdict: JSON.stringify(levelVerdict) }),
    ...(recordingStage !== undefined && { recording_stage: JSON.stringify(recordingStage) }),
    ...(recordingStageUntold !== undefined && { recording_stage_untold: JSON.stringify(recordingStageUntold) }),
    ...(frontEnd.minLineShare > 0 && { mains_line_share: String(frontEnd.minLineShare) }),
    sample_rate_hz: String(MODEL_SAMPLE_RATE_HZ),
    window_samples: String(WINDOW_SAMPLES),
    features: String(FEATURE_COUNT),
    // The merged ensemble's, for reused heads (2.4.3's file says 1 for its four: written before this was mended).
    heads: String(reuse ? reuse.metrics.fit.heads : fitOptions.heads),
    persistence_k: String(persistence.k),
    persistence_n: String(persistence.n),
    trained_on: 'simulated acoustic dataset (see MODEL_CARD.md)',
  };
}

/**
 * --recordings-test: splits of a data set of hand-held recordings (the test
 * split to measure, the others to choose the recording threshold on),
 * windowed (and put in context) as the test split is; its sensor ids get a
 * prefix, as every generator run numbers its sensors from S-0001.
 */
async function recordingExamples(
  given: { arg: string; text: string; manifest: DatasetManifest },
  splits: readonly ('train' | 'val' | 'test')[],
): Promise<{ set: ExampleSet; frameSeconds: number }> {
  // The generator writes every option it ran with, frameSeconds among them.
  const frameSeconds = given.manifest.options.frameSeconds!;
  const parts: ExampleSet[] = [];
  for (const split of splits) {
    const data = await loadSplit(resolve(given.arg), split);
    const tagged = withIdPrefix(data, 'rec/');
    log(`recordings ← ${split} of ${given.arg}: ${data.frames.length} recordings of ${frameSeconds} s; computing features`);
    parts.push(
      await cachedExamples(tagged, { manifestText: given.text, split }, DEFAULT_WINDOWING, {
        keepPcm: true,
        frontEnd,
        onProgress: (done, total) => log(`  recordings: ${done}/${total} frames`),
        onHit: (file) => log(`  recordings: features from the cache (${file})`),
      }, featureCache),
    );
  }
  const windows = parts.length === 1 ? parts[0]! : concatExamples(parts);
  return { set: context ? contextExamples(windows, { stride: 1 }) : windows, frameSeconds };
}

/**
 * --onset-test (planHeldOutSets chose its splits): --data's remake's test
 * split (the same test sensors, none of which trained a head, with leaks
 * that begin inside the recorded nights), or every split of a seed no step
 * used; windowed and put in context as the test split is.
 */
async function onsetExamples(given: GivenDataset, splits: OnsetSplits): Promise<{ examples: Example[]; leakOnsetShare: number; splits: OnsetSplits }> {
  const dir = given.arg;
  const examples: Example[] = [];
  for (const split of splits === 'test' ? (['test'] as const) : SPLITS) {
    const data = await loadSplit(resolve(dir), split);
    log(`onset test ← ${split} of ${dir}: ${data.frames.length} frames`);
    // Another seed's sensors are numbered from S-0001 too: a prefix per split keeps them apart.
    examples.push(...windowsOf(splits === 'test' ? data : withIdPrefix(data, `onset-${split}/`)));
  }
  // planHeldOutSets refused an onset test without onsets.
  return { examples, leakOnsetShare: given.manifest.options.leakOnsetShare!, splits };
}

/**
 * --conditions-test: each data set of one condition (planHeldOutSets: one
 * recording a sensor, a seed no other data set here has), every split,
 * scored through the model file as written, as score-wav scores a recording.
 */
async function conditionsReports(modelFile: string, givens: readonly (GivenDataset & { text: string })[]): Promise<ConditionsReport[]> {
  const model = await LeakModel.load(modelFile);
  try {
    const out: ConditionsReport[] = [];
    for (const g of givens) {
      const clips = (await Promise.all(SPLITS.map((split) => loadSplit(resolve(g.arg), split)))).flatMap(reportedClips);
      log(`conditions test ← ${g.arg}: ${clips.length} recordings`);
      const report = await scoreClips(model, clips);
      out.push({ dir: g.arg, seed: g.manifest.seed, conditions: g.manifest.conditions ?? {}, frameSeconds: g.manifest.options.frameSeconds!, ...report });
    }
    return out;
  } finally {
    await model.close();
  }
}

/** --level-history: a split of a data set with leak onsets whose seed trained no head (planHeldOutSets). */
async function levelHistoryExamples(dir: string, split: Split): Promise<Example[]> {
  const data = withIdPrefix(await loadSplit(dir, split), 'lh/');
  log(`level history ← ${split} of ${dir}: ${data.frames.length} frames`);
  return windowsOf(data);
}

/** A split's windows with their PCM, no features: only scored, through the model. */
function windowsOf(data: SplitData): Example[] {
  const skipped: Record<string, number> = {};
  return [...frameWindows(data, DEFAULT_WINDOWING, skipped, { frontEnd })].map((w) => ({ meta: w.meta, windowStartMs: w.startMs, pcm: w.pcm }));
}

/** The model file and the metrics.json of a model trained before (--reuse-model). */
interface Reused {
  readonly weights: LeakModelWeights;
  /** The commands that trained its heads. */
  readonly trainedBy: readonly string[];
  readonly metrics: {
    readonly version: string;
    readonly command: string;
    /** Set when that model reused heads in turn: the command(s) that trained them (one string in cards before merging). */
    readonly reusedFrom?: string | readonly string[] | undefined;
    readonly splitCounts: ModelCardInput['splitCounts'];
    readonly fit: Omit<FitOptions, 'onEpoch'>;
    readonly epochsRun: number[];
    readonly colourShare: number;
    readonly humShare: number;
    /** Set where the heads were trained without leaks under this SNR (label-margin.ts). */
    readonly trainMinSnrDb?: number | undefined;
    /** The front end's mains-line share the model serves its heads with (0: plain); they were trained with it unless trainedMainsLineShare says otherwise. */
    readonly mainsLineShare: number;
    /** Set where the heads were trained with another front end than the model serves them with. */
    readonly trainedMainsLineShare?: number | undefined;
    readonly context?: { stride: number } | undefined;
    readonly familyProbe?: FamilyProbe | undefined;
  };
}

async function loadReused(dir: string): Promise<Reused> {
  const bytes = await readFile(join(dir, 'leak-detector.onnx'));
  // Written by an earlier run of this script: colourShare, humShare and mainsLineShare are absent from cards older than the options (and at 0).
  const metrics = JSON.parse(await readFile(join(dir, 'metrics.json'), 'utf8')) as Omit<Reused['metrics'], 'colourShare' | 'humShare' | 'mainsLineShare'> & { colourShare?: number; humShare?: number; mainsLineShare?: number };
  const weights = readLeakModelWeights(bytes);
  if (Boolean(weights.context) !== Boolean(metrics.context)) throw new Error(`${dir}: metrics.json and the model disagree on whether it is a context model`);
  const trainedBy = metrics.reusedFrom === undefined ? [metrics.command] : typeof metrics.reusedFrom === 'string' ? [metrics.reusedFrom] : [...metrics.reusedFrom];
  return { weights, trainedBy, metrics: { ...metrics, fit: { backend: 'cpu' as const, ...metrics.fit }, colourShare: metrics.colourShare ?? 0, humShare: metrics.humShare ?? 0, mainsLineShare: metrics.mainsLineShare ?? 0 } };
}

/**
 * Models trained apart (--first-head) as one: their heads merged in the
 * order given, which must leave no gap in the seeds (the card names them
 * as a range); the first model's description stands for all, with every
 * run's epochs and command.
 */
function mergeReused(models: readonly Reused[], names: readonly string[]): Reused {
  if (models.length === 1) return models[0]!;
  const shares = new Set(models.map((m) => m.metrics.trainedMainsLineShare ?? m.metrics.mainsLineShare));
  if (shares.size > 1) throw new Error(`the heads were trained with different front ends (mains-line shares ${[...shares].join(', ')}): one model serves one`);
  const seedsOf = (m: Reused) => Array.from({ length: m.metrics.fit.heads }, (_, h) => m.metrics.fit.seed + (m.metrics.fit.firstHead ?? 0) + h);
  const { weights, headSeeds } = mergeHeads(models.map((m, i) => ({ name: names[i]!, weights: m.weights, headSeeds: seedsOf(m) })));
  const lowest = Math.min(...headSeeds);
  if ([...headSeeds].sort((a, b) => a - b).some((s, i) => s !== lowest + i)) throw new Error(`the merged heads' seeds ${headSeeds.join(', ')} leave a gap: train the missing heads with --first-head`);
  const [first] = models;
  return {
    weights,
    trainedBy: [...new Set(models.flatMap((m) => m.trainedBy))],
    metrics: {
      ...first!.metrics,
      fit: { ...first!.metrics.fit, heads: headSeeds.length, firstHead: lowest - first!.metrics.fit.seed },
      epochsRun: models.flatMap((m) => m.metrics.epochsRun),
      familyProbe: models.find((m) => m.metrics.familyProbe)?.metrics.familyProbe,
    },
  };
}

/** Reused heads in the shape training returns: TypeScript's own forward pass stands in for TensorFlow.js in the parity check. */
function reusedFit(weights: LeakModelWeights): FittedModel {
  const width = weights.featureMean.length;
  return {
    weights,
    predict: (features, rows) => Float32Array.from({ length: rows }, (_, i) => denseForward(weights, features.subarray(i * width, (i + 1) * width))),
    dispose: () => {},
  };
}
