/**
 * `npm run train -w detect`: dataset → features → TensorFlow.js → ONNX →
 * evaluation through ONNX Runtime → model card. Deterministic for a seed.
 *
 *   tsx src/training/train.ts --data ../data/acoustic-dataset --out model [--seed 1] [--heads 1] [--k 4] [--n 6]
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { LeakModel } from '../model/leak-model.ts';
import { buildLeakModelGraph } from '../model/onnx-graph.ts';
import { MODEL_SAMPLE_RATE_HZ, WINDOW_SAMPLES, FEATURE_COUNT } from '../model/feature-spec.ts';
import { scoreWindows } from '../stream/window-scorer.ts';
import { DEFAULT_WINDOWING } from '../stream/windower.ts';
import { BASELINE_ALPHAS, baselineNights, frameLevels } from './baseline.ts';
import { SPLITS, loadSplit, type Split } from './dataset.ts';
import { chooseThreshold, nightReport, nights, persistenceScore, windowReport, type Persistence } from './evaluation.ts';
import { buildExamples, type ExampleSet } from './examples.ts';
import { DEFAULT_FIT, fitLeakModel } from './fit.ts';
import { renderModelCard } from './model-card.ts';

export const MODEL_VERSION = '1.2.0';
const TARGETS = { auc: 0.98, recall: 0.95, falsePer100: 1 };

const { values } = parseArgs({
  options: {
    data: { type: 'string', default: '../data/acoustic-dataset' },
    out: { type: 'string', default: 'model' },
    seed: { type: 'string', default: String(DEFAULT_FIT.seed) },
    k: { type: 'string', default: '4' },
    n: { type: 'string', default: '6' },
    'max-false-per-100': { type: 'string', default: '0.5' },
    epochs: { type: 'string', default: String(DEFAULT_FIT.epochs) },
    heads: { type: 'string', default: String(DEFAULT_FIT.heads) },
  },
});
const int = (name: string, text: string | undefined, min: number) => {
  const v = Number(text);
  if (!Number.isInteger(v) || v < min) throw new Error(`--${name} must be an integer >= ${min}, got '${text}'`);
  return v;
};
const dataDir = resolve(values.data!);
const outDir = resolve(values.out!);
const persistence: Persistence = { k: int('k', values.k, 1), n: int('n', values.n, 1) };
if (persistence.k > persistence.n) throw new Error('--k must not exceed --n');
const maxFalsePer100 = Number(values['max-false-per-100']);
const fitOptions = { ...DEFAULT_FIT, seed: int('seed', values.seed, 0), epochs: int('epochs', values.epochs, 1), heads: int('heads', values.heads, 1) };
const log = (msg: string) => process.stderr.write(`[train] ${msg}\n`);

const manifest = JSON.parse(await readFile(join(dataDir, 'manifest.json'), 'utf8').catch(() => {
  throw new Error(`no dataset in ${dataDir}: run \`npm run dataset -w simulators -- --out ${dataDir}\` first`);
})) as Record<string, unknown>;

const sets = {} as Record<Split, ExampleSet>;
const levelsBySplit = new Map<Split, Map<string, number>>();
const splitCounts: Record<string, { frames: number; windows: number; sensors: number; skipped: Record<string, number> }> = {};
for (const split of SPLITS) {
  const data = await loadSplit(dataDir, split);
  log(`${split}: ${data.frames.length} frames; computing features`);
  sets[split] = buildExamples(data, DEFAULT_WINDOWING, {
    keepPcm: split !== 'train',
    onProgress: (done, total) => log(`  ${split}: ${done}/${total} frames`),
  });
  splitCounts[split] = {
    frames: data.frames.length,
    windows: sets[split].examples.length,
    sensors: new Set(data.frames.map((f) => f.sensorId)).size,
    skipped: sets[split].skipped,
  };
  if (split !== 'train') levelsBySplit.set(split, frameLevels(data));
}
const levels = (split: 'val' | 'test') => levelsBySplit.get(split)!;

log(`training on ${sets.train.examples.length} windows (${sets.train.labels.reduce((a, b) => a + b, 0)} audible-leak)`);
const epochsRun: number[] = [];
const fitted = await fitLeakModel(sets.train, sets.val, {
  ...fitOptions,
  onEpoch: (epoch, loss, valLoss, head) => {
    epochsRun[head] = epoch;
    log(`  head ${head + 1}/${fitOptions.heads} epoch ${epoch}: loss ${loss.toFixed(4)}, validation ${valLoss.toFixed(4)}`);
  },
});

// Everything below is measured through the artifact we ship: ONNX Runtime on PCM windows.
// The TensorFlow.js side of the parity check is the heads' mean, as the graph computes it.
const provisional = await LeakModel.load(buildLeakModelGraph(fitted.weights, metadata(0.5)));
const pcmOf = (set: ExampleSet) => set.examples.map((e) => ({ startMs: e.windowStartMs, endMs: e.windowStartMs + 1000, parts: [e.pcm!] }));
const valScores = await scoreWindows(provisional, pcmOf(sets.val));
const testScores = await scoreWindows(provisional, pcmOf(sets.test));
await provisional.close();

const tfScores = fitted.predict(sets.val.features, sets.val.examples.length);
const parityMaxAbsDiff = valScores.reduce((m, s, i) => Math.max(m, Math.abs(s - tfScores[i]!)), 0);
fitted.dispose();
log(`ONNX Runtime vs TensorFlow.js on ${valScores.length} validation windows: max |diff| ${parityMaxAbsDiff.toExponential(2)}`);
if (parityMaxAbsDiff > 1e-3) throw new Error(`ONNX export disagrees with TensorFlow.js by ${parityMaxAbsDiff}`);

const nightScore = (s: number[]) => persistenceScore(s, persistence);
const valNights = nights(sets.val.examples, valScores, nightScore);
const threshold = chooseThreshold(valNights, maxFalsePer100);
log(`threshold ${threshold.toFixed(4)} (chosen on validation nights)`);

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
  window: windowReport(sets.test.examples, testScores, threshold),
  night: nightReport(nights(sets.test.examples, testScores, nightScore), threshold),
};
const val = { night: nightReport(valNights, threshold) };

await mkdir(outDir, { recursive: true });
await writeFile(join(outDir, 'leak-detector.onnx'), buildLeakModelGraph(fitted.weights, metadata(threshold)));
const card = {
  version: MODEL_VERSION,
  generatedAt: new Date().toISOString(),
  // The invocation as run, so the card names the data set it was really trained on.
  command: `npx tsx src/training/train.ts ${process.argv.slice(2).join(' ')}`,
  datasetDir: values.data!,
  manifest,
  splitCounts,
  fit: { ...fitOptions },
  epochsRun,
  layers: fitted.weights.layers.map((l) => ({ inputs: l.inputs, units: l.units })),
  threshold,
  persistence,
  maxFalsePer100,
  parityMaxAbsDiff,
  test,
  val,
  baseline: { alpha: baseline.alpha, thresholdDb: baseline.threshold, test: baselineTest, val: baselineVal },
  targets: TARGETS,
};
await writeFile(join(outDir, 'MODEL_CARD.md'), renderModelCard(card));
await writeFile(join(outDir, 'metrics.json'), JSON.stringify({ ...card, manifest: undefined }, null, 2) + '\n');
log(`test: window AUC ${test.window.auc.toFixed(4)}; nights: recall ${test.night.recall.toFixed(3)}, ${test.night.falseAlertsPer100Nights.toFixed(2)} false/100, AUC ${test.night.auc.toFixed(4)}`);
log(`baseline test: recall ${baselineTest.recall.toFixed(3)}, ${baselineTest.falseAlertsPer100Nights.toFixed(2)} false/100, AUC ${baselineTest.auc.toFixed(4)}`);
log(`wrote ${join(outDir, 'leak-detector.onnx')}, MODEL_CARD.md, metrics.json`);

function metadata(t: number): Record<string, string> {
  return {
    version: MODEL_VERSION,
    threshold: String(t),
    sample_rate_hz: String(MODEL_SAMPLE_RATE_HZ),
    window_samples: String(WINDOW_SAMPLES),
    features: String(FEATURE_COUNT),
    heads: String(fitOptions.heads),
    persistence_k: String(persistence.k),
    persistence_n: String(persistence.n),
    trained_on: 'simulated acoustic dataset (see MODEL_CARD.md)',
  };
}
