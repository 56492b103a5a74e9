/**
 * `npm run robustness -w detect -- --data DIR [--model FILE] [--split test|all] [--limit N] [--variants a,b]`
 *
 * Scores a data set's recordings (hand-held clips: one long frame a sensor)
 * as `score-wav` scores them — the streaming detector's windower, the
 * recording's earlier windows as context — as recorded and with each
 * change of recording-variants.ts, and prints per change the window
 * ROC-AUC, the clip ROC-AUC (each clip's K-th highest score among the
 * windows its verdict counts, K of the model's rule), the mean score of
 * no-leak windows, and the share of clips that `score-wav --site S
 * --material M` would call a leak (its verdict at the recording threshold,
 * a site's own where higher) with and without one. Inaudible-leak clips are
 * left out, as in the card. `--split all` takes every split: a data set of
 * one condition (the dataset command's --material, --environment, ...) that
 * no model was trained on.
 */
import { parseArgs } from 'node:util';
import { fromPcm16 } from '../audio/pcm16.ts';
import { DEFAULT_MODEL_PATH } from '../model/default-model.ts';
import { LeakModel } from '../model/leak-model.ts';
import { recordingThresholds, thresholdFor } from '../model/operating-point.ts';
import { verdictWindows } from '../model/sensor-context.ts';
import { SensorHistories, scoreSensorWindows } from '../stream/sensor-histories.ts';
import { Windower } from '../stream/windower.ts';
import { framePcm, loadSplit, SPLITS, type Split } from './dataset.ts';
import { persists, rocAuc } from './metrics.ts';
import { RECORDING_VARIANTS } from './recording-variants.ts';

const { values } = parseArgs({
  options: {
    data: { type: 'string' },
    model: { type: 'string', default: DEFAULT_MODEL_PATH },
    split: { type: 'string', default: 'test' },
    limit: { type: 'string' },
    variants: { type: 'string' },
  },
});
const fail = (message: string): never => {
  process.stderr.write(`robustness: ${message}\n`);
  process.exit(2);
};
if (!values.data) fail('give --data DIR (a data set of recordings: npm run dataset -w simulators -- --frames-per-night 1 --frame-seconds 30 ...)');
if (values.split !== 'all' && !(SPLITS as readonly string[]).includes(values.split!)) fail(`--split must be one of ${SPLITS.join(', ')} or all`);
const limit = values.limit === undefined ? Infinity : Number(values.limit);
if (!(limit >= 1)) fail(`--limit must be a number >= 1, got '${values.limit}'`);
const names = values.variants?.split(',').filter(Boolean);
const unknown = names?.filter((n) => !RECORDING_VARIANTS.some((v) => v.name === n)) ?? [];
if (unknown.length > 0) fail(`unknown variant ${unknown.join(', ')}; known: ${RECORDING_VARIANTS.map((v) => v.name).join(', ')}`);
const variants = names ? RECORDING_VARIANTS.filter((v) => names.includes(v.name)) : RECORDING_VARIANTS;

const splits = values.split === 'all' ? SPLITS : [values.split as Split];
const sets = await Promise.all(splits.map((split) => loadSplit(values.data!, split)));
// A logger's frames are minutes apart and judged with its earlier frames as context: that is the card's test, not this one.
const perSensor = new Map<string, number>();
for (const f of sets.flatMap((d) => d.frames)) perSensor.set(f.sensorId, (perSensor.get(f.sensorId) ?? 0) + 1);
if ([...perSensor.values()].some((count) => count > 1)) fail(`${values.data} ${values.split}: sensors with more than one frame; this scores recordings, one frame a sensor (--nights 1 --frames-per-night 1)`);
const clips = sets.flatMap((data) => data.frames.filter((f) => !f.leak || f.sensorAudible).map((clip) => ({ data, clip }))).slice(0, limit);
if (!clips.some(({ clip }) => clip.leak) || !clips.some(({ clip }) => !clip.leak)) fail(`${values.data} ${values.split}: needs clips with and without an audible leak`);
const model = await LeakModel.load(values.model!);
const k = model.info.persistence?.k ?? 1;
const n = model.info.persistence?.n ?? 1;
const thresholds = recordingThresholds(model.info.thresholds, model.info.recordingThreshold);
process.stdout.write(`model ${model.info.version}; ${clips.length} clips of ${values.data} (${values.split}); clip score: the ${k}-th highest of the windows its verdict counts\n`);
for (const variant of variants) {
  const windowScores: number[] = [];
  const windowLabels: number[] = [];
  const clipScores: number[] = [];
  const clipLabels: number[] = [];
  const alerts = { leak: 0, noLeak: 0 };
  for (const [i, { data, clip }] of clips.entries()) {
    const samples = variant.apply(fromPcm16(framePcm(data, clip)), clip.sampleRateHz);
    const windows = new Windower(undefined, model.info.frontEnd).push({ startMs: clip.startMs, sampleRateHz: clip.sampleRateHz, samples });
    if (typeof windows === 'string' || windows.length === 0) continue;
    const histories = model.info.contextWindows > 1 ? new SensorHistories(model) : undefined;
    const scores = await scoreSensorWindows(model, histories, windows.map((window) => ({ sensorId: clip.id, window })));
    const counted = histories ? verdictWindows(windows.map((w) => w.startMs), n).indices : scores.map((_, j) => j);
    for (const j of counted) {
      windowScores.push(scores[j]!);
      windowLabels.push(clip.leak ? 1 : 0);
    }
    const sorted = counted.map((j) => scores[j]!).sort((a, b) => b - a);
    clipScores.push(sorted[Math.min(k, sorted.length) - 1]!);
    clipLabels.push(clip.leak ? 1 : 0);
    // score-wav's verdict where the engineer names the site and the material.
    const threshold = thresholdFor(thresholds, { site: clip.environment, material: clip.material });
    if (persists(counted.map((j) => scores[j]!), threshold, k, n)) alerts[clip.leak ? 'leak' : 'noLeak']++;
    if ((i + 1) % 100 === 0) process.stderr.write(`robustness: ${variant.name}: ${i + 1}/${clips.length} clips\n`);
  }
  const quiet = windowScores.filter((_, j) => windowLabels[j] === 0);
  const mean = quiet.reduce((a, b) => a + b, 0) / quiet.length;
  const leakClips = clipLabels.filter((l) => l === 1).length;
  const share = (x: number, of: number) => `${x}/${of} (${(x / of).toFixed(3)})`;
  process.stdout.write(
    `${variant.name.padEnd(12)} window ROC-AUC ${rocAuc(windowScores, windowLabels).toFixed(3)}  clip ROC-AUC ${rocAuc(clipScores, clipLabels).toFixed(3)}  mean no-leak window score ${mean.toFixed(3)}  ` +
      `called a leak: leak clips ${share(alerts.leak, leakClips)}, no-leak clips ${share(alerts.noLeak, clipLabels.length - leakClips)}  (${variant.description})\n`,
  );
}
await model.close();
