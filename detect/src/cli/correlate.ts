/**
 * Correlates two recordings made in step by two sensors on one main, as a
 * crew's leak noise correlator does to pinpoint a leak before digging
 * (DOMAIN.md, "Localisation"):
 *
 *   npm run correlate -w detect -- a.wav b.wav --spacing-m 160 --material ductile_iron
 *   npm run correlate -w detect -- pair.wav --spacing-m 160 --material steel [--wave-speed-ms 1280] [--source-m 40] [--threshold T]
 *
 * Two files (sensor a, then b), or one file of two channels (1 is a, 2 is
 * b), recorded at the same instant. --spacing-m: along the main from a to
 * b; --material: the main's, which sets the leak band the pair is
 * correlated in and the nominal wave speed (pairs/pair-verdict.ts);
 * --wave-speed-ms: a measured speed instead of the nominal; --source-m: a mapped PRV or
 * pump on the main, m from a (negative: beyond a, written --source-m=-40),
 * as often as there are.
 * Judged by pairs/pair-verdict.ts, the code `npm run pairs` measured (its
 * threshold chosen there), so the answer means what that measurement says.
 *
 * One JSON line on stdout: { a, b, sampleRateHz, seconds, spacingM,
 * material, bandHz, waveSpeedMs, lagS, ratio, threshold, leak, fromAM,
 * fromBM, withinM }; a
 * sentence a crew reads on stderr. Exit 0 when judged, 2 with a reason
 * (and a stable code) when it cannot be.
 */
import { readFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { PIPE_MATERIALS, type PipeMaterial } from '@suido/ingest';
import { resample } from '../audio/resample.ts';
import { WavError, readWav, type WavAudio } from '../audio/wav.ts';
import { KNOWN_SOURCE_M, LEAK_BAND_HZ, MIN_PAIR_SECONDS, NOMINAL_WAVE_SPEED_MS, judgePair } from '../pairs/pair-verdict.ts';

const USAGE =
  'usage: correlate <a.wav> <b.wav> | <pair.wav (2 channels)> --spacing-m D --material MATERIAL [--wave-speed-ms C] [--source-m P ...; --source-m=-P beyond a] [--threshold T]';

type CorrelateErrorCode = 'USAGE' | 'PAIR_TOO_SHORT' | WavError['code'] | 'WAV_UNREADABLE';

function fail(code: CorrelateErrorCode, message: string): never {
  process.stderr.write(`correlate: ${code}: ${message}\n${code === 'USAGE' ? `${USAGE}\n` : ''}`);
  process.exit(2);
}

let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: {
      'spacing-m': { type: 'string' },
      material: { type: 'string' },
      'wave-speed-ms': { type: 'string' },
      'source-m': { type: 'string', multiple: true, default: [] },
      threshold: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
} catch (err) {
  fail('USAGE', (err as Error).message);
}
const { values, positionals } = parsed;
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
if (positionals.length < 1 || positionals.length > 2) fail('USAGE', 'give two WAV files (sensor a, then b) or one of two channels');
const spacingM = Number(values['spacing-m']);
if (values['spacing-m'] === undefined) fail('USAGE', 'give --spacing-m: how far apart the two sensors are along the main, m');
// A correlator's loggers stand a few hundred metres apart; 5 km is far past any leak noise reaching both.
if (!(spacingM > 2 * KNOWN_SOURCE_M && spacingM <= 5000)) fail('USAGE', `--spacing-m must be a distance over ${2 * KNOWN_SOURCE_M} m and at most 5000, got '${values['spacing-m']}'`);
if (values.material === undefined) fail('USAGE', "give --material: the main's, for its leak band and its nominal wave speed (--wave-speed-ms for a measured one)");
if (!(PIPE_MATERIALS as readonly string[]).includes(values.material!)) fail('USAGE', `--material must be one of ${PIPE_MATERIALS.join(', ')}, got '${values.material}'`);
const material = values.material as PipeMaterial;
const waveSpeedMs = values['wave-speed-ms'] === undefined ? NOMINAL_WAVE_SPEED_MS[material] : Number(values['wave-speed-ms']);
// Water itself carries sound at ~1,480 m/s; a water-filled main never faster, a soft plastic one seldom under 250.
if (!(waveSpeedMs >= 100 && waveSpeedMs <= 1500)) fail('USAGE', `--wave-speed-ms must be from 100 to 1500, got '${values['wave-speed-ms']}'`);
const sourcesM = values['source-m'].map((v) => {
  const p = Number(v);
  if (v.trim() === '' || !Number.isFinite(p)) fail('USAGE', `--source-m must be a position along the main in m, got '${v}'`);
  return p;
});
const threshold = values.threshold === undefined ? undefined : Number(values.threshold);
if (threshold !== undefined && !(threshold > 0)) fail('USAGE', `--threshold must be a positive ratio, got '${values.threshold}'`);

// npm runs a workspace's script in its folder; the files are where the command was typed.
const typedIn = process.env.INIT_CWD ?? process.cwd();
async function read(file: string, channel?: number): Promise<WavAudio> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(resolve(typedIn, file));
  } catch (err) {
    fail('WAV_UNREADABLE', `${file}: ${(err as Error).message}`);
  }
  try {
    return readWav(bytes, { channel });
  } catch (err) {
    if (err instanceof WavError && err.code === 'WAV_NO_SUCH_CHANNEL' && channel !== undefined) {
      fail(err.code, `one file is a pair only with two channels (a on 1, b on 2); give two files otherwise (${file}: ${err.message})`);
    }
    if (err instanceof WavError) fail(err.code, `${file}: ${err.message}`);
    throw err;
  }
}

const [fileA, fileB] = positionals.length === 2 ? [positionals[0]!, positionals[1]!] : [`${positionals[0]!}#1`, `${positionals[0]!}#2`];
let [a, b] = positionals.length === 2 ? [await read(positionals[0]!), await read(positionals[1]!)] : [await read(positionals[0]!, 1), await read(positionals[0]!, 2)];
if (a.sampleRateHz !== b.sampleRateHz) {
  // Two loggers of different makes: the pair is judged at the lower rate, which both recordings hold.
  const rate = Math.min(a.sampleRateHz, b.sampleRateHz);
  process.stderr.write(`correlate: the recordings' rates differ (${a.sampleRateHz} and ${b.sampleRateHz} Hz): both judged at ${rate} Hz\n`);
  a = { sampleRateHz: rate, samples: resample(a.samples, a.sampleRateHz, rate) };
  b = { sampleRateHz: rate, samples: resample(b.samples, b.sampleRateHz, rate) };
}
const fs = a.sampleRateHz;
const length = Math.min(a.samples.length, b.samples.length);
if (Math.abs(a.samples.length - b.samples.length) > 0.01 * length) {
  process.stderr.write(`correlate: the recordings' lengths differ (${(a.samples.length / fs).toFixed(2)} and ${(b.samples.length / fs).toFixed(2)} s): both judged on their first ${(length / fs).toFixed(2)} s, from the instant they began together\n`);
}
// A peak is one lag among ±spacing / c of them: a recording must hold several times that span for its mean to mean anything.
const minSeconds = Math.max(MIN_PAIR_SECONDS, (4 * spacingM) / waveSpeedMs);
if (length / fs < minSeconds) fail('PAIR_TOO_SHORT', `${(length / fs).toFixed(2)} s in step is too short to correlate over ${spacingM} m; record at least ${minSeconds.toFixed(1)} s`);

const verdict = judgePair(a.samples.subarray(0, length), b.samples.subarray(0, length), fs, { spacingM, material, waveSpeedMs, sourcesM, threshold });
process.stdout.write(
  `${JSON.stringify({ a: fileA, b: fileB, sampleRateHz: fs, seconds: length / fs, spacingM, material, bandHz: LEAK_BAND_HZ[material], waveSpeedMs, ...verdict })}\n`,
);
const nameA = basename(fileA);
const nameB = basename(fileB);
process.stderr.write(
  verdict.leak
    ? `correlate: a leak between the sensors, ${verdict.fromAM.toFixed(1)} m from ${nameA} and ${verdict.fromBM.toFixed(1)} m from ${nameB} (within about ${verdict.withinM.toFixed(1)} m); peak ${verdict.ratio.toFixed(1)} × the mean, threshold ${verdict.threshold}\n`
    : `correlate: no leak heard by both between the sensors: peak ${verdict.ratio.toFixed(1)} × the mean, threshold ${verdict.threshold} (a leak within ${KNOWN_SOURCE_M} m of either sensor or of a given source is left out; each sensor's own recording may still be scored with score-wav)\n`,
);
