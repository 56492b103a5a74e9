import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromPcm16 } from '../src/audio/pcm16.ts';
import { resample } from '../src/audio/resample.ts';
import { noiseStream } from '../src/pairs/noise.fixtures.ts';
import { writeWav } from '../src/audio/wav.ts';
import { PAIR_RATIO_THRESHOLD, judgePair } from '../src/pairs/pair-verdict.ts';
import { framePcm, loadSplit, SPLITS, type FrameMeta } from '../src/training/dataset.ts';
import { runTsx } from './run-tsx.ts';

const DETECT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(DETECT, 'src/cli/correlate.ts');
const DATASET = fileURLToPath(new URL('../../simulators/src/dataset/dataset-cli.ts', import.meta.url));
const correlate = (args: string[]) => runTsx(CLI, args, { cwd: DETECT, timeoutMs: 60_000 });

/** A shared source (a leak's hiss) heard by b `delay` samples after a, under each sensor's own louder noise; or no shared source. */
function recordings(seconds: number, fs: number, delay: number | null, seed = 7): { a: Int16Array; b: Int16Array } {
  const noise = noiseStream(seed);
  const n = seconds * fs;
  const source = Float64Array.from({ length: n + 2000 }, noise);
  const a = new Int16Array(n);
  const b = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    const shared = delay === null ? 0 : 1;
    a[i] = Math.round(2000 * (shared * source[i + 1000]! + 2 * noise()));
    b[i] = Math.round(2000 * (shared * source[i + 1000 - (delay ?? 0)]! + 2 * noise()));
  }
  return { a, b };
}

/** Two 16-bit channels interleaved (a correlator's one file for its pair). */
function stereoWav(a: Int16Array, b: Int16Array, fs: number): Uint8Array {
  const mono = writeWav(new Int16Array(a.length * 2).map((_, i) => (i % 2 === 0 ? a[i >> 1]! : b[i >> 1]!)), fs);
  const v = new DataView(mono.buffer);
  v.setUint16(22, 2, true);
  v.setUint32(24, fs, true);
  v.setUint32(28, fs * 4, true);
  v.setUint16(32, 4, true);
  return mono;
}

describe('correlate: two recordings in step, a leak placed between them', () => {
  let dir: string;
  const fs = 4000;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'suido-correlate-'));
    // b hears the shared sound 200 samples (50 ms) after a: on 200 m of ductile iron (1,331 m/s) it is (200 − 66.55)/2 = 66.7 m from a.
    const leak = recordings(20, fs, 200);
    await writeFile(join(dir, 'a.wav'), writeWav(leak.a, fs));
    await writeFile(join(dir, 'b.wav'), writeWav(leak.b, fs));
    await writeFile(join(dir, 'pair.wav'), stereoWav(leak.a, leak.b, fs));
    // b's logger of another make, recording at 8 kHz.
    await writeFile(join(dir, 'b-8k.wav'), writeWav(Int16Array.from(resample(fromPcm16(leak.b), fs, 8000), (x) => Math.round(x * 32768)), 8000));
    const quiet = recordings(20, fs, null, 11);
    await writeFile(join(dir, 'quiet-a.wav'), writeWav(quiet.a, fs));
    await writeFile(join(dir, 'quiet-b.wav'), writeWav(quiet.b, fs));
    await writeFile(join(dir, 'short.wav'), writeWav(leak.a.subarray(0, 2000), fs));
    await writeFile(join(dir, 'not.wav'), new TextEncoder().encode('not a recording'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('places a sound both sensors share where its delay says, and says so to a crew', async () => {
    const out = await correlate([join(dir, 'a.wav'), join(dir, 'b.wav'), '--spacing-m', '200', '--material', 'ductile_iron']);
    expect(out.code, out.stderr).toBe(0);
    const v = JSON.parse(out.stdout);
    expect(v).toMatchObject({ sampleRateHz: 4000, seconds: 20, spacingM: 200, waveSpeedMs: 1331, lagS: 0.05, leak: true, threshold: PAIR_RATIO_THRESHOLD });
    expect(v.fromAM).toBeCloseTo((200 - 1331 * 0.05) / 2, 6);
    expect(v.fromAM + v.fromBM).toBeCloseTo(200, 9);
    expect(v.ratio).toBeGreaterThan(3 * PAIR_RATIO_THRESHOLD);
    expect(out.stderr).toContain('a leak between the sensors, 66.7 m from a.wav and 133.3 m from b.wav');
    // One file of two channels is the same pair.
    const stereo = await correlate([join(dir, 'pair.wav'), '--spacing-m', '200', '--material', 'ductile_iron']);
    expect(stereo.code, stereo.stderr).toBe(0);
    expect({ ...JSON.parse(stereo.stdout), a: 0, b: 0 }).toEqual({ ...v, a: 0, b: 0 });
    // A measured wave speed moves the place: 1,200 m/s puts it at (200 − 60)/2 = 70 m.
    // Two rates: judged at the lower, the same place.
    const mixed = await correlate([join(dir, 'a.wav'), join(dir, 'b-8k.wav'), '--spacing-m', '200', '--material', 'ductile_iron']);
    expect(mixed.code, mixed.stderr).toBe(0);
    expect(mixed.stderr).toContain("the recordings' rates differ (4000 and 8000 Hz): both judged at 4000 Hz");
    expect(JSON.parse(mixed.stdout)).toMatchObject({ sampleRateHz: 4000, lagS: 0.05, leak: true });
    const measured = JSON.parse((await correlate([join(dir, 'a.wav'), join(dir, 'b.wav'), '--spacing-m', '200', '--material', 'ductile_iron', '--wave-speed-ms', '1200'])).stdout);
    expect(measured.fromAM).toBeCloseTo(70, 6);
  }, 60_000);

  it('calls no leak where nothing is shared, and leaves out a peak at a mapped valve', async () => {
    const quiet = await correlate([join(dir, 'quiet-a.wav'), join(dir, 'quiet-b.wav'), '--spacing-m', '200', '--material', 'ductile_iron']);
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(JSON.parse(quiet.stdout).leak).toBe(false);
    expect(JSON.parse(quiet.stdout).ratio).toBeLessThan(PAIR_RATIO_THRESHOLD);
    expect(quiet.stderr).toContain('no leak heard by both');
    // The shared sound is a PRV the registry maps 65 m along from a: its peak is taken for the valve.
    const valve = await correlate([join(dir, 'a.wav'), join(dir, 'b.wav'), '--spacing-m', '200', '--material', 'ductile_iron', '--source-m', '65']);
    expect(valve.code, valve.stderr).toBe(0);
    expect(JSON.parse(valve.stdout).leak).toBe(false);
  }, 60_000);

  it('refuses what it cannot judge with a reason and a code', async () => {
    const cases: [string[], string][] = [
      [[join(dir, 'a.wav'), join(dir, 'b.wav'), '--material', 'pvc'], 'USAGE: give --spacing-m'],
      [[join(dir, 'a.wav'), join(dir, 'b.wav'), '--spacing-m', '200', '--wave-speed-ms', '1300'], "USAGE: give --material: the main's"],
      [[join(dir, 'a.wav'), join(dir, 'b.wav'), '--spacing-m', '200', '--material', 'lead'], 'USAGE: --material must be one of'],
      [[join(dir, 'a.wav'), join(dir, 'b.wav'), '--spacing-m', '12', '--material', 'pvc'], 'USAGE: --spacing-m must be a distance over 20 m and at most 5000'],
      [[join(dir, 'a.wav'), join(dir, 'b.wav'), '--spacing-m', '1e400', '--material', 'pvc'], 'USAGE: --spacing-m must be a distance over 20 m and at most 5000'],
      [[join(dir, 'a.wav'), join(dir, 'b.wav'), '--spacing-m', '200', '--material', 'pvc', '--source-m', 'x'], 'USAGE: --source-m must be a position'],
      [[join(dir, 'a.wav'), '--spacing-m', '200', '--material', 'pvc'], 'WAV_NO_SUCH_CHANNEL: one file is a pair only with two channels (a on 1, b on 2); give two files otherwise'],
      [[join(dir, 'a.wav'), join(dir, 'short.wav'), '--spacing-m', '200', '--material', 'pvc'], 'PAIR_TOO_SHORT: 0.50 s in step is too short to correlate over 200 m; record at least 1.9 s'],
      [[join(dir, 'a.wav'), join(dir, 'not.wav'), '--spacing-m', '200', '--material', 'pvc'], 'WAV_NOT_RIFF'],
      [[join(dir, 'a.wav'), join(dir, 'missing.wav'), '--spacing-m', '200', '--material', 'pvc'], 'WAV_UNREADABLE'],
    ];
    for (const [args, reason] of cases) {
      const out = await correlate(args);
      expect(out.code, args.join(' ')).toBe(2);
      expect(out.stderr).toContain(`correlate: ${reason}`);
      expect(out.stdout).toBe('');
    }
  }, 120_000);

  it("judges the simulator's pairs as npm run pairs does, and places the leaks it calls", async () => {
    // 30 pairs on ductile iron in quiet streets, one 10 s frame each, exported as a crew's WAV files.
    const set = join(dir, 'pairs');
    const made = await runTsx(
      DATASET,
      ['--seed', '5', '--sensors', '60', '--nights', '1', '--frames-per-night', '1', '--frame-seconds', '10', '--day-share', '0', '--leak-share', '0.5', '--material', 'ductile_iron', '--environment', 'quiet_residential', '--pairs', '--out', set, '--quiet'],
      { cwd: DETECT, timeoutMs: 120_000 },
    );
    expect(made.code, made.stderr).toBe(0);
    type PairMeta = FrameMeta & { pair: { id: string; positionM: number; spacingM: number; leakPositionM: number | null; sources?: { positionM: number }[] } };
    let leaks = 0;
    let called = 0;
    let placed = 0;
    let falseCalls = 0;
    for (const split of SPLITS) {
      const data = await loadSplit(set, split);
      const frames = data.frames as readonly PairMeta[];
      for (const a of frames.filter((f) => f.pair.positionM === 0)) {
        const b = frames.find((f) => f.pair.id === a.pair.id && f.pair.positionM > 0)!;
        const [pa, pb] = [framePcm(data, a), framePcm(data, b)];
        const files = [join(dir, `${a.pair.id}-a.wav`), join(dir, `${a.pair.id}-b.wav`)];
        await writeFile(files[0]!, writeWav(pa, a.sampleRateHz));
        await writeFile(files[1]!, writeWav(pb, b.sampleRateHz));
        const sources = (a.pair.sources ?? []).flatMap((s) => ['--source-m', String(s.positionM)]);
        const out = await correlate([...files, '--spacing-m', String(a.pair.spacingM), '--material', 'ductile_iron', ...sources]);
        expect(out.code, out.stderr).toBe(0);
        const v = JSON.parse(out.stdout);
        // The command is the measured code: the same verdict in-process.
        const direct = judgePair(fromPcm16(pa), fromPcm16(pb), a.sampleRateHz, { spacingM: a.pair.spacingM, material: 'ductile_iron', waveSpeedMs: 1331, sourcesM: (a.pair.sources ?? []).map((s) => s.positionM) });
        expect(v.ratio).toBeCloseTo(direct.ratio, 9);
        expect(v.leak).toBe(direct.leak);
        if (a.pair.leakPositionM === null) {
          if (v.leak) falseCalls++;
          continue;
        }
        if (a.sensorAudible !== true && b.sensorAudible !== true) continue;
        leaks++;
        if (!v.leak) continue;
        called++;
        if (Math.abs(v.fromAM - a.pair.leakPositionM) <= 10) placed++;
      }
    }
    console.log(`correlate on the simulator's pairs: ${called} of ${leaks} audible leak pairs called, ${placed} placed within 10 m; ${falseCalls} quiet pairs called`);
    expect(leaks).toBeGreaterThanOrEqual(5);
    // On iron a leak between two sensors carries to both: most are called, nearly all placed within 10 m, few quiet pairs called.
    expect(called).toBeGreaterThanOrEqual(Math.ceil(0.5 * leaks));
    expect(placed).toBeGreaterThanOrEqual(Math.ceil(0.8 * called));
    expect(falseCalls).toBeLessThanOrEqual(1);
  }, 300_000);
});
