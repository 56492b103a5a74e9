/**
 * `npm run robustness -w detect -- --data DIR [--model FILE] [--against FILE] [--split test|all] [--limit N] [--variants a,b]`
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
 * no model was trained on. `--against FILE` scores the same clips with a
 * second model (the shipped one, beside a candidate) and prints, per change,
 * its clip ROC-AUC and the difference with a bootstrap interval over the
 * clips (paired-auc.ts): whether the two differ beyond the draw of clips.
 * A model with a second stage (model/recording-stage.ts) gets lines more:
 * the stage's clip ROC-AUC against the heads' with its interval, and the
 * clips it calls a leak, told each clip's material and site; told the site
 * alone, by the model's untold stage where it has one (as `score-wav --site
 * S` judges a recording given without --material); and told neither.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_MODEL_PATH } from '../model/default-model.ts';
import { LeakModel } from '../model/leak-model.ts';
import { judgeRecording, type RecordingStage } from '../model/recording-stage.ts';
import { reportedClips, scoreClip, scoreClipWithFeatures, scoreClips } from './clip-scores.ts';
import { pairedAucDifference } from './paired-auc.ts';
import { loadSplit, SPLITS, type Split } from './dataset.ts';
import { RECORDING_VARIANTS } from './recording-variants.ts';

const { values } = parseArgs({
  options: {
    data: { type: 'string' },
    model: { type: 'string', default: DEFAULT_MODEL_PATH },
    against: { type: 'string' },
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
const clips = sets.flatMap(reportedClips).slice(0, limit);
if (!clips.some(({ meta }) => meta.leak) || !clips.some(({ meta }) => !meta.leak)) fail(`${values.data} ${values.split}: needs clips with and without an audible leak`);
const model = await LeakModel.load(values.model!);
const against = values.against === undefined ? undefined : await LeakModel.load(values.against);
process.stdout.write(`model ${model.info.version}; ${clips.length} clips of ${values.data} (${values.split}); clip score: the ${model.info.persistence?.k ?? 1}-th highest of the windows its verdict counts\n`);
for (const variant of variants) {
  const clipScores = new Map<number, number>();
  const r = await scoreClips(model, clips, {
    change: variant.apply,
    onProgress: (done) => done % 100 === 0 && process.stderr.write(`robustness: ${variant.name}: ${done}/${clips.length} clips\n`),
    onClip: (i, scored) => clipScores.set(i, scored.score),
  });
  const share = (x: number, of: number) => `${x}/${of} (${(x / of).toFixed(3)})`;
  process.stdout.write(
    `${variant.name.padEnd(12)} window ROC-AUC ${r.windowAuc.toFixed(3)}  clip ROC-AUC ${r.clipAuc.toFixed(3)}  mean no-leak window score ${r.meanNoLeakWindowScore.toFixed(3)}  ` +
      `called a leak: leak clips ${share(r.leakClipsCalled, r.leakClips)}, no-leak clips ${share(r.noLeakClipsCalled, r.noLeakClips)}  (${variant.description})\n`,
  );
  if (against) {
    const otherScores = new Map<number, number>();
    for (const [i, clip] of clips.entries()) {
      const scored = await scoreClip(against, clip, variant.apply);
      if (scored) otherScores.set(i, scored.score);
    }
    const both = [...clipScores.keys()].filter((i) => otherScores.has(i));
    const p = pairedAucDifference(both.map((i) => clipScores.get(i)!), both.map((i) => otherScores.get(i)!), both.map((i) => (clips[i]!.meta.leak ? 1 : 0)));
    const signed = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(3)}`;
    process.stdout.write(
      `${''.padEnd(12)} against ${against.info.version}: clip ROC-AUC ${p.aucB.toFixed(3)}; difference ${signed(p.difference)}, ${Math.round(p.level * 100)} % interval ${signed(p.low)} to ${signed(p.high)} ` +
        `(${p.draws} draws of the ${both.length} clips, the same for both)${p.low > 0 || p.high < 0 ? '' : ': not told apart'}\n`,
    );
  }
}
// The model's own second stage (model/recording-stage.ts), on the clips as recorded, told each clip's material and site.
const stage = model.info.recordingStage;
if (stage) {
  const heads: number[] = [];
  const labels: number[] = [];
  // As score-wav judges: told each clip's material and site (--material M --site S) by the stage; told the site alone
  // (--site S) by the untold stage where the model has one; told neither, by that stage or, without one, the told
  // stage with every main as metal (score-wav gives no stage verdict told neither: detect/README.md, "2.4.9").
  const untold = model.info.recordingStageUntold;
  interface Way { name: string; judge: RecordingStage; material: boolean; site: boolean; description: string; probabilities: number[]; leakCalled: number; noLeakCalled: number }
  const way = (name: string, judge: RecordingStage, told: { material: boolean; site: boolean }, description: string): Way => ({ name, judge, ...told, description, probabilities: [], leakCalled: 0, noLeakCalled: 0 });
  const ways = [
    way('stage', stage, { material: true, site: true }, "the model's second stage, as recorded, told each clip's material and site"),
    ...(untold ? [way('stage untold', untold, { material: false, site: true }, "the model's stage fitted never told the material, told each clip's site, as score-wav --site S judges")] : []),
    way('stage alone', untold ?? stage, { material: false, site: false }, `${untold ? "the untold stage" : 'the same stage'} told neither (score-wav gives no stage verdict so)`),
  ];
  for (const clip of clips) {
    const r = await scoreClipWithFeatures(model, clip);
    if (!r) continue;
    heads.push(r.scored.score);
    labels.push(clip.meta.leak ? 1 : 0);
    for (const way of ways) {
      const j = judgeRecording(way.judge, { score: r.scored.score, features: r.features, ...(way.material && { material: clip.meta.material }), ...(way.site && { site: clip.meta.environment }) });
      way.probabilities.push(j.probability);
      if (j.leak) clip.meta.leak ? way.leakCalled++ : way.noLeakCalled++;
    }
  }
  const leaks = labels.filter((l) => l === 1).length;
  const signed = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(3)}`;
  for (const way of ways) {
    const p = pairedAucDifference(way.probabilities, heads, labels);
    process.stdout.write(
      `${way.name.padEnd(12)} clip ROC-AUC ${p.aucA.toFixed(3)}; against the heads' ${p.aucB.toFixed(3)}: ${signed(p.difference)}, ${Math.round(p.level * 100)} % interval ${signed(p.low)} to ${signed(p.high)}  ` +
        `called a leak: leak clips ${way.leakCalled}/${leaks}, no-leak clips ${way.noLeakCalled}/${labels.length - leaks}  (${way.description})\n`,
    );
  }
}
await model.close();
await against?.close();
