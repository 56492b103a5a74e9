import { mkdtemp, readdir, readFile, rm, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_WINDOWING } from '../stream/windower.ts';
import type { FrameMeta, SplitData } from './dataset.ts';
import { buildExamples } from './examples.ts';
import { cachedExamples, FEATURE_CODE } from './feature-cache.ts';

/** Frames of noise at 8 kHz, every third a leak, one at 2 kHz (the Windower refuses it). */
function split(frames: number): SplitData {
  let s = 7;
  const rand = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32) - 0.5;
  const metas: FrameMeta[] = [];
  const chunks: Buffer[] = [];
  let offset = 0;
  for (let i = 0; i < frames; i++) {
    const rate = i === 1 ? 2000 : 8000;
    const pcm = Int16Array.from({ length: rate * 2 }, () => Math.round(rand() * 4000 * (1 + (i % 3))));
    const leak = i % 3 === 0;
    metas.push({
      id: `f${i}`, sensorId: `S-${i % 4}`, night: 0, frame: i, startMs: i * 60_000, sampleRateHz: rate, samples: pcm.length, offsetBytes: offset,
      gainDb: 0, material: 'steel', sensorType: 'accelerometer', environment: 'quiet_residential', daytime: false, leak, audible: leak ? i % 2 === 0 : null,
      sensorAudible: leak ? true : null, leakSizeLps: leak ? 0.3 : null, distanceM: leak ? 20 : null, snrDb: leak ? 3 : null, confounders: [], clipped: false,
    });
    const buf = Buffer.from(pcm.buffer);
    chunks.push(buf);
    offset += buf.length;
  }
  return { split: 'train', frames: metas, pcm: Buffer.concat(chunks) };
}

describe('cachedExamples', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'suido-features-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const source = { manifestText: '{"seed":7}', split: 'train' };

  it('computes once, then serves the same examples, labels and windows from the cache', async () => {
    const data = split(9);
    const hits: string[] = [];
    const opts = { keepPcm: true, colouring: { share: 0.5, seed: 3, perSensor: true }, onHit: (f: string) => hits.push(f) };
    const first = await cachedExamples(data, source, DEFAULT_WINDOWING, opts, dir);
    const second = await cachedExamples(data, source, DEFAULT_WINDOWING, opts, dir);
    expect(hits).toHaveLength(1);
    expect(first.skipped).toEqual({ [Object.keys(first.skipped)[0]!]: 1 });
    expect(second.skipped).toEqual(first.skipped);
    expect(Array.from(second.features)).toEqual(Array.from(first.features));
    expect(Array.from(second.labels)).toEqual(Array.from(first.labels));
    expect(Array.from(second.weights)).toEqual(Array.from(first.weights));
    expect(second.examples.map((e) => [e.meta, e.windowStartMs])).toEqual(first.examples.map((e) => [e.meta, e.windowStartMs]));
    expect(second.examples.map((e) => Array.from(e.pcm!))).toEqual(first.examples.map((e) => Array.from(e.pcm!)));
    // The same as computing without a cache at all.
    expect(Array.from(first.features)).toEqual(Array.from(buildExamples(data, DEFAULT_WINDOWING, opts).features));
  });

  it('computes afresh for another colouring, another dataset, or a damaged file', async () => {
    const data = split(6);
    const hits: string[] = [];
    const onHit = (f: string) => hits.push(f);
    const plain = await cachedExamples(data, source, DEFAULT_WINDOWING, { onHit }, dir);
    const coloured = await cachedExamples(data, source, DEFAULT_WINDOWING, { colouring: { share: 1, seed: 1 }, onHit }, dir);
    await cachedExamples(data, { ...source, manifestText: '{"seed":8}' }, DEFAULT_WINDOWING, { onHit }, dir);
    expect(hits).toEqual([]);
    expect(Array.from(coloured.features)).not.toEqual(Array.from(plain.features));
    const files = (await readdir(dir)).filter((f) => f.endsWith('.f32'));
    expect(files).toHaveLength(3);
    for (const f of files) await truncate(join(dir, f), 100);
    const again = await cachedExamples(data, source, DEFAULT_WINDOWING, { onHit }, dir);
    expect(hits).toEqual([]);
    expect(Array.from(again.features)).toEqual(Array.from(plain.features));
  });
});

describe('the feature code in the cache key', () => {
  it('holds every module the listed ones import, so no edit that changes a feature is served from the cache', async () => {
    const listed = new Set(FEATURE_CODE.map((f) => new URL(f, new URL('./feature-cache.ts', import.meta.url)).pathname));
    for (const file of listed) {
      const text = await readFile(file, 'utf8');
      // Relative value imports (type-only imports cannot change a feature).
      for (const [, spec] of text.matchAll(/^import (?!type )[^;]*? from '(\.{1,2}\/[^']+)';/gms)) {
        expect(listed, `${file} imports ${spec}`).toContain(new URL(spec!, new URL(`file://${file}`)).pathname);
      }
    }
  });
});
