/**
 * Scores a recording from a hand-held logger or a sensor:
 *
 *   npm run score-wav -w detect -- recording.wav [--start 2026-11-20T02:00:00+09:00] [--channel N]
 *                                  [--window 1] [--hop 1] [--model path.onnx] [--threshold 0.7 | --site near_prv --material pvc]
 *
 * One JSON line per window on stdout: { file, window, startS, endS, start?, score, leak }.
 * A summary on stderr, with the recording's verdict by the model's K of N rule
 * (`persists`, the rule the operating point was chosen with; for a context
 * model over the windows from CONTEXT_SETTLED_MS on, where there are enough).
 * It cuts and scores audio with the streaming detector's own Windower and
 * batch scorer (for a context model, each window with the recording's
 * earlier windows, spaced as the live detector spaces a sensor's:
 * model/sensor-context.ts), so a recording scores as the live system would
 * score it. The threshold is the model's recording threshold where it has
 * one (chosen on validation recordings, not loggers' nights:
 * operating-point.ts recordingThresholds), else its default. --site: a
 * site's own threshold where the model has one and it is higher (a
 * recording next to a PRV); --material: the material's own where the model
 * has one and no recording threshold (material thresholds were chosen on
 * loggers' nights). A model with a second stage (model/recording-stage.ts)
 * adds its verdict on the recording as a whole: told the main's material by
 * --material, or told only --site by its untold stage where it has one.
 */
import { readFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { PIPE_MATERIALS, SENSOR_SITES } from '@suido/ingest';
import { WavError, readWav } from '../audio/wav.ts';
import { DEFAULT_MODEL_PATH } from '../model/default-model.ts';
import { MODEL_SAMPLE_RATE_HZ } from '../model/feature-spec.ts';
import { LeakModel } from '../model/leak-model.ts';
import { countsAsLeak, recordingThresholds, thresholdFor } from '../model/operating-point.ts';
import { CONTEXT_SETTLED_MS, verdictWindows } from '../model/sensor-context.ts';
import { SensorHistories, medianFeatures, scoreSensorWindows, scoreWindowsWithFeatures } from '../stream/sensor-histories.ts';
import { judgeRecording } from '../model/recording-stage.ts';
import { Windower, type Window } from '../stream/windower.ts';
import { persists } from '../training/metrics.ts';

const USAGE = 'usage: score-wav <file.wav> [--start ISO8601] [--channel N] [--window S] [--hop S] [--model file.onnx] [--threshold T | --site SITE --material MATERIAL]';

function fail(message: string, code = 2): never {
  process.stderr.write(`score-wav: ${message}\n${USAGE}\n`);
  process.exit(code);
}

let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: {
      start: { type: 'string' },
      channel: { type: 'string' },
      window: { type: 'string', default: '1' },
      hop: { type: 'string' },
      model: { type: 'string', default: DEFAULT_MODEL_PATH },
      threshold: { type: 'string' },
      site: { type: 'string' },
      material: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
} catch (err) {
  fail((err as Error).message);
}
const { values, positionals } = parsed;
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
if (positionals.length !== 1) fail('give exactly one WAV file');
if ((values.site !== undefined || values.material !== undefined) && values.threshold !== undefined) fail('give --threshold or --site/--material, not both');
if (values.site !== undefined && !(SENSOR_SITES as readonly string[]).includes(values.site)) fail(`--site must be one of ${SENSOR_SITES.join(', ')}, got '${values.site}'`);
if (values.material !== undefined && !(PIPE_MATERIALS as readonly string[]).includes(values.material)) {
  fail(`--material must be one of ${PIPE_MATERIALS.join(', ')}, got '${values.material}'`);
}
const file = positionals[0]!;
const windowSeconds = Number(values.window);
if (!Number.isInteger(windowSeconds) || windowSeconds < 1) fail(`--window must be a whole number of seconds >= 1, got '${values.window}'`);
const hopSeconds = values.hop === undefined ? windowSeconds : Number(values.hop);
if (!(hopSeconds > 0)) fail(`--hop must be a positive number of seconds, got '${values.hop}'`);
// A file of several channels is scored one channel at a time (audio/wav.ts says why), numbered from 1 as recorders label them.
const channel = values.channel === undefined ? undefined : Number(values.channel);
if (channel !== undefined && !(Number.isInteger(channel) && channel >= 1)) fail(`--channel must be a whole number from 1, got '${values.channel}'`);
const startMs = values.start === undefined ? undefined : Date.parse(values.start);
if (startMs !== undefined && !Number.isFinite(startMs)) fail(`--start must be an ISO 8601 time, got '${values.start}'`);

// Paths are the engineer's, from where the command was typed: npm runs a workspace's script in the workspace
// (detect/), and keeps where it was typed in INIT_CWD.
const typedIn = process.env.INIT_CWD ?? process.cwd();
const bytes = await readFile(resolve(typedIn, file)).catch((err: NodeJS.ErrnoException) => fail(`cannot read ${file}: ${err.code ?? err.message}`));
let audio;
try {
  audio = readWav(bytes, { channel });
} catch (err) {
  if (err instanceof WavError) fail(`${file}: ${err.code}: ${err.message}${err.code === 'WAV_CHANNEL_REQUIRED' ? ' with --channel' : ''}`);
  throw err;
}
if (audio.sampleRateHz < MODEL_SAMPLE_RATE_HZ) {
  fail(`${file}: SAMPLE_RATE_BELOW_MODEL: recorded at ${audio.sampleRateHz} Hz; the model needs at least ${MODEL_SAMPLE_RATE_HZ} Hz`);
}

const model = await LeakModel.load(resolve(typedIn, values.model!)).catch((err: Error) => fail(`cannot load model ${values.model}: ${err.message}`, 1));
const threshold =
  values.threshold === undefined
    ? thresholdFor(recordingThresholds(model.info.thresholds, model.info.recordingThreshold), { site: values.site, material: values.material })
    : Number(values.threshold);
if (!(threshold >= 0 && threshold <= 1)) fail(`--threshold must be between 0 and 1, got '${values.threshold}'`);

const windower = new Windower({ windowSeconds, hopSeconds }, model.info.frontEnd);
const windows = windower.push({ startMs: startMs ?? 0, sampleRateHz: audio.sampleRateHz, samples: audio.samples });
if (typeof windows === 'string') fail(`${file}: ${windows}`);
if (windows.length === 0) fail(`${file}: shorter than one ${windowSeconds} s window (${(audio.samples.length / audio.sampleRateHz).toFixed(2)} s)`);

// A context model scores each window with the recording's earlier windows, spaced, as the live detector does a sensor's.
const histories = model.info.contextWindows > 1 ? new SensorHistories(model) : undefined;
// A model with a second stage judges the recording as a whole too, from its windows' own features: told the
// material, its stage; told the site alone, the stage fitted never told the material, where the model has one;
// told neither, none judges (detect/README.md, "2.4.9").
const stage = histories ? model.info.recordingStage : undefined;
const judgingStage = stage && (values.material !== undefined ? stage : values.site !== undefined ? model.info.recordingStageUntold : undefined);
const withFeatures = judgingStage && histories ? await scoreWindowsWithFeatures(histories, file, windows) : undefined;
const scores = withFeatures?.scores ?? (await scoreSensorWindows(model, histories, windows.map((window) => ({ sensorId: file, window }))));
await model.close();
const name = basename(file);
const windowStarts = windows.map((w) => w.startMs);
const base = startMs ?? 0;
let leaks = 0;
windows.forEach((w, i) => {
  const leak = countsAsLeak(scores[i]!, threshold);
  if (leak) leaks++;
  const line = {
    file: name,
    window: i,
    startS: (w.startMs - base) / 1000,
    endS: (w.endMs - base) / 1000,
    ...(startMs !== undefined && { start: new Date(w.startMs).toISOString() }),
    score: Math.round(scores[i]! * 1e4) / 1e4,
    leak,
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
});
process.stderr.write(
  `${name}: ${windows.length} windows of ${windowSeconds} s at ${audio.sampleRateHz} Hz, ${leaks} above ${threshold.toFixed(3)} ` +
    `(model ${model.info.version}); max score ${Math.max(...scores).toFixed(3)}\n${humNote(windows)}${persistenceVerdict(model.info.persistence)}\n${stageVerdict(model.info.persistence)}`,
);

/**
 * Where the model's front end took mains hum out (audio/mains-lines.ts), a
 * line that says so: a loud hum is worth knowing of a recording (a
 * transformer or an unshielded cable near the logger), and the windows it
 * filled were judged on what was left.
 */
function humNote(cut: readonly Window[]): string {
  const humming = cut.filter((w) => (w.mainsLines?.length ?? 0) > 0);
  if (humming.length === 0) return '';
  const loudest = humming.flatMap((w) => w.mainsLines!).reduce((a, b) => (b.share > a.share ? b : a));
  return `${name}: mains hum taken out of ${humming.length} of ${cut.length} windows (loudest line ${loudest.hz.toFixed(1)} Hz, ${Math.round(loudest.share * 100)} % of its window's power)\n`;
}

/**
 * The second stage's verdict on the recording as a whole
 * (model/recording-stage.ts): the heads' clip score (the K-th highest of the
 * windows the K of N verdict counts) and those windows' median features,
 * told the main's material by --material and judged at --site's threshold
 * where the stage has one. Told --site without --material, the model's
 * stage fitted never told the material judges (`recording_stage_untold`);
 * told neither, or a model without that stage, no stage verdict: fitted told
 * the material, judging a plastic main as a metal one ranks recordings worse
 * than the heads alone (clip ROC-AUC 0.862 against 0.871 on seed 18's
 * clips, 0.861 against 0.878 on seed 17's: detect/README.md, "A recording
 * given alone"), and not told the site, no stage ranks them better than the
 * heads (seed 19's: detect/README.md, "2.4.9").
 */
function stageVerdict(rule: { k: number; n: number } | undefined): string {
  if (!stage || rule === undefined || scores.length < rule.n) return '';
  if (!judgingStage || !withFeatures) {
    const needs = model.info.recordingStageUntold ? "the main's material (--material) or its site (--site)" : "the main's material (--material)";
    return `${name}: the second stage judges a recording told ${needs}; without it the verdict above is the recording's\n`;
  }
  const { indices } = verdictWindows(windowStarts, rule.n);
  const counted = indices.map((i) => scores[i]!).sort((a, b) => b - a);
  const j = judgeRecording(judgingStage, { score: counted[Math.min(rule.k, counted.length) - 1]!, features: medianFeatures(withFeatures.features, indices), material: values.material, site: values.site });
  const told = values.material === undefined ? `told its site (${values.site}), not the main's material (--material): the stage fitted without it` : `told it is a ${values.material} main`;
  return `${name}: ${j.leak ? 'LEAK' : 'no leak'} by the second stage, judging the recording as a whole: probability ${j.probability.toFixed(3)} against ${j.threshold.toFixed(3)} (${told})\n`;
}

/**
 * The alert rule the model was chosen with (K of N windows above the
 * threshold), applied to this recording's consecutive windows: what a field
 * engineer wants to know of a recording as a whole. The live detector applies
 * it to a sensor's windows across the night, minutes apart, so this is the
 * same rule over a shorter stretch of time, not the live system's verdict.
 */
function persistenceVerdict(rule: { k: number; n: number } | undefined): string {
  if (rule === undefined) return `${name}: the model names no K of N rule; no verdict for the recording`;
  if (scores.length < rule.n) return `${name}: ${scores.length} windows, fewer than the ${rule.n} its ${rule.k} of ${rule.n} rule needs; no verdict for the recording`;
  // A context model's verdict counts the windows whose context has settled (CONTEXT_SETTLED_MS), where the recording has enough of them.
  const { indices, settled } = histories === undefined ? { indices: scores.map((_, i) => i), settled: undefined } : verdictWindows(windowStarts, rule.n);
  const verdict = persists(indices.map((i) => scores[i]!), threshold, rule.k, rule.n) ? 'LEAK' : 'no leak';
  const which =
    settled === undefined
      ? ''
      : settled
        ? `, windows from ${CONTEXT_SETTLED_MS / 1000} s on, whose context has settled`
        : `, every window: too short for its windows from ${CONTEXT_SETTLED_MS / 1000} s on, whose context has settled; record longer`;
  return `${name}: ${verdict} by the model's ${rule.k} of ${rule.n} rule over consecutive windows${which} (${leaks} of ${scores.length} above the threshold)`;
}
