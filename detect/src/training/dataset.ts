import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The labelled acoustic dataset written by `npm run dataset -w simulators`
 * (simulators/README.md): per split, a JSON line per frame and the frames'
 * int16 PCM concatenated. Detect reads the files, never the simulator's code,
 * so a dataset of real recordings in the same layout trains the same way.
 */
export const SPLITS = ['train', 'val', 'test'] as const;
export type Split = (typeof SPLITS)[number];

export interface FrameMeta {
  readonly id: string;
  readonly sensorId: string;
  readonly night: number;
  readonly frame: number;
  readonly startMs: number;
  readonly sampleRateHz: number;
  readonly samples: number;
  readonly offsetBytes: number;
  readonly gainDb: number;
  readonly material: string;
  readonly sensorType: string;
  readonly environment: string;
  readonly daytime: boolean;
  readonly leak: boolean;
  /** This frame: the leak's in-band SNR at the sensor >= 0 dB; null when there is no leak. */
  readonly audible: boolean | null;
  /** The sensor on a quiet night: could it hear this leak at all (too far, too small)? null without a leak. */
  readonly sensorAudible: boolean | null;
  readonly leakSizeLps: number | null;
  readonly distanceM: number | null;
  /** Where the sensor's leak begins inside its recorded nights: frames before it have none (`leak` false). */
  readonly leakStartMs?: number | undefined;
  readonly snrDb: number | null;
  /** The leak's in-band SNR at the sensor on a quiet night (what `sensorAudible` is judged on); null without a leak. */
  readonly sensorSnrDb?: number | null;
  readonly confounders: readonly string[];
  readonly clipped: boolean;
}

export interface SplitData {
  readonly split: Split;
  readonly frames: readonly FrameMeta[];
  readonly pcm: Buffer;
}

export async function loadSplit(dir: string, split: Split): Promise<SplitData> {
  const [lines, pcm] = await Promise.all([readFile(join(dir, `${split}.jsonl`), 'utf8'), readFile(join(dir, `${split}.pcm`))]);
  const frames = lines
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l, i) => {
      const meta = JSON.parse(l) as FrameMeta;
      if (meta.offsetBytes + meta.samples * 2 > pcm.length) throw new Error(`${split}.jsonl line ${i + 1}: frame ${meta.id} runs past the end of ${split}.pcm`);
      return meta;
    });
  return { split, frames, pcm };
}

/** The frame's PCM, copied out aligned. */
export function framePcm(data: SplitData, meta: FrameMeta): Int16Array {
  const out = new Int16Array(meta.samples);
  new Uint8Array(out.buffer).set(data.pcm.subarray(meta.offsetBytes, meta.offsetBytes + meta.samples * 2));
  return out;
}

/** A sensor-night: the unit noise loggers judge and false alerts are counted in. */
export const nightKey = (m: Pick<FrameMeta, 'sensorId' | 'night'>) => `${m.sensorId}#${m.night}`;
