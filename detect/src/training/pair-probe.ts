/**
 * `npm run pairs -w detect -- --data DIR [--model FILE] [--max-false-per-100 1] [--dump FILE.jsonl]`
 *
 * Measures what a correlator pair's cross-correlation finds beside the
 * model, on a data set of pairs (`npm run dataset -w simulators -- --pairs`):
 * per pair, its GCC-PHAT peak ratio (pairs/pair-verdict.ts; each night's
 * frames recorded in step correlated together, their cross-spectra summed,
 * as the live pair correlator judges a night; the pair's ratio is its
 * highest night's) and the better of its two
 * sensors' model scores (each frame scored as `score-wav` scores a
 * recording, told its site and material: clip-scores.ts). The ratio's
 * threshold is chosen on the validation split's pair-nights without a leak
 * (at the budget of false pair-nights per 100: with one night a pair, false
 * pairs), the model's verdict is its own; both
 * are measured on the test split: ROC-AUC (leak pairs against pairs without
 * one), the leak pairs each finds (and the two together: called by
 * either), the false pairs, and how near the peak's
 * lag places the leak (d_a = (D − c·τ)/2, c the material's wave speed from
 * the data set's manifest). A peak within 10 m of a sensor or of the main's
 * PRV or pump as the registry maps it (the data set's `pair.sources`) is
 * taken for that source, not a leak (pairs/pair-verdict.ts knownSourceLags). Leak pairs are reported apart by whether either
 * sensor could hear the leak on a quiet night. detect/README.md, "A
 * correlator's pair".
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { PIPE_MATERIALS, type PipeMaterial } from '@suido/ingest';
import { fromPcm16 } from '../audio/pcm16.ts';
import { DEFAULT_MODEL_PATH } from '../model/default-model.ts';
import { LeakModel } from '../model/leak-model.ts';
import { KNOWN_SOURCE_M, PAIR_RATIO_THRESHOLD, judgePairRecordings } from '../pairs/pair-verdict.ts';
import { scoreClip } from './clip-scores.ts';
import { framePcm, loadSplit, type FrameMeta, type Split, type SplitData } from './dataset.ts';
import { rocAuc } from './metrics.ts';

const { values } = parseArgs({
  options: {
    data: { type: 'string' },
    model: { type: 'string', default: DEFAULT_MODEL_PATH },
    'max-false-per-100': { type: 'string', default: '1' },
    dump: { type: 'string' },
  },
});
const fail = (message: string): never => {
  process.stderr.write(`pairs: ${message}\n`);
  process.exit(2);
};
if (!values.data) fail('give --data DIR (a data set of pairs: npm run dataset -w simulators -- --pairs)');
const budget = Number(values['max-false-per-100']);
if (!(budget >= 0 && budget <= 100)) fail(`--max-false-per-100 must be a number from 0 to 100, got '${values['max-false-per-100']}'`);
const dir = resolve(values.data!);
const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8').catch(() => fail(`no data set in ${dir}`))) as {
  options?: { pairs?: boolean };
  physics?: { materials?: Record<string, { waveSpeedMs: number }> };
};
if (manifest.options?.pairs !== true) fail(`${dir} is not a data set of pairs: make one with npm run dataset -w simulators -- --pairs`);
const speeds = manifest.physics?.materials ?? {};

/** What a frame of a pairs data set carries beyond any frame's. */
type PairFrame = FrameMeta & {
  readonly pair: {
    readonly id: string;
    readonly positionM: number;
    readonly spacingM: number;
    readonly leakPositionM: number | null;
    readonly sources?: readonly { readonly kind: string; readonly positionM: number }[];
  };
};

interface JudgedPair {
  readonly id: string;
  readonly material: string;
  readonly leak: boolean;
  /** Either sensor could hear the leak on a quiet night. */
  readonly audible: boolean;
  /** The highest night's ratio. */
  readonly ratio: number;
  /** Each night's: its frames correlated together. */
  readonly nightRatios: readonly number[];
  readonly modelScore: number;
  readonly modelCalled: boolean;
  /** Each sensor's own: the higher clip score over its frames, and whether its verdict called any of them. */
  readonly sensors: readonly { readonly score: number; readonly called: boolean }[];
  /** |placed − true| position of the leak, m, from the night with the highest ratio; null without a leak. */
  readonly placementErrorM: number | null;
}

const model = await LeakModel.load(resolve(values.model!));

async function judgePairs(split: Split): Promise<JudgedPair[]> {
  const data: SplitData = await loadSplit(dir, split);
  const frames = data.frames as readonly PairFrame[];
  const byPair = new Map<string, { a: PairFrame; b: PairFrame }[]>();
  const firstOf = new Map<string, PairFrame>();
  for (const f of frames) if (f.pair.positionM === 0) firstOf.set(`${f.pair.id}/n${f.night}/f${f.frame}`, f);
  for (const f of frames) {
    if (f.pair.positionM === 0) continue;
    const a = firstOf.get(`${f.pair.id}/n${f.night}/f${f.frame}`);
    if (!a) fail(`${split}: frame ${f.id} has no frame of its pair's first sensor at the same night and frame`);
    if (!byPair.has(f.pair.id)) byPair.set(f.pair.id, []);
    byPair.get(f.pair.id)!.push({ a: a!, b: f });
  }
  const out: JudgedPair[] = [];
  for (const [id, recorded] of byPair) {
    const first = recorded[0]!.a;
    const c = speeds[first.material]?.waveSpeedMs;
    if (!c) fail(`${dir}: the manifest gives no wave speed for ${first.material}`);
    if (!(PIPE_MATERIALS as readonly string[]).includes(first.material)) fail(`${dir}: pair ${id} is on a main of an unknown material, ${first.material}`);
    const geometry = { spacingM: first.pair.spacingM, material: first.material as PipeMaterial, waveSpeedMs: c!, sourcesM: (first.pair.sources ?? []).map((s) => s.positionM) };
    let best = { ratio: -1, fromAM: 0 };
    const sensors = [
      { score: 0, called: false },
      { score: 0, called: false },
    ];
    const byNight = new Map<number, { a: Float32Array; b: Float32Array }[]>();
    for (const { a, b } of recorded) {
      const night = byNight.get(a.night) ?? [];
      night.push({ a: fromPcm16(framePcm(data, a)), b: fromPcm16(framePcm(data, b)) });
      byNight.set(a.night, night);
    }
    // Each night judged as the live correlator and `correlate` judge (pairs/pair-verdict.ts); the threshold is chosen here, below.
    const nightRatios: number[] = [];
    for (const night of byNight.values()) {
      const r = judgePairRecordings(night, first.sampleRateHz, geometry);
      nightRatios.push(r.ratio);
      if (r.ratio > best.ratio) best = r;
    }
    for (const { a, b } of recorded) {
      for (const [i, meta] of [a, b].entries()) {
        const scored = await scoreClip(model, { data, meta });
        if (!scored) continue;
        sensors[i]!.score = Math.max(sensors[i]!.score, scored.score);
        sensors[i]!.called ||= scored.called;
      }
    }
    const leakAt = first.pair.leakPositionM;
    out.push({
      id,
      material: first.material,
      leak: first.leak,
      audible: recorded.some(({ a, b }) => a.sensorAudible === true || b.sensorAudible === true),
      ratio: best.ratio,
      nightRatios,
      modelScore: Math.max(sensors[0]!.score, sensors[1]!.score),
      modelCalled: sensors[0]!.called || sensors[1]!.called,
      sensors,
      placementErrorM: leakAt === null ? null : Math.abs(best.fromAM - leakAt),
    });
  }
  process.stderr.write(`pairs: ${split}: ${out.length} pairs\n`);
  return out;
}

/** The lowest ratio that calls no more of the pair-nights without a leak than the budget allows (strictly above it is called). */
function thresholdOn(quiet: readonly JudgedPair[]): number {
  const ratios = quiet.flatMap((p) => p.nightRatios).sort((x, y) => y - x);
  const allowed = Math.floor((budget / 100) * ratios.length);
  return ratios[allowed] ?? 0;
}

const validation = await judgePairs('val');
const quietVal = validation.filter((p) => !p.leak);
if (quietVal.length === 0) fail('the validation split has no pair without a leak to choose a threshold on');
const threshold = thresholdOn(quietVal);
const test = await judgePairs('test');
await model.close();
// Every pair's judgement, for a measurement the summary below does not make (one JSON line per pair).
if (values.dump) {
  const lines = [...validation.map((p) => ({ split: 'val', ...p })), ...test.map((p) => ({ split: 'test', ...p }))].map((p) => JSON.stringify(p));
  await writeFile(resolve(values.dump), `${lines.join('\n')}\n`);
}
/** The two together, the simplest way: a pair is called where the model's verdict at either sensor or the correlation calls it. */
const either = (p: JudgedPair) => p.modelCalled || p.ratio > threshold;
const quiet = test.filter((p) => !p.leak);
const leaks = test.filter((p) => p.leak);
if (quiet.length === 0 || leaks.length === 0) fail('the test split needs pairs with and without a leak');

process.stdout.write(
  `pairs: ${test.length} test pairs of ${dir} (${leaks.length} with a leak); GCC-PHAT threshold ${threshold.toFixed(2)} (peak over mean), chosen on ${quietVal.flatMap((p) => p.nightRatios).length} validation pair-nights without a leak (${quietVal.length} pairs) at ${budget} false per 100; ` +
    `peaks within ${KNOWN_SOURCE_M} m of a sensor or a mapped PRV or pump left out\n` +
    `  pairs without a leak called: model ${quiet.filter((p) => p.modelCalled).length}, correlation ${quiet.filter((p) => p.ratio > threshold).length}, either ${quiet.filter(either).length} of ${quiet.length}\n`,
);
const line = (name: string, group: readonly JudgedPair[]) => {
  if (group.length === 0) return;
  const labels = [...group.map(() => 1), ...quiet.map(() => 0)];
  const auc = (score: (p: JudgedPair) => number) => rocAuc([...group, ...quiet].map(score), labels);
  const placed = group.filter((p) => p.ratio > threshold && p.placementErrorM !== null).map((p) => p.placementErrorM!);
  process.stdout.write(
    `  ${name.padEnd(30)} ${String(group.length).padStart(4)} leak pairs  ROC-AUC model ${auc((p) => p.modelScore).toFixed(3)}, correlation ${auc((p) => p.ratio).toFixed(3)}  ` +
      `called: model ${group.filter((p) => p.modelCalled).length}, correlation ${group.filter((p) => p.ratio > threshold).length}, either ${group.filter(either).length}  ` +
      `placed within 10 m: ${placed.filter((e) => e <= 10).length} of the ${placed.length} it called\n`,
  );
};
line('audible at one sensor or both', leaks.filter((p) => p.audible));
line('audible at neither', leaks.filter((p) => !p.audible));
for (const material of [...new Set(leaks.map((p) => p.material))].sort()) line(`  ${material}, audible`, leaks.filter((p) => p.audible && p.material === material));
// Nights as the live correlator raises them: each night its own call.
const quietNights = quiet.flatMap((p) => p.nightRatios);
const leakNights = leaks.filter((p) => p.audible).flatMap((p) => p.nightRatios);
const nightsLine = (what: string, at: number) => {
  const called = (ratios: readonly number[]) => ratios.filter((r) => r > at).length;
  process.stdout.write(
    `  ${what}: without a leak ${called(quietNights)} of ${quietNights.length} called (${((100 * called(quietNights)) / quietNights.length).toFixed(2)} per 100), ` +
      `with an audible leak ${called(leakNights)} of ${leakNights.length}\n`,
  );
};
nightsLine('pair-nights by the correlation', threshold);
nightsLine(`pair-nights at the live correlator's threshold (${PAIR_RATIO_THRESHOLD})`, PAIR_RATIO_THRESHOLD);
