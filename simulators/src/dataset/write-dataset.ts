import { mkdir, open, writeFile, type FileHandle } from 'node:fs/promises';
import { endianness } from 'node:os';
import { join } from 'node:path';
import { countFrame, datasetManifest, emptyCounts, type SplitCounts } from './dataset-manifest.ts';
import { pairFrames, sensorFrames, type FrameRecord } from './dataset-frames.ts';
import { PIPE_MATERIALS } from '@suido/ingest';
import { drawPairPopulation, drawPopulation, SPLITS, type PopulationConditions, type Split } from './dataset-population.ts';
import { ENVIRONMENTS } from '../sensors/environment.ts';
import { SENSOR_TYPES } from '../sensors/sensor-hardware.ts';
import { dropCachedPowers } from '../sensors/signal/spectral-noise.ts';

export interface DatasetOptions {
  readonly seed: number;
  /** Created if missing; files of the same names are overwritten. */
  readonly outDir: string;
  readonly sensors?: number | undefined;
  readonly nights?: number | undefined;
  readonly framesPerNight?: number | undefined;
  readonly frameSeconds?: number | undefined;
  /** Share of all frames recorded by day. */
  readonly dayShare?: number | undefined;
  /** Share of sensors with a leak on their pipe. */
  readonly leakShare?: number | undefined;
  /** Share of those leaks that begin inside the recorded nights (from the second night on) rather than before the first. */
  readonly leakOnsetShare?: number | undefined;
  /** What every sensor shares instead of drawing it (PopulationConditions); unset: the population as drawn. */
  readonly conditions?: PopulationConditions | undefined;
  /**
   * Sensors in correlator pairs (drawPairPopulation): `sensors` / 2 pairs on
   * one main each, recording at the same instants, a leak between the two
   * heard by both. `sensors` must be even; no leak onsets or fixed leak distance.
   */
  readonly pairs?: boolean | undefined;
  readonly onProgress?: ((progress: DatasetProgress) => void) | undefined;
  readonly progressIntervalMs?: number | undefined;
}

export interface DatasetProgress {
  readonly sensorsDone: number;
  readonly sensors: number;
  readonly frames: number;
  readonly elapsedMs: number;
}

export interface DatasetReport {
  readonly outDir: string;
  readonly manifest: Record<string, unknown>;
  readonly counts: Readonly<Record<Split, SplitCounts>>;
  readonly frames: number;
  readonly elapsedMs: number;
}

export const DATASET_DEFAULTS = { sensors: 300, nights: 4, framesPerNight: 12, frameSeconds: 1, dayShare: 0.15, leakShare: 0.4, leakOnsetShare: 0 } as const;

/** Inclusive bounds of every option; the CLI checks its flags against the same. */
export const DATASET_LIMITS = {
  seed: [0, 0xffff_ffff],
  sensors: [1, 100_000],
  nights: [1, 365],
  framesPerNight: [1, 120],
  // 60 s at 16 kHz is the ingest's 960,000-sample limit.
  frameSeconds: [0.05, 60],
  dayShare: [0, 0.9],
  leakShare: [0, 1],
  leakOnsetShare: [0, 1],
} as const satisfies Record<string, readonly [number, number]>;

type Limited = keyof typeof DATASET_LIMITS;

/** Sample rates a condition may fix: from the model's 4 kHz to a recorder's 48 kHz. */
export const CONDITION_SAMPLE_RATE_HZ = [4000, 48_000] as const;
/** Leak distances a condition may fix, metres: beyond a few hundred metres no main carries a leak's sound. */
export const CONDITION_LEAK_DISTANCE_M = [0, 1000] as const;

/** A condition the simulator cannot render: which one, and what it must be. */
export class DatasetConditionError extends RangeError {
  readonly condition: keyof PopulationConditions;
  readonly detail: string;
  constructor(condition: keyof PopulationConditions, detail: string) {
    super(`dataset condition ${condition} ${detail}`);
    this.name = 'DatasetConditionError';
    this.condition = condition;
    this.detail = detail;
  }
}

/** The conditions, checked: a DatasetConditionError for the first that the simulator cannot render. */
export function checkedConditions(c: PopulationConditions): PopulationConditions {
  const oneOf = (name: 'material' | 'environment' | 'sensorType', allowed: readonly string[]) => {
    const value = c[name];
    if (value !== undefined && !allowed.includes(value)) throw new DatasetConditionError(name, `must be one of ${allowed.join(', ')}, got '${value}'`);
  };
  oneOf('material', PIPE_MATERIALS);
  oneOf('environment', ENVIRONMENTS);
  oneOf('sensorType', SENSOR_TYPES);
  const [minRate, maxRate] = CONDITION_SAMPLE_RATE_HZ;
  if (c.sampleRateHz !== undefined && !(Number.isInteger(c.sampleRateHz) && c.sampleRateHz >= minRate && c.sampleRateHz <= maxRate)) {
    throw new DatasetConditionError('sampleRateHz', `must be an integer from ${minRate} to ${maxRate}, got ${c.sampleRateHz}`);
  }
  const [near, far] = CONDITION_LEAK_DISTANCE_M;
  const d = c.leakDistanceM;
  if (d !== undefined && !(d[0] >= near && d[0] <= d[1] && d[1] <= far)) {
    throw new DatasetConditionError('leakDistanceM', `must be from ${near} to ${far} m, nearer first; got ${d.join(' to ')}`);
  }
  return c;
}

function checked(name: Limited, value: number, integer: boolean): number {
  const [min, max] = DATASET_LIMITS[name];
  if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    throw new RangeError(`dataset option ${name} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got ${value}`);
  }
  return value;
}

/** PCM as little-endian bytes whatever the host's byte order. */
function int16le(pcm: Int16Array): Buffer {
  if (endianness() === 'LE') return Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
  const out = Buffer.alloc(pcm.byteLength);
  for (let i = 0; i < pcm.length; i++) out.writeInt16LE(pcm[i]!, 2 * i);
  return out;
}

/**
 * Renders a labelled acoustic data set for training and evaluating a leak
 * detector: `manifest.json`, and per split `{split}.pcm` (frames
 * concatenated) with `{split}.jsonl` (one line per frame). Deterministic for
 * a seed and options: the same call writes the same bytes.
 */
export async function writeAcousticDataset(opts: DatasetOptions): Promise<DatasetReport> {
  const started = Date.now();
  const seed = checked('seed', opts.seed, true);
  const sensors = checked('sensors', opts.sensors ?? DATASET_DEFAULTS.sensors, true);
  const schedule = {
    nights: checked('nights', opts.nights ?? DATASET_DEFAULTS.nights, true),
    framesPerNight: checked('framesPerNight', opts.framesPerNight ?? DATASET_DEFAULTS.framesPerNight, true),
    frameSeconds: checked('frameSeconds', opts.frameSeconds ?? DATASET_DEFAULTS.frameSeconds, false),
    dayShare: checked('dayShare', opts.dayShare ?? DATASET_DEFAULTS.dayShare, false),
  };
  const leakShare = checked('leakShare', opts.leakShare ?? DATASET_DEFAULTS.leakShare, false);
  const interval = opts.progressIntervalMs ?? 2000;
  const conditions = checkedConditions(opts.conditions ?? {});

  await mkdir(opts.outDir, { recursive: true });
  const leakOnsetShare = checked('leakOnsetShare', opts.leakOnsetShare ?? DATASET_DEFAULTS.leakOnsetShare, false);
  if (opts.pairs && sensors % 2 !== 0) throw new RangeError(`dataset option sensors must be even for pairs (two a pair), got ${sensors}`);
  if (opts.pairs && (leakOnsetShare > 0 || conditions.leakDistanceM !== undefined)) {
    throw new RangeError('dataset option pairs draws a leak between the two sensors from before the first night: give no leak onset share or leak distance');
  }
  const population = opts.pairs
    ? drawPairPopulation(seed, sensors / 2, leakShare, conditions)
    : drawPopulation(seed, sensors, leakShare, { share: leakOnsetShare, nights: schedule.nights }, conditions);
  const counts = Object.fromEntries(SPLITS.map((s) => [s, emptyCounts()])) as Record<Split, SplitCounts>;
  const files = new Map<Split, { pcm: FileHandle; index: FileHandle }>();
  let frames = 0;
  let lastProgress = Date.now();
  try {
    for (const s of SPLITS) files.set(s, { pcm: await open(join(opts.outDir, `${s}.pcm`), 'w'), index: await open(join(opts.outDir, `${s}.jsonl`), 'w') });
    for (const [i, sensor] of population.entries()) {
      // A pair's second sensor was rendered with its first.
      if (sensor.pair?.role === 'b') continue;
      const c = counts[sensor.split];
      const members = sensor.pair ? [sensor, population[i + 1]!] : [sensor];
      for (const m of members) {
        c.sensors++;
        if (m.leak) c.leakSensors++;
        else c.noLeakSensors++;
        if (m.sensorAudible === false) c.inaudibleSensors++;
      }
      const chunks: Buffer[] = [];
      let lines = '';
      for (const { record, pcm } of sensor.pair ? pairFrames(seed, sensor, population[i + 1]!, schedule) : sensorFrames(seed, sensor, schedule)) {
        const full: FrameRecord = { ...record, offsetBytes: c.pcmBytes };
        countFrame(c, full);
        chunks.push(int16le(pcm));
        lines += `${JSON.stringify(full)}\n`;
        frames++;
      }
      dropCachedPowers();
      const f = files.get(sensor.split)!;
      await f.pcm.write(Buffer.concat(chunks));
      await f.index.write(lines);
      if (opts.onProgress && Date.now() - lastProgress >= interval) {
        lastProgress = Date.now();
        opts.onProgress({ sensorsDone: sensor.index + members.length, sensors, frames, elapsedMs: Date.now() - started });
      }
    }
  } finally {
    for (const f of files.values()) {
      await f.pcm.close();
      await f.index.close();
    }
  }
  const manifest = datasetManifest({ seed, options: { sensors, ...schedule, leakShare, ...(leakOnsetShare > 0 && { leakOnsetShare }), ...(opts.pairs && { pairs: true }) }, conditions, counts });
  await writeFile(join(opts.outDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  opts.onProgress?.({ sensorsDone: sensors, sensors, frames, elapsedMs: Date.now() - started });
  return { outDir: opts.outDir, manifest, counts, frames, elapsedMs: Date.now() - started };
}
