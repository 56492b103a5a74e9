/**
 * `npm run second-stage -w detect -- --fit DIR[,DIR...] --test DIR[,DIR...] [--model FILE] [--components 30] [--max-false-per-100 0.5]`
 *
 * Measures a second stage on hand-held recordings (second-stage.ts): every
 * split of the --fit data sets' recordings, scored as `score-wav` scores
 * them (clip-scores.ts), fits it twice — told the main's material and not —
 * and chooses, for the heads' clip score and for each stage, a threshold
 * per site group (near a PRV, near a pump, elsewhere) at the budget of false
 * calls per 100 no-leak recordings. It also judges as `score-wav` must a
 * recording given alone (neither material nor site): the heads and the
 * untold stage with one threshold for every site, and a stage fitted told
 * neither; and the told stage with thresholds per site group and main
 * (plastic or metal), each at the budget on its own no-leak recordings. Then for each --test data set (every
 * split) it prints the clip ROC-AUC of the heads and of each stage, each
 * stage's difference from the heads with a 95 % paired bootstrap interval
 * (paired-auc.ts), and how many leak and no-leak recordings each calls.
 * The --fit and --test sets must be seeds of their own: no model's
 * training or recording threshold may have used a --test set.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_MODEL_PATH } from '../model/default-model.ts';
import { LeakModel } from '../model/leak-model.ts';
import { isPlasticMain } from '../model/log-odds.ts';
import { reportedClips, scoreClipWithFeatures } from './clip-scores.ts';
import { loadSplit, SPLITS } from './dataset.ts';
import type { NightOutcome } from './evaluation.ts';
import { rocAuc } from './metrics.ts';
import { pairedAucDifference } from './paired-auc.ts';
import { chooseStageThresholds, fitSecondStage, secondStageProbability, type SecondStageExample } from './second-stage.ts';

const { values } = parseArgs({
  options: {
    fit: { type: 'string' },
    test: { type: 'string' },
    model: { type: 'string', default: DEFAULT_MODEL_PATH },
    components: { type: 'string', default: '30' },
    'max-false-per-100': { type: 'string', default: '0.5' },
  },
});
const fail = (message: string): never => {
  process.stderr.write(`second-stage: ${message}\n`);
  process.exit(2);
};
const dirs = (text: string | undefined, option: string) => (text ?? '').split(',').filter(Boolean).length > 0 ? text!.split(',').filter(Boolean) : fail(`give --${option} DIR[,DIR...] (data sets of hand-held recordings)`);
const fitDirs = dirs(values.fit, 'fit');
const testDirs = dirs(values.test, 'test');
const components = Number(values.components);
if (!(Number.isInteger(components) && components >= 1)) fail(`--components must be a whole number >= 1, got '${values.components}'`);
const budget = Number(values['max-false-per-100']);
if (!(budget >= 0)) fail(`--max-false-per-100 must be a number >= 0, got '${values['max-false-per-100']}'`);

const model = await LeakModel.load(values.model!);
if (model.info.contextWindows === 1) fail(`model ${model.info.version} takes no context and gives no features`);

interface Scored extends SecondStageExample {
  readonly site: string;
  readonly material: string;
  readonly meta: NightOutcome['meta'];
}

async function recordingsOf(dir: string): Promise<Scored[]> {
  const out: Scored[] = [];
  for (const split of SPLITS) {
    const clips = reportedClips(await loadSplit(dir, split));
    for (const clip of clips) {
      const r = await scoreClipWithFeatures(model, clip);
      if (!r) continue;
      const m = clip.meta;
      out.push({ score: r.scored.score, features: r.features, material: m.material, site: m.environment, leak: m.leak, meta: m });
    }
    process.stderr.write(`second-stage: ${dir} ${split}: ${clips.length} recordings\n`);
  }
  return out;
}

const SITE_GROUPS = ['near_prv', 'near_pump'];
const groupOf = (site: string) => (SITE_GROUPS.includes(site) ? site : 'default');

const fitting = (await Promise.all(fitDirs.map(recordingsOf))).flat();
const told = fitSecondStage(fitting, { components });
const untold = fitSecondStage(fitting, { components, materialAware: false });
// Fitted as a recording given alone is judged: no material, no site term.
const blind = fitSecondStage(fitting, { components, materialAware: false, sites: [] });
/** Where a judge's thresholds are chosen: per site group when given the site, and per main (plastic or metal) too when `byMain`; else one for every recording. */
type Grouping = 'site' | 'site-main' | 'none';
const judges: { name: string; grouping: Grouping; score: (e: Scored) => number }[] = [
  { name: 'heads alone', grouping: 'site', score: (e) => e.score },
  { name: 'second stage, told the material', grouping: 'site', score: (e) => secondStageProbability(told, e) },
  { name: 'second stage, not told', grouping: 'site', score: (e) => secondStageProbability(untold, { ...e, material: undefined }) },
  { name: 'heads alone, not told the site', grouping: 'none', score: (e) => e.score },
  { name: 'not told, nor the site', grouping: 'none', score: (e) => secondStageProbability(untold, { ...e, material: undefined, site: undefined }) },
  { name: 'fitted told neither', grouping: 'none', score: (e) => secondStageProbability(blind, { ...e, material: undefined, site: undefined }) },
  { name: 'told, thresholds per main too', grouping: 'site-main', score: (e) => secondStageProbability(told, e) },
];
const groupIn = (grouping: Grouping, e: Scored) =>
  grouping === 'none' ? 'default' : grouping === 'site' ? groupOf(e.site) : `${groupOf(e.site)}/${isPlasticMain(e.material) ? 'plastic' : 'metal'}`;
const thresholds = judges.map((j) => {
  const scores = fitting.map(j.score);
  const groups = new Map<string, number[]>();
  fitting.forEach((e, i) => {
    const g = groupIn(j.grouping, e);
    if (!groups.has(g)) groups.set(g, []);
    groups.get(g)!.push(i);
  });
  return new Map([...groups].map(([g, at]) => [g, chooseStageThresholds([], at.map((i) => fitting[i]!.meta), at.map((i) => scores[i]!), budget).default!]));
});
// A group no fitting recording was in has no threshold: nothing there is called.
const thresholdFor = (k: number, e: Scored) => thresholds[k]!.get(groupIn(judges[k]!.grouping, e)) ?? Number.POSITIVE_INFINITY;
process.stdout.write(
  `model ${model.info.version}; fitted on ${fitting.length} recordings of ${fitDirs.join(', ')} (${fitting.filter((e) => e.leak).length} with an audible leak), ` +
    `${components} principal components; thresholds per site group at ${budget} false per 100 fitting recordings\n`,
);
const signed = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(3)}`;
for (const dir of testDirs) {
  const set = await recordingsOf(dir);
  const labels = set.map((e) => (e.leak ? 1 : 0));
  const leakCount = labels.filter((l) => l === 1).length;
  if (leakCount === 0 || leakCount === set.length) fail(`${dir}: needs recordings with and without an audible leak`);
  const plastic = set.map((e, i) => i).filter((i) => isPlasticMain(set[i]!.material));
  const heads = set.map(judges[0]!.score);
  process.stdout.write(`${dir}: ${leakCount} leak, ${set.length - leakCount} no-leak recordings\n`);
  judges.forEach((j, k) => {
    const scores = set.map(j.score);
    const called = (leak: boolean) => set.filter((e, i) => e.leak === leak && scores[i]! >= thresholdFor(k, e)).length;
    const plasticAuc = plastic.length > 0 ? rocAuc(plastic.map((i) => scores[i]!), plastic.map((i) => labels[i]!)) : Number.NaN;
    const against = k === 0 ? '' : (() => {
      const p = pairedAucDifference(scores, heads, labels);
      return `; against the heads ${signed(p.difference)} (95 % ${signed(p.low)} to ${signed(p.high)})`;
    })();
    process.stdout.write(
      `  ${j.name.padEnd(35)} clip ROC-AUC ${rocAuc(scores, labels).toFixed(3)} (plastic mains ${Number.isFinite(plasticAuc) ? plasticAuc.toFixed(3) : 'n/a'})${against}; ` +
        `called: ${called(true)} of ${leakCount} leak, ${called(false)} of ${set.length - leakCount} no-leak\n`,
    );
  });
}
await model.close();
