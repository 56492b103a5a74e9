import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFOUNDERS } from '../sensors/environment.ts';
import { AUDIBLE_SNR_DB } from '../sensors/sensor-frame.ts';
import type { FrameRecord } from './dataset-frames.ts';
import { SPLITS } from './dataset-population.ts';
import { writeAcousticDataset, type DatasetOptions } from './write-dataset.ts';

const small = { sensors: 14, nights: 2, framesPerNight: 3, frameSeconds: 0.25, dayShare: 0.3 } satisfies Partial<DatasetOptions>;
const FILES = ['manifest.json', ...SPLITS.flatMap((s) => [`${s}.pcm`, `${s}.jsonl`])];

async function lines(dir: string, split: string): Promise<FrameRecord[]> {
  const text = await readFile(join(dir, `${split}.jsonl`), 'utf8');
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as FrameRecord);
}

describe('the acoustic data set', () => {
  let root: string;
  let a: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'suido-dataset-'));
    a = join(root, 'a');
    await writeAcousticDataset({ seed: 3, outDir: a, ...small });
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('is the same, byte for byte, for the same seed, and different for another', async () => {
    const b = join(root, 'b');
    const progress: number[] = [];
    await writeAcousticDataset({ seed: 3, outDir: b, ...small, onProgress: (p) => progress.push(p.sensorsDone), progressIntervalMs: 0 });
    for (const f of FILES) expect((await readFile(join(b, f))).equals(await readFile(join(a, f))), f).toBe(true);
    expect(progress.at(-1)).toBe(small.sensors);
    const c = join(root, 'c');
    await writeAcousticDataset({ seed: 4, outDir: c, ...small });
    expect((await readFile(join(c, 'train.pcm'))).equals(await readFile(join(a, 'train.pcm')))).toBe(false);
  });

  it('splits by sensor: no sensor is heard in two splits', async () => {
    const owners = new Map<string, string>();
    for (const split of SPLITS) {
      for (const r of await lines(a, split)) {
        expect(owners.get(r.sensorId) ?? split, r.sensorId).toBe(split);
        owners.set(r.sensorId, split);
      }
    }
    expect(owners.size).toBe(small.sensors);
  });

  it('indexes every frame where its PCM is, with labels and metadata that agree', async () => {
    const manifest = JSON.parse(await readFile(join(a, 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({ seed: 3, generator: { version: expect.any(String) }, options: { sensors: 14, nights: 2, framesPerNight: 3 } });
    let days = 0;
    let frames = 0;
    for (const split of SPLITS) {
      const records = await lines(a, split);
      const counts = manifest.splits[split];
      expect(counts.frames).toBe(records.length);
      expect(counts.leakFrames).toBe(records.filter((r) => r.leak).length);
      expect(counts.inaudibleFrames).toBe(records.filter((r) => r.audible === false).length);
      expect(counts.sensors).toBe(new Set(records.map((r) => r.sensorId)).size);
      let offset = 0;
      const bySensor = new Map<string, FrameRecord>();
      for (const r of records) {
        expect(r.offsetBytes).toBe(offset);
        offset += 2 * r.samples;
        expect(r.samples).toBe(Math.round(r.sampleRateHz * small.frameSeconds));
        expect(r.id).toBe(`${r.sensorId}/n${r.night}/f${r.frame}`);
        for (const c of r.confounders) expect(CONFOUNDERS).toContain(c);
        if (r.leak) {
          expect(r.snrDb).toEqual(expect.any(Number));
          expect(r.audible).toBe(r.snrDb! >= AUDIBLE_SNR_DB);
          expect(r.sensorAudible).toBe(r.sensorSnrDb! >= AUDIBLE_SNR_DB);
          expect(r.leakSizeLps).toBeGreaterThanOrEqual(0.05);
          expect(r.distanceM).toBeGreaterThanOrEqual(0);
        } else {
          expect(r).toMatchObject({ audible: null, sensorAudible: null, snrDb: null, sensorSnrDb: null, leakSizeLps: null, distanceM: null });
        }
        // A sensor is one device on one pipe: its traits and its label hold for all its frames (leaks persist).
        const first = bySensor.get(r.sensorId) ?? r;
        bySensor.set(r.sensorId, first);
        for (const k of ['sampleRateHz', 'gainDb', 'material', 'sensorType', 'environment', 'leak', 'leakSizeLps', 'distanceM', 'sensorSnrDb'] as const) expect(r[k]).toEqual(first[k]);
        if (r.daytime) days++;
        frames++;
      }
      expect((await stat(join(a, `${split}.pcm`))).size).toBe(offset);
      expect(counts.pcmBytes).toBe(offset);
    }
    // Day frames: about the asked share of all frames.
    expect(days / frames).toBeGreaterThan(0.15);
    expect(days / frames).toBeLessThan(0.45);
  });

  it('stores real audio: frames are int16 little-endian and not silent', async () => {
    const records = await lines(a, 'train');
    const pcm = await readFile(join(a, 'train.pcm'));
    const r = records[0]!;
    const samples = Array.from({ length: r.samples }, (_, i) => pcm.readInt16LE(r.offsetBytes + 2 * i));
    const mean = samples.reduce((s, v) => s + v, 0) / samples.length;
    const rms = Math.sqrt(samples.reduce((s, v) => s + (v - mean) ** 2, 0) / samples.length);
    expect(rms).toBeGreaterThan(1);
  });

  it('labels a leak that begins inside the recorded nights from that moment on', async () => {
    const d = join(root, 'onsets');
    await writeAcousticDataset({ seed: 3, outDir: d, ...small, nights: 3, leakShare: 1, leakOnsetShare: 1 });
    const manifest = JSON.parse(await readFile(join(d, 'manifest.json'), 'utf8'));
    expect(manifest.options).toMatchObject({ leakShare: 1, leakOnsetShare: 1 });
    const records = (await Promise.all(SPLITS.map((s) => lines(d, s)))).flat();
    let before = 0;
    let after = 0;
    for (const r of records) {
      expect(r.leakStartMs, r.id).toBeGreaterThan(0);
      expect(r.leak, r.id).toBe(r.startMs >= r.leakStartMs!);
      if (r.leak) after++;
      else before++;
      expect(r.leakSizeLps === null, r.id).toBe(!r.leak);
      // Nothing before the onset: the first night is always before it.
      if (r.night === 0) expect(r.leak, r.id).toBe(false);
    }
    expect(before).toBeGreaterThan(0);
    expect(after).toBeGreaterThan(0);
    // Without onsets the files carry no onset field at all (the bytes of generator 1.0.0's frames).
    expect((await readFile(join(a, 'train.jsonl'), 'utf8')).includes('leakStartMs')).toBe(false);
  });

  it('refuses options out of range with a message that names them', async () => {
    await expect(writeAcousticDataset({ seed: 1, outDir: join(root, 'x'), dayShare: 1 })).rejects.toThrow(/dayShare must be a number from 0 to 0.9/);
    await expect(writeAcousticDataset({ seed: 1.5, outDir: join(root, 'x') })).rejects.toThrow(/seed must be an integer/);
    await expect(writeAcousticDataset({ seed: 1, outDir: join(root, 'x'), conditions: { material: 'lead' as never } })).rejects.toThrow(/condition material must be one of ductile_iron/);
    await expect(writeAcousticDataset({ seed: 1, outDir: join(root, 'x'), conditions: { leakDistanceM: [5, 1] } })).rejects.toThrow(/condition leakDistanceM must be from 0 to 1000 m, nearer first/);
    await expect(writeAcousticDataset({ seed: 1, outDir: join(root, 'x'), conditions: { sampleRateHz: 2000 } })).rejects.toThrow(/sampleRateHz must be an integer from 4000/);
  });

  it('renders one condition for every sensor and names it in the manifest; without one the manifest has no such key', async () => {
    const c = join(root, 'c');
    await writeAcousticDataset({ seed: 3, outDir: c, ...small, conditions: { material: 'pe', sensorType: 'accelerometer', sampleRateHz: 44_100, leakDistanceM: [1, 3] } });
    const frames = (await Promise.all(SPLITS.map((s) => lines(c, s)))).flat();
    expect(new Set(frames.map((f) => `${f.material} ${f.sensorType} ${f.sampleRateHz}`))).toEqual(new Set(['pe accelerometer 44100']));
    expect(frames.filter((f) => f.leak).every((f) => f.distanceM! >= 1 && f.distanceM! <= 3)).toBe(true);
    expect(frames.every((f) => f.samples === Math.round(44_100 * small.frameSeconds))).toBe(true);
    const manifest = JSON.parse(await readFile(join(c, 'manifest.json'), 'utf8'));
    expect(manifest.conditions).toEqual({ material: 'pe', sensorType: 'accelerometer', sampleRateHz: 44_100, leakDistanceM: [1, 3] });
    expect(JSON.parse(await readFile(join(a, 'manifest.json'), 'utf8'))).not.toHaveProperty('conditions');
  });

  it('with pairs: two sensors on one main, in one split, recording at the same instants; a leak between them, at its distance from each', async () => {
    const dir = join(root, 'pairs');
    const opts = { seed: 5, outDir: dir, sensors: 24, nights: 2, framesPerNight: 2, frameSeconds: 0.25, dayShare: 0, leakShare: 0.5, pairs: true } as const;
    await writeAcousticDataset(opts);
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
    expect(manifest.options).toMatchObject({ sensors: 24, pairs: true });
    expect(manifest.pairs.split).toMatch(/by pair/);
    // Plain data sets carry no pair section: their manifests are as they were.
    expect(JSON.parse(await readFile(join(a, 'manifest.json'), 'utf8'))).not.toHaveProperty('pairs');
    const all = (await Promise.all(SPLITS.map(async (split) => (await lines(dir, split)).map((r) => ({ ...r, split }))))).flat();
    expect(new Set(all.map((r) => r.sensorId)).size).toBe(24);
    const byId = new Map(all.map((r) => [r.id, r]));
    let leakPairs = 0;
    for (const r of all.filter((x) => x.pair!.positionM === 0)) {
      const partner = byId.get(`${r.pair!.partnerId}/n${r.night}/f${r.frame}`)!;
      expect(partner, r.id).toBeDefined();
      expect(partner.pair).toMatchObject({ id: r.pair!.id, partnerId: r.sensorId, positionM: r.pair!.spacingM, spacingM: r.pair!.spacingM, leakPositionM: r.pair!.leakPositionM });
      expect(partner.split).toBe(r.split);
      expect(partner.startMs).toBe(r.startMs);
      expect(partner.sampleRateHz).toBe(r.sampleRateHz);
      expect(partner.material).toBe(r.material);
      expect(partner.leak).toBe(r.leak);
      // The main's PRV and pump, as a registry maps them: the same for both, beside a sensor whose site has one.
      expect(partner.pair!.sources).toEqual(r.pair!.sources);
      for (const source of r.pair!.sources) {
        const owner = [r, partner].find((x) => x.environment === (source.kind === 'prv' ? 'near_prv' : 'near_pump'));
        expect(owner, `${r.pair!.id}: a ${source.kind} with no sensor beside one`).toBeDefined();
      }
      const [lo, hi] = r.material === 'pvc' || r.material === 'pe' ? [40, 120] : [100, 300];
      expect(r.pair!.spacingM).toBeGreaterThanOrEqual(lo);
      expect(r.pair!.spacingM).toBeLessThanOrEqual(hi);
      if (r.leak) {
        leakPairs++;
        const at = r.pair!.leakPositionM!;
        expect(at).toBeGreaterThanOrEqual(0);
        expect(at).toBeLessThanOrEqual(r.pair!.spacingM);
        expect(r.distanceM).toBeCloseTo(at, 0);
        expect(partner.distanceM).toBeCloseTo(r.pair!.spacingM - at, 0);
        expect(partner.leakSizeLps).toBe(r.leakSizeLps);
      } else expect(r.pair!.leakPositionM).toBeNull();
    }
    expect(leakPairs).toBeGreaterThan(0);
    // The same seed and options, the same bytes.
    const again = join(root, 'pairs-again');
    await writeAcousticDataset({ ...opts, outDir: again });
    for (const f of FILES) expect((await readFile(join(again, f))).equals(await readFile(join(dir, f))), f).toBe(true);
    await expect(writeAcousticDataset({ ...opts, sensors: 23 })).rejects.toThrow(/even/);
    await expect(writeAcousticDataset({ ...opts, leakOnsetShare: 0.5 })).rejects.toThrow(/no leak onset share/);
  });
});
