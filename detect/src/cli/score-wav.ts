/**
 * Scores recordings from a hand-held logger or a sensor:
 *
 *   npm run score-wav -w detect -- recording.wav [more.wav ... | folder] [--start 2026-11-20T02:00:00+09:00] [--channel N]
 *                                  [--window 1] [--hop 1] [--model path.onnx] [--threshold 0.7 | --site near_prv --material pvc] [--verdicts]
 *
 * One JSON line per window on stdout: { file, window, startS, endS, start?, score, leak }.
 * A summary on stderr, with the recording's verdict by the model's K of N rule
 * (`persists`, the rule the operating point was chosen with; for a context
 * model over the windows from CONTEXT_SETTLED_MS on, where there are enough).
 * With --verdicts, one JSON line per recording instead: its verdicts, as a
 * crew's app or a batch check reads them. Recordings are cut and scored by
 * recording/judge-recording.ts, the streaming detector's own Windower and
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
 *
 * Several files (or a folder: its .wav files, by name) are scored one after
 * another with one model, each judged alone: a file that cannot be read or
 * scored is reported (on stderr; with --verdicts, as a line of its own) and
 * the others are still scored; the exit code is then 2.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { PIPE_MATERIALS, SENSOR_SITES } from '@suido/ingest';
import { WavError, readWav } from '../audio/wav.ts';
import { DEFAULT_MODEL_PATH } from '../model/default-model.ts';
import { LeakModel } from '../model/leak-model.ts';
import { recordingThresholds, thresholdFor } from '../model/operating-point.ts';
import { CONTEXT_SETTLED_MS } from '../model/sensor-context.ts';
import { RecordingError, judgeRecordingAudio, type RecordingJudgement } from '../recording/judge-recording.ts';

const USAGE =
  'usage: score-wav <file.wav> [more.wav ... | folder] [--start ISO8601] [--channel N] [--window S] [--hop S] [--model file.onnx] [--threshold T | --site SITE --material MATERIAL] [--verdicts]';

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
      verdicts: { type: 'boolean', default: false },
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
if (positionals.length === 0) fail('give a WAV file (or several, or a folder of them)');
if ((values.site !== undefined || values.material !== undefined) && values.threshold !== undefined) fail('give --threshold or --site/--material, not both');
if (values.site !== undefined && !(SENSOR_SITES as readonly string[]).includes(values.site)) fail(`--site must be one of ${SENSOR_SITES.join(', ')}, got '${values.site}'`);
if (values.material !== undefined && !(PIPE_MATERIALS as readonly string[]).includes(values.material)) {
  fail(`--material must be one of ${PIPE_MATERIALS.join(', ')}, got '${values.material}'`);
}
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

/** The recordings named: files as given, a folder's .wav files by name; a path that cannot be read stays, to be reported. */
async function recordingsNamed(paths: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const path of paths) {
    const info = await stat(resolve(typedIn, path)).catch(() => undefined);
    if (!info?.isDirectory()) {
      out.push(path);
      continue;
    }
    const names = (await readdir(resolve(typedIn, path))).filter((n) => n.toLowerCase().endsWith('.wav')).sort();
    if (names.length === 0) fail(`${path}: a folder with no .wav file`);
    out.push(...names.map((n) => join(path, n)));
  }
  return out;
}

/** Why a recording could not be judged: a code (WavError's, RecordingError's, or the file system's) and a sentence. */
class Unjudged extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

const files = await recordingsNamed(positionals);
const model = await LeakModel.load(resolve(typedIn, values.model!)).catch((err: Error) => fail(`cannot load model ${values.model}: ${err.message}`, 1));
const threshold =
  values.threshold === undefined
    ? thresholdFor(recordingThresholds(model.info.thresholds, model.info.recordingThreshold), { site: values.site, material: values.material })
    : Number(values.threshold);
if (!(threshold >= 0 && threshold <= 1)) fail(`--threshold must be between 0 and 1, got '${values.threshold}'`);

let failed = 0;
for (const file of files) {
  try {
    const judged = await judge(file);
    if (values.verdicts) process.stdout.write(`${JSON.stringify(verdictLine(file, judged))}\n`);
    else writeWindows(file, judged);
    process.stderr.write(summary(basename(file), judged));
  } catch (err) {
    if (!(err instanceof Unjudged)) throw err;
    failed++;
    // One recording that cannot be judged does not stop the others: it is reported, and the exit code says so.
    process.stderr.write(`score-wav: ${err.message}\n`);
    if (values.verdicts) process.stdout.write(`${JSON.stringify({ file, error: { code: err.code, message: err.message } })}\n`);
  }
}
await model.close();
if (failed > 0) {
  if (files.length > 1) process.stderr.write(`score-wav: ${failed} of ${files.length} recordings could not be judged\n`);
  else process.stderr.write(`${USAGE}\n`);
  process.exitCode = 2;
}

async function judge(file: string): Promise<RecordingJudgement> {
  const bytes = await readFile(resolve(typedIn, file)).catch((err: NodeJS.ErrnoException) => {
    throw new Unjudged(err.code ?? 'READ_FAILED', `cannot read ${file}: ${err.code ?? err.message}`);
  });
  let audio;
  try {
    audio = readWav(bytes, { channel });
  } catch (err) {
    if (err instanceof WavError) throw new Unjudged(err.code, `${file}: ${err.code}: ${err.message}${err.code === 'WAV_CHANNEL_REQUIRED' ? ' with --channel' : ''}`);
    throw err;
  }
  try {
    return await judgeRecordingAudio(model, { key: file, ...audio, startMs, windowSeconds, hopSeconds, threshold, material: values.material, site: values.site });
  } catch (err) {
    if (err instanceof RecordingError) throw new Unjudged(err.code, `${file}: ${err.code}: ${err.message}`);
    throw err;
  }
}

function writeWindows(file: string, judged: RecordingJudgement): void {
  const base = startMs ?? 0;
  judged.windows.forEach((w, i) => {
    const line = {
      file: basename(file),
      window: i,
      startS: (w.startMs - base) / 1000,
      endS: (w.endMs - base) / 1000,
      ...(startMs !== undefined && { start: new Date(w.startMs).toISOString() }),
      score: round4(w.score),
      leak: w.leak,
    };
    process.stdout.write(`${JSON.stringify(line)}\n`);
  });
}

function round4(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}

/** A recording's verdicts as one JSON line (--verdicts): what a crew's app or a batch check reads. */
function verdictLine(file: string, j: RecordingJudgement) {
  const r = j.rule;
  return {
    file,
    windows: j.windows.length,
    windowsAbove: j.windows.filter((w) => w.leak).length,
    maxScore: round4(Math.max(...j.windows.map((w) => w.score))),
    threshold: round4(j.threshold),
    // The recording's verdict: the K of N rule's; null where the model names none or the recording is too short for it.
    leak: r.leak,
    rule: r.leak === null ? { k: r.k ?? null, n: r.n ?? null, reason: r.reason } : { k: r.k, n: r.n, score: round4(r.score), counted: r.counted },
    ...(j.stage && {
      stage: j.stage.leak === null ? { leak: null, reason: j.stage.reason } : { leak: j.stage.leak, probability: round4(j.stage.probability), threshold: round4(j.stage.threshold), told: j.stage.told },
    }),
    ...(j.hum && { hum: { windows: j.hum.windows, loudestHz: Math.round(j.hum.loudest.hz * 10) / 10, share: Math.round(j.hum.loudest.share * 100) / 100 } }),
  };
}

function summary(name: string, j: RecordingJudgement): string {
  const scores = j.windows.map((w) => w.score);
  const above = j.windows.filter((w) => w.leak).length;
  const first = j.windows[0]!;
  return (
    `${name}: ${j.windows.length} windows of ${(first.endMs - first.startMs) / 1000} s, ${above} above ${j.threshold.toFixed(3)} ` +
    `(model ${model.info.version}); max score ${Math.max(...scores).toFixed(3)}\n${humNote(name, j)}${ruleNote(name, j, above)}\n${stageNote(name, j)}`
  );
}

/**
 * Where the model's front end took mains hum out (audio/mains-lines.ts), a
 * line that says so: a loud hum is worth knowing of a recording (a
 * transformer or an unshielded cable near the logger), and the windows it
 * filled were judged on what was left.
 */
function humNote(name: string, j: RecordingJudgement): string {
  if (!j.hum) return '';
  return `${name}: mains hum taken out of ${j.hum.windows} of ${j.windows.length} windows (loudest line ${j.hum.loudest.hz.toFixed(1)} Hz, ${Math.round(j.hum.loudest.share * 100)} % of its window's power)\n`;
}

/**
 * The alert rule the model was chosen with (K of N windows above the
 * threshold), applied to this recording's consecutive windows: what a field
 * engineer wants to know of a recording as a whole. The live detector applies
 * it to a sensor's windows across the night, minutes apart, so this is the
 * same rule over a shorter stretch of time, not the live system's verdict.
 */
function ruleNote(name: string, j: RecordingJudgement, above: number): string {
  const r = j.rule;
  if (r.leak === null) {
    return r.reason === 'no rule'
      ? `${name}: the model names no K of N rule; no verdict for the recording`
      : `${name}: ${j.windows.length} windows, fewer than the ${r.n} its ${r.k} of ${r.n} rule needs; no verdict for the recording`;
  }
  const which =
    r.counted === 'every window'
      ? ''
      : r.counted === 'settled'
        ? `, windows from ${CONTEXT_SETTLED_MS / 1000} s on, whose context has settled`
        : `, every window: too short for its windows from ${CONTEXT_SETTLED_MS / 1000} s on, whose context has settled; record longer`;
  return `${name}: ${r.leak ? 'LEAK' : 'no leak'} by the model's ${r.k} of ${r.n} rule over consecutive windows${which} (${above} of ${j.windows.length} above the threshold)`;
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
 * heads (seed 19's: detect/README.md, "2.4.9 told the site").
 */
function stageNote(name: string, j: RecordingJudgement): string {
  const s = j.stage;
  if (!s) return '';
  if (s.leak === null) {
    const needs = model.info.recordingStageUntold ? "the main's material (--material) or its site (--site)" : "the main's material (--material)";
    return `${name}: the second stage judges a recording told ${needs}; without it the verdict above is the recording's\n`;
  }
  const told = s.told === 'site' ? `told its site (${values.site}), not the main's material (--material): the stage fitted without it` : `told it is a ${values.material} main`;
  return `${name}: ${s.leak ? 'LEAK' : 'no leak'} by the second stage, judging the recording as a whole: probability ${s.probability.toFixed(3)} against ${s.threshold.toFixed(3)} (${told})\n`;
}
