import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FEATURE_COUNT, PLAIN_FRONT_END, type FrontEnd } from '../model/feature-spec.ts';
import type { WindowingConfig } from '../stream/windower.ts';
import type { SplitData } from './dataset.ts';
import { buildExamples, frameWindows, windowLabels, type Example, type ExampleOptions, type ExampleSet } from './examples.ts';

/**
 * The code that decides a window's features, its device colouring and hum. The
 * cache key holds its text, so an edit to any of it computes afresh instead
 * of serving features the code no longer makes.
 */
export const FEATURE_CODE = [
  '../model/feature-spec.ts',
  '../model/reference-features.ts',
  '../stream/windower.ts',
  '../audio/resample.ts',
  '../audio/high-pass.ts',
  '../audio/biquad.ts',
  '../audio/mains-lines.ts',
  '../audio/pcm16.ts',
  './device-colouring.ts',
  './mains-hum.ts',
  './seeded-random.ts',
  './examples.ts',
  './dataset.ts',
];

export interface CacheSource {
  /** The dataset's manifest.json as written: its generator version, seed and options name its frames. */
  readonly manifestText: string;
  /** The dataset's own split the frames come from. */
  readonly split: string;
}

interface CacheIndex {
  readonly windows: number;
  readonly frameIndex: number[];
  readonly windowStartMs: number[];
  readonly skipped: Record<string, number>;
}

/**
 * buildExamples, with the features kept in `cacheDir` between runs: a
 * training run spends most of its first hour on features that do not change
 * between runs on the same data (another head, another operating point).
 * Keyed by the dataset's manifest, the split, the windowing, the colouring
 * and the feature code. PCM windows (keepPcm) are cut again from the frames
 * on a hit, which is cheap beside the features. Without `cacheDir` it is
 * buildExamples.
 */
export async function cachedExamples(
  data: SplitData,
  source: CacheSource,
  windowing: WindowingConfig,
  opts: ExampleOptions & { onHit?: (file: string) => void },
  cacheDir: string | undefined,
): Promise<ExampleSet> {
  if (!cacheDir) return buildExamples(data, windowing, opts);
  const key = await cacheKey(source, windowing, opts);
  const base = join(cacheDir, key);
  const hit = await readCached(base, data, windowing, opts.frontEnd ?? PLAIN_FRONT_END, opts.keepPcm === true);
  if (hit) {
    opts.onHit?.(`${base}.f32`);
    return hit;
  }
  const set = buildExamples(data, windowing, opts);
  await mkdir(cacheDir, { recursive: true });
  const frameOf = new Map(data.frames.map((f, i) => [f, i]));
  const index: CacheIndex = {
    windows: set.examples.length,
    frameIndex: set.examples.map((e) => frameOf.get(e.meta)!),
    windowStartMs: set.examples.map((e) => e.windowStartMs),
    skipped: set.skipped,
  };
  // Written beside and renamed into place, so a run stopped midway leaves no half file to be read as whole.
  const tmp = `${base}.${process.pid}.tmp`;
  await writeFile(`${tmp}.f32`, new Uint8Array(set.features.buffer, set.features.byteOffset, set.features.byteLength));
  await writeFile(`${tmp}.json`, JSON.stringify(index));
  await rename(`${tmp}.f32`, `${base}.f32`);
  await rename(`${tmp}.json`, `${base}.json`);
  return set;
}

/** The feature code's text, read once per process (a run asks for a key per dataset split). */
let featureCode: Promise<string[]> | undefined;

async function cacheKey(source: CacheSource, windowing: WindowingConfig, { colouring, hum, frontEnd }: ExampleOptions): Promise<string> {
  featureCode ??= Promise.all(FEATURE_CODE.map((f) => readFile(new URL(f, import.meta.url), 'utf8')));
  const hash = createHash('sha256');
  // Options at their "off" value are left out of the key, so keys made before an option existed still match.
  const lines = frontEnd && frontEnd.minLineShare > 0 ? { frontEnd } : {};
  hash.update(JSON.stringify({ manifest: source.manifestText, split: source.split, windowing, colouring: colouring && colouring.share > 0 ? colouring : null, featureCount: FEATURE_COUNT, ...(hum && hum.share > 0 && { hum }), ...lines }));
  for (const text of await featureCode) hash.update('\0').update(text);
  return hash.digest('hex').slice(0, 32);
}

async function readCached(base: string, data: SplitData, windowing: WindowingConfig, frontEnd: FrontEnd, keepPcm: boolean): Promise<ExampleSet | undefined> {
  let index: CacheIndex;
  let bytes: Buffer;
  try {
    index = JSON.parse(await readFile(`${base}.json`, 'utf8')) as CacheIndex;
    bytes = await readFile(`${base}.f32`);
  } catch {
    return undefined;
  }
  if (bytes.length !== index.windows * FEATURE_COUNT * 4 || index.frameIndex.some((i) => i >= data.frames.length)) return undefined;
  const features = new Float32Array(index.windows * FEATURE_COUNT);
  new Uint8Array(features.buffer).set(bytes);
  const examples: Example[] = index.frameIndex.map((f, i) => ({ meta: data.frames[f]!, windowStartMs: index.windowStartMs[i]! }));
  if (keepPcm) {
    let i = 0;
    for (const w of frameWindows(data, windowing, {}, { frontEnd })) {
      const e = examples[i];
      if (!e || e.meta !== w.meta || e.windowStartMs !== w.startMs) return undefined;
      examples[i++] = { ...e, pcm: w.pcm };
    }
    if (i !== examples.length) return undefined;
  }
  return { examples, features, ...windowLabels(examples), skipped: index.skipped };
}
