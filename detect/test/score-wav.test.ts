import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeWav } from '../src/audio/wav.ts';
import { FEATURE_COUNT } from '../src/model/feature-spec.ts';
import { LeakModel } from '../src/model/leak-model.ts';
import { buildLeakModelGraph, type LeakModelWeights } from '../src/model/onnx-graph.ts';
import { CONTEXT_SETTLED_MS } from '../src/model/sensor-context.ts';
import { contextWindow, randomContextWeights } from '../src/model/sensor-context.fixtures.ts';
import { SensorHistories } from '../src/stream/sensor-histories.ts';
import { scoreWindows } from '../src/stream/window-scorer.ts';
import { Windower } from '../src/stream/windower.ts';
import { persists } from '../src/training/metrics.ts';
import { runTsx } from './run-tsx.ts';

const CLI = fileURLToPath(new URL('../src/cli/score-wav.ts', import.meta.url));

function weights(): LeakModelWeights {
  let s = 9;
  const r = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32) - 0.5;
  // Weights scaled by fan-in, so that scores stay inside (0, 1) and differ window to window.
  const dense = (inputs: number, units: number) => ({ inputs, units, kernel: Float32Array.from({ length: inputs * units }, () => r() * (4 / Math.sqrt(inputs))), bias: new Float32Array(units) });
  return { featureMean: new Float32Array(FEATURE_COUNT), featureStd: new Float32Array(FEATURE_COUNT).fill(1), layers: [dense(FEATURE_COUNT, 8), dense(8, 1)] };
}

const cli = (args: string[]) => runTsx(CLI, args, { timeoutMs: 30_000 });

describe('score-wav CLI', () => {
  let dir: string;
  let modelPath: string;
  const pcm = Int16Array.from({ length: 28_000 }, (_, i) => Math.round(3000 * Math.sin(i / 5) + 800 * Math.sin(i / 37) + ((i * 7919) % 200) - 100));

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'suido-wav-'));
    modelPath = join(dir, 'm.onnx');
    await writeFile(modelPath, buildLeakModelGraph(weights(), { version: 'cli-test', threshold: '0.5', sample_rate_hz: '4000', window_samples: '4000' }));
    await writeFile(join(dir, 'rec.wav'), writeWav(pcm, 8000));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('prints one JSON line per window, scored exactly as the streaming path scores it', async () => {
    const out = await cli([join(dir, 'rec.wav'), '--model', modelPath, '--start', '2026-11-20T02:00:00+09:00']);
    expect(out.code, out.stderr).toBe(0);
    const lines = out.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.window, l.startS, l.endS, l.start])).toEqual([
      [0, 0, 1, '2026-11-19T17:00:00.000Z'],
      [1, 1, 2, '2026-11-19T17:00:01.000Z'],
      [2, 2, 3, '2026-11-19T17:00:02.000Z'],
    ]);
    const model = await LeakModel.load(modelPath);
    const windows = new Windower().push({ startMs: 0, sampleRateHz: 8000, samples: pcm });
    const expected = await scoreWindows(model, windows as Exclude<typeof windows, string>);
    await model.close();
    lines.forEach((l, i) => {
      expect(l.score).toBeCloseTo(expected[i]!, 4);
      expect(l.leak).toBe(expected[i]! >= 0.5);
    });
    expect(out.stderr).toContain('3 windows');
    // The test model names no K of N rule, so the recording gets no verdict, and says so.
    expect(out.stderr).toContain('names no K of N rule');
  });

  it('finds the recording and the model from where the command was typed, as npm run -w detect passes it', async () => {
    // npm runs the script in detect/ and keeps the folder it was typed in as INIT_CWD.
    const out = await runTsx(CLI, ['rec.wav', '--model', 'm.onnx'], { cwd: fileURLToPath(new URL('..', import.meta.url)), env: { ...process.env, INIT_CWD: dir }, timeoutMs: 30_000 });
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout.trim().split('\n')).toHaveLength(3);
    const missing = await runTsx(CLI, ['no-such.wav', '--model', 'm.onnx'], { env: { ...process.env, INIT_CWD: dir }, timeoutMs: 30_000 });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot read no-such.wav: ENOENT');
  });

  it('says where the front end took mains hum out of the recording, and where a plain model leaves it in', async () => {
    // Three seconds of hiss under a 60.05 Hz hum at twice its RMS, at 8 kHz.
    let seed = 3;
    const hiss = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32 - 0.5) * 2000;
    const humming = Int16Array.from({ length: 24_000 }, (_, i) => Math.round(hiss() + 1600 * Math.sin((2 * Math.PI * 60.05 * i) / 8000)));
    await writeFile(join(dir, 'hum.wav'), writeWav(humming, 8000));
    const linesModel = join(dir, 'lines.onnx');
    await writeFile(linesModel, buildLeakModelGraph(weights(), { version: 'cli-lines', threshold: '0.5', sample_rate_hz: '4000', window_samples: '4000', mains_line_share: '0.1' }));
    const withLines = await cli([join(dir, 'hum.wav'), '--model', linesModel]);
    expect(withLines.code, withLines.stderr).toBe(0);
    expect(withLines.stderr).toMatch(/hum\.wav: mains hum taken out of 3 of 3 windows \(loudest line 60\.\d Hz, (8\d|9\d) % of its window's power\)/);
    const plain = await cli([join(dir, 'hum.wav'), '--model', modelPath]);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stderr).not.toContain('mains hum');
  }, 60_000);

  it("judges the recording by the model's K of N rule over its consecutive windows", async () => {
    const rulePath = join(dir, 'rule.onnx');
    const meta = { version: 'cli-test', sample_rate_hz: '4000', window_samples: '4000', persistence_k: '2', persistence_n: '3' };
    const scores = (await cli([join(dir, 'rec.wav'), '--model', modelPath])).stdout.trim().split('\n').map((l) => JSON.parse(l).score as number);
    const sorted = [...scores].sort((a, b) => b - a);
    // A threshold under the second-highest score: 2 of the 3 windows are above it → LEAK; above it → no leak.
    await writeFile(rulePath, buildLeakModelGraph(weights(), { ...meta, threshold: String(sorted[1]! - 1e-4) }));
    const leak = await cli([join(dir, 'rec.wav'), '--model', rulePath]);
    expect(leak.code, leak.stderr).toBe(0);
    expect(leak.stderr).toContain("LEAK by the model's 2 of 3 rule");
    await writeFile(rulePath, buildLeakModelGraph(weights(), { ...meta, threshold: String(sorted[1]! + 1e-4) }));
    const quiet = await cli([join(dir, 'rec.wav'), '--model', rulePath]);
    expect(quiet.stderr).toContain("no leak by the model's 2 of 3 rule");
    const short = await cli([join(dir, 'rec.wav'), '--model', rulePath, '--window', '2']);
    expect(short.stderr).toContain('fewer than the 3 its 2 of 3 rule needs');
    // Per-site thresholds: --site takes the site's own where the model has one, else the default.
    const siteThresholds = JSON.stringify({ near_prv: sorted[1]! + 1e-4 });
    await writeFile(rulePath, buildLeakModelGraph(weights(), { ...meta, threshold: String(sorted[1]! - 1e-4), site_thresholds: siteThresholds }));
    const atPrv = await cli([join(dir, 'rec.wav'), '--model', rulePath, '--site', 'near_prv']);
    expect(atPrv.stderr).toContain("no leak by the model's 2 of 3 rule");
    const onTramLine = await cli([join(dir, 'rec.wav'), '--model', rulePath, '--site', 'tram_line', '--material', 'steel']);
    expect(onTramLine.stderr).toContain("LEAK by the model's 2 of 3 rule");
    // A recording threshold (chosen on recordings) takes the default's place; a higher site threshold still holds.
    const recording = (t: number, site?: number) =>
      writeFile(rulePath, buildLeakModelGraph(weights(), { ...meta, threshold: '0.999', recording_threshold: String(t), ...(site !== undefined && { site_thresholds: JSON.stringify({ near_prv: site }) }) }));
    await recording(sorted[1]! - 1e-4);
    const byRecording = await cli([join(dir, 'rec.wav'), '--model', rulePath]);
    expect(byRecording.stderr).toContain("LEAK by the model's 2 of 3 rule");
    expect(byRecording.stderr).toContain(`above ${(sorted[1]! - 1e-4).toFixed(3)}`);
    await recording(sorted[1]! - 1e-4, sorted[1]! + 1e-4);
    expect((await cli([join(dir, 'rec.wav'), '--model', rulePath, '--site', 'near_prv'])).stderr).toContain("no leak by the model's 2 of 3 rule");
    await recording(sorted[1]! + 1e-4, sorted[1]! - 1e-4);
    expect((await cli([join(dir, 'rec.wav'), '--model', rulePath, '--site', 'near_prv'])).stderr).toContain("no leak by the model's 2 of 3 rule");
    // Material thresholds were chosen on loggers: a recording threshold sets them aside.
    await writeFile(rulePath, buildLeakModelGraph(weights(), { ...meta, threshold: '0.999', recording_threshold: String(sorted[1]! + 1e-4), material_thresholds: JSON.stringify({ pvc: 0.01 }) }));
    expect((await cli([join(dir, 'rec.wav'), '--model', rulePath, '--material', 'pvc'])).stderr).toContain("no leak by the model's 2 of 3 rule");
    // A model file with a recording threshold out of range is refused.
    await writeFile(rulePath, buildLeakModelGraph(weights(), { ...meta, threshold: '0.5', recording_threshold: '1.5' }));
    const bad = await cli([join(dir, 'rec.wav'), '--model', rulePath]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('recording_threshold');
    // Thirteen runs of the CLI, each a Node process of its own: over 30 s on a loaded 2-core machine.
  }, 120_000);

  it('scores a context model each window with the recording\'s windows before it, as the live detector scores a sensor\'s', async () => {
    const contextPath = join(dir, 'context.onnx');
    await writeFile(contextPath, buildLeakModelGraph(randomContextWeights(51), { version: 'cli-context', threshold: '0.5', sample_rate_hz: '4000', window_samples: '4000' }));
    // 14 s: past a full context of 12 windows.
    const seconds = Array.from({ length: 14 }, (_, k) => contextWindow(60 + k));
    const long = Int16Array.from({ length: 14 * 8000 }, (_, i) => Math.round(seconds[Math.floor(i / 8000)]![(i % 8000) >> 1]! * 32767));
    await writeFile(join(dir, 'long.wav'), writeWav(long, 8000));
    const out = await cli([join(dir, 'long.wav'), '--model', contextPath]);
    expect(out.code, out.stderr).toBe(0);
    const scores = out.stdout.trim().split('\n').map((l) => JSON.parse(l).score as number);
    const model = await LeakModel.load(contextPath);
    const windows = new Windower().push({ startMs: 0, sampleRateHz: 8000, samples: long }) as Exclude<ReturnType<Windower['push']>, string>;
    const expected = await new SensorHistories(model).scoreWindows(windows.map((window) => ({ sensorId: 'rec', window })));
    await model.close();
    expect(scores).toHaveLength(14);
    scores.forEach((s, i) => expect(s, `window ${i}`).toBeCloseTo(expected[i]!, 4));
    expect(new Set(scores).size).toBeGreaterThan(7);
    // Given twice in one run, the second copy scores as the first: its windows never join the other's context.
    const twice = await cli([join(dir, 'long.wav'), join(dir, 'long.wav'), '--model', contextPath]);
    expect(twice.code, twice.stderr).toBe(0);
    expect(twice.stdout.trim().split('\n').map((l) => JSON.parse(l).score as number)).toEqual([...scores, ...scores]);
  });

  it("judges a context model's recording by its windows from CONTEXT_SETTLED_MS on, and says when it is too short for that", async () => {
    const settledFrom = CONTEXT_SETTLED_MS / 1000;
    const contextPath = join(dir, 'settled.onnx');
    const meta = { version: 'cli-settled', sample_rate_hz: '4000', window_samples: '4000', persistence_k: '2', persistence_n: '3' };
    const seconds = Array.from({ length: settledFrom + 6 }, (_, k) => contextWindow(90 + k));
    const pcm20 = Int16Array.from({ length: seconds.length * 8000 }, (_, i) => Math.round(seconds[Math.floor(i / 8000)]![(i % 8000) >> 1]! * 32767));
    await writeFile(join(dir, 'settled.wav'), writeWav(pcm20, 8000));
    await writeFile(contextPath, buildLeakModelGraph(randomContextWeights(52), { ...meta, threshold: '0.5' }));
    const scores = (await cli([join(dir, 'settled.wav'), '--model', contextPath])).stdout.trim().split('\n').map((l) => JSON.parse(l).score as number);
    const settled = scores.slice(settledFrom);
    // Thresholds either side of the best 2-of-3 among the settled windows (the second-highest of three in a row):
    // the verdict follows those windows alone. Printed scores are rounded to 1e-4, hence the margin.
    const best = Math.max(...settled.slice(0, -2).map((_, i) => [...settled.slice(i, i + 3)].sort((a, b) => b - a)[1]!));
    for (const [t, verdict] of [[best - 3e-4, 'LEAK'], [best + 3e-4, 'no leak']] as const) {
      await writeFile(contextPath, buildLeakModelGraph(randomContextWeights(52), { ...meta, threshold: String(t) }));
      const out = await cli([join(dir, 'settled.wav'), '--model', contextPath]);
      expect(out.code, out.stderr).toBe(0);
      expect(persists(settled, t, 2, 3)).toBe(verdict === 'LEAK');
      expect(out.stderr).toContain(`${verdict} by the model's 2 of 3 rule over consecutive windows, windows from ${settledFrom} s on`);
    }
    // Too short to have 3 settled windows: every window counts, and it says so.
    await writeFile(join(dir, 'short.wav'), writeWav(pcm20.subarray(0, (settledFrom + 1) * 8000), 8000));
    const short = await cli([join(dir, 'short.wav'), '--model', contextPath]);
    expect(short.stderr).toContain('every window: too short');
  });

  it('scores the channel it is given of a file of several, as that channel alone would score', async () => {
    // Two sensors in one file: the recording above on channel 2, another on channel 1.
    const other = Int16Array.from(pcm, (x, i) => (i % 3) * 500 - x);
    const both = Int16Array.from({ length: pcm.length * 2 }, (_, i) => (i % 2 === 0 ? other[i >> 1]! : pcm[i >> 1]!));
    const stereo = writeWav(both, 8000);
    const v = new DataView(stereo.buffer);
    v.setUint16(22, 2, true);
    v.setUint32(24, 4000, true); // the rate of each channel: the header's 8000 counted both channels' samples
    await writeFile(join(dir, 'pair.wav'), stereo);
    const scoresOf = async (args: string[]) => {
      const out = await cli([...args, '--model', modelPath]);
      expect(out.code, out.stderr).toBe(0);
      return out.stdout.trim().split('\n').map((l) => JSON.parse(l).score as number);
    };
    await writeFile(join(dir, 'mono4k.wav'), writeWav(pcm, 4000));
    await writeFile(join(dir, 'other4k.wav'), writeWav(other, 4000));
    expect(await scoresOf([join(dir, 'pair.wav'), '--channel', '2'])).toEqual(await scoresOf([join(dir, 'mono4k.wav')]));
    expect(await scoresOf([join(dir, 'pair.wav'), '--channel', '1'])).toEqual(await scoresOf([join(dir, 'other4k.wav')]));
  }, 120_000);

  it('windows longer than a second, with a hop', async () => {
    const out = await cli([join(dir, 'rec.wav'), '--model', modelPath, '--window', '2', '--hop', '0.5']);
    expect(out.code, out.stderr).toBe(0);
    const lines = out.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.startS)).toEqual([0, 0.5, 1, 1.5]);
  });

  it('scores several recordings and a folder of them, each alone; one that cannot be judged is reported and the others still scored', async () => {
    const batch = join(dir, 'batch');
    await mkdir(batch, { recursive: true });
    const other = Int16Array.from({ length: 16_000 }, (_, i) => Math.round(2500 * Math.sin(i / 3) + ((i * 7907) % 300) - 150));
    await writeFile(join(batch, 'a.wav'), writeWav(pcm, 8000));
    await writeFile(join(batch, 'b.wav'), writeWav(other, 4000));
    await writeFile(join(batch, 'notes.txt'), 'not a recording');
    const alone = async (file: string) => (await cli([file, '--model', modelPath])).stdout.trim().split('\n').map((l) => JSON.parse(l));
    const [a, b] = [await alone(join(batch, 'a.wav')), await alone(join(batch, 'b.wav'))];
    const folder = await cli([batch, '--model', modelPath]);
    expect(folder.code, folder.stderr).toBe(0);
    // The folder's .wav files by name, every window as that file alone scores it (none joins another's context).
    expect(folder.stdout.trim().split('\n').map((l) => JSON.parse(l))).toEqual([...a, ...b]);
    expect(folder.stderr).toContain('a.wav: 3 windows');
    expect(folder.stderr).toContain('b.wav: 4 windows');
    // A truncated file between two good ones: reported with its code; the good ones scored as before; exit code 2.
    await writeFile(join(dir, 'cut.wav'), writeWav(pcm, 8000).subarray(0, 30));
    const mixed = await cli([join(batch, 'b.wav'), join(dir, 'cut.wav'), join(batch, 'a.wav'), '--model', modelPath]);
    expect(mixed.code).toBe(2);
    expect(mixed.stdout.trim().split('\n').map((l) => JSON.parse(l))).toEqual([...b, ...a]);
    expect(mixed.stderr).toMatch(/score-wav: .*cut\.wav: WAV_/);
    expect(mixed.stderr).toContain('score-wav: 1 of 3 recordings could not be judged');
    const empty = join(dir, 'empty-folder');
    await mkdir(empty, { recursive: true });
    const none = await cli([empty, '--model', modelPath]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('a folder with no .wav file');
  }, 120_000);

  it('prints one JSON line per recording with --verdicts: the K of N verdict, its score and what it counted, or why it could not judge', async () => {
    const rulePath = join(dir, 'verdicts.onnx');
    const scores = (await cli([join(dir, 'rec.wav'), '--model', modelPath])).stdout.trim().split('\n').map((l) => JSON.parse(l).score as number);
    const sorted = [...scores].sort((a, b) => b - a);
    const t = sorted[1]! - 1e-4;
    await writeFile(rulePath, buildLeakModelGraph(weights(), { version: 'cli-test', sample_rate_hz: '4000', window_samples: '4000', persistence_k: '2', persistence_n: '3', threshold: String(t) }));
    const out = await cli([join(dir, 'rec.wav'), join(dir, 'missing.wav'), '--model', rulePath, '--verdicts']);
    expect(out.code).toBe(2);
    const [judged, missing] = out.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(judged).toEqual({
      file: join(dir, 'rec.wav'),
      windows: 3,
      windowsAbove: 2,
      maxScore: Math.round(sorted[0]! * 1e4) / 1e4,
      threshold: Math.round(t * 1e4) / 1e4,
      leak: true,
      rule: { k: 2, n: 3, score: Math.round(sorted[1]! * 1e4) / 1e4, counted: 'every window' },
    });
    expect(out.stderr).toContain("LEAK by the model's 2 of 3 rule");
    expect(missing).toEqual({ file: join(dir, 'missing.wav'), error: { code: 'ENOENT', message: expect.stringContaining('cannot read') } });
    // Too short for the rule: no verdict, and why.
    const short = await cli([join(dir, 'rec.wav'), '--model', rulePath, '--verdicts', '--window', '2']);
    expect(short.code, short.stderr).toBe(0);
    expect(JSON.parse(short.stdout)).toMatchObject({ windows: 1, leak: null, rule: { k: 2, n: 3, reason: 'too few windows' } });
  }, 120_000);

  it('refuses what it cannot score, saying why', async () => {
    const stereo = writeWav(pcm.subarray(0, 8000), 8000);
    new DataView(stereo.buffer).setUint16(22, 2, true);
    await writeFile(join(dir, 'stereo.wav'), stereo);
    await writeFile(join(dir, 'slow.wav'), writeWav(pcm.subarray(0, 8000), 2000));
    const a = await cli([join(dir, 'stereo.wav'), '--model', modelPath]);
    expect(a.code).toBe(2);
    expect(a.stderr).toContain('WAV_CHANNEL_REQUIRED: 2 channels (often one sensor each): choose one, 1 to 2 with --channel');
    const a3 = await cli([join(dir, 'stereo.wav'), '--model', modelPath, '--channel', '3']);
    expect(a3.stderr).toContain('WAV_NO_SUCH_CHANNEL');
    const a0 = await cli([join(dir, 'stereo.wav'), '--model', modelPath, '--channel', '0']);
    expect(a0.stderr).toContain('--channel must be a whole number from 1');
    const b = await cli([join(dir, 'slow.wav'), '--model', modelPath]);
    expect(b.code).toBe(2);
    expect(b.stderr).toContain('SAMPLE_RATE_BELOW_MODEL');
    const c = await cli([join(dir, 'missing.wav'), '--model', modelPath]);
    expect(c.stderr).toContain('ENOENT');
    const d = await cli([]);
    expect(d.stderr).toContain('give a WAV file (or several, or a folder of them)');
    const e = await cli([join(dir, 'rec.wav'), '--model', modelPath, '--site', 'near_river']);
    expect(e.code).toBe(2);
    expect(e.stderr).toContain('--site must be one of');
    const f = await cli([join(dir, 'rec.wav'), '--model', modelPath, '--material', 'pvc', '--threshold', '0.5']);
    expect(f.stderr).toContain('give --threshold or --site/--material, not both');
  }, 120_000);
});
