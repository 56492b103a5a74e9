import { HOUR_MS, tokyoMidnight } from '../clock/tokyo-time.ts';
import { chance, uniform } from '../random/distributions.ts';
import { createRng } from '../random/prng.ts';
import type { Confounder, Environment } from '../sensors/environment.ts';
import { drawNightConditions } from '../sensors/night-conditions.ts';
import type { SensorType } from '../sensors/sensor-hardware.ts';
import { renderSensorFrame, type SensorFrame } from '../sensors/sensor-frame.ts';
import { mainSources, renderPairFrame } from '../sensors/sensor-pair.ts';
import type { PipeMaterial } from '@suido/ingest';
import type { DatasetSensor } from './dataset-population.ts';

/** One line of `{split}.jsonl`: where a frame's PCM is and everything known about it. */
export interface FrameRecord {
  /** `S-0001/n0/f3`: sensor, night, frame. */
  readonly id: string;
  readonly sensorId: string;
  /** 0 … nights-1; a daytime frame belongs to the day after its night (same date). */
  readonly night: number;
  /** Index within the night, in time order: night frames first, then daytime frames. */
  readonly frame: number;
  readonly startMs: number;
  readonly sampleRateHz: number;
  readonly samples: number;
  /** Where the frame starts in `{split}.pcm`, bytes. */
  readonly offsetBytes: number;
  readonly gainDb: number;
  readonly material: PipeMaterial;
  readonly sensorType: SensorType;
  readonly environment: Environment;
  readonly daytime: boolean;
  readonly leak: boolean;
  /** The leak's band SNR in this frame ≥ 0 dB; null without a leak. */
  readonly audible: boolean | null;
  /** The sensor's quiet-night SNR ≥ 0 dB (same for all its frames); null without a leak. */
  readonly sensorAudible: boolean | null;
  readonly leakSizeLps: number | null;
  readonly distanceM: number | null;
  /** When the sensor's leak begins, where that is inside its recorded nights (absent otherwise); frames before it have no leak. */
  readonly leakStartMs?: number;
  readonly snrDb: number | null;
  readonly sensorSnrDb: number | null;
  readonly confounders: readonly Confounder[];
  readonly clipped: boolean;
  /**
   * Only in a data set of correlator pairs (`--pairs`): the pair, the other
   * sensor, where this one is along the main (the first at 0), the spacing,
   * and where the leak is (null without one). The pair's frames start at
   * the same instants: what a correlator cross-correlates.
   */
  readonly pair?: {
    readonly id: string;
    readonly partnerId: string;
    readonly positionM: number;
    readonly spacingM: number;
    readonly leakPositionM: number | null;
    /** The main's PRV and pump, where the registry maps them (along the main from the first sensor; negative: beyond it). */
    readonly sources: readonly { readonly kind: 'prv' | 'pump'; readonly positionM: number }[];
  };
}

export interface FrameSchedule {
  readonly nights: number;
  readonly framesPerNight: number;
  readonly frameSeconds: number;
  /** Share of all frames recorded by day (07:00–22:00). */
  readonly dayShare: number;
}

/** Loggers record 02:00–04:00 (DOMAIN.md); daytime frames come from 07:00–22:00. */
const NIGHT_START_MS = 2 * HOUR_MS;
const NIGHT_MS = 2 * HOUR_MS;
const DAY_START_MS = 7 * HOUR_MS;
const DAY_MS = 15 * HOUR_MS;

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Frame start times of one night (and the following day), in order, with whether each is by day. */
export function frameTimes(seed: number, sensor: DatasetSensor, night: number, schedule: FrameSchedule): { startMs: number; daytime: boolean }[] {
  const rng = createRng(seed, 'dataset', sensor.id, 'times', night);
  const midnight = tokyoMidnight(sensor.firstDay + night);
  const frameMs = schedule.frameSeconds * 1000;
  const slotMs = NIGHT_MS / schedule.framesPerNight;
  const out: { startMs: number; daytime: boolean }[] = [];
  for (let j = 0; j < schedule.framesPerNight; j++) {
    out.push({ startMs: Math.round(midnight + NIGHT_START_MS + j * slotMs + uniform(rng, 0, Math.max(0, slotMs - frameMs))), daytime: false });
  }
  // Day frames per night: the expected count for the share, rounded at random so the share holds on average.
  const expected = schedule.dayShare >= 1 ? 0 : (schedule.framesPerNight * schedule.dayShare) / (1 - schedule.dayShare);
  const count = Math.floor(expected) + (chance(rng, expected - Math.floor(expected)) ? 1 : 0);
  const day = Array.from({ length: count }, () => Math.round(midnight + DAY_START_MS + uniform(rng, 0, DAY_MS - frameMs))).sort((a, b) => a - b);
  for (const startMs of day) out.push({ startMs, daytime: true });
  return out;
}

/** Every frame of one sensor, rendered, in time order (`offsetBytes` is 0: the writer sets it). */
export function* sensorFrames(seed: number, sensor: DatasetSensor, schedule: FrameSchedule): Generator<{ record: FrameRecord; pcm: Int16Array }> {
  const { site, leak } = sensor;
  const sampleCount = Math.round(site.hardware.sampleRateHz * schedule.frameSeconds);
  for (let night = 0; night < schedule.nights; night++) {
    // Weather, flow and pumps change from night to night; the leak does not, once it has begun.
    const conditions = drawNightConditions(createRng(seed, 'dataset', sensor.id, 'night', night));
    const times = frameTimes(seed, sensor, night, schedule);
    for (let frame = 0; frame < times.length; frame++) {
      const { startMs } = times[frame]!;
      const leaking = leak !== null && (sensor.leakStartMs === null || startMs >= sensor.leakStartMs);
      const rendered = renderSensorFrame(site, { startMs, sampleCount, night: conditions, leaks: leaking ? [leak] : [] }, createRng(seed, 'dataset', sensor.id, 'frame', night, frame));
      yield { pcm: rendered.samples, record: frameRecord(sensor, night, frame, startMs, rendered, leaking) };
    }
  }
}

/**
 * Every frame of a correlator's pair (drawPairPopulation), rendered at both
 * sensors at the same instants (the first sensor's schedule), in time
 * order, each instant's frame of sensor a before sensor b's.
 */
export function* pairFrames(seed: number, a: DatasetSensor, b: DatasetSensor, schedule: FrameSchedule): Generator<{ record: FrameRecord; pcm: Int16Array }> {
  const pair = a.pair;
  if (!pair || pair.role !== 'a' || b.pair?.id !== pair.id) throw new RangeError(`${a.id} and ${b.id} are not one pair, first and second`);
  const sampleCount = Math.round(a.site.hardware.sampleRateHz * schedule.frameSeconds);
  const leaks = a.leak && pair.leakPositionM !== null ? [{ leak: a.leak, positionM: pair.leakPositionM }] : [];
  for (let night = 0; night < schedule.nights; night++) {
    const nights = { a: drawNightConditions(createRng(seed, 'dataset', a.id, 'night', night)), b: drawNightConditions(createRng(seed, 'dataset', b.id, 'night', night)) };
    const times = frameTimes(seed, a, night, schedule);
    for (let frame = 0; frame < times.length; frame++) {
      const { startMs } = times[frame]!;
      const rendered = renderPairFrame(pair.sensors, { startMs, sampleCount, nights, leaks }, createRng(seed, 'dataset', a.id, 'frame', night, frame));
      yield { pcm: rendered.a.samples, record: frameRecord(a, night, frame, startMs, rendered.a, leaks.length > 0) };
      yield { pcm: rendered.b.samples, record: frameRecord(b, night, frame, startMs, rendered.b, leaks.length > 0) };
    }
  }
}

function frameRecord(sensor: DatasetSensor, night: number, frame: number, startMs: number, rendered: SensorFrame, leaking: boolean): FrameRecord {
  const { site, leak, pair } = sensor;
  return {
    id: `${sensor.id}/n${night}/f${frame}`,
    sensorId: sensor.id,
    night,
    frame,
    startMs,
    sampleRateHz: rendered.sampleRateHz,
    samples: rendered.samples.length,
    offsetBytes: 0,
    gainDb: rendered.gainDb,
    material: site.material,
    sensorType: site.hardware.type,
    environment: site.environment,
    daytime: rendered.daytime,
    leak: leaking,
    audible: rendered.audible,
    sensorAudible: sensor.sensorAudible,
    leakSizeLps: leaking && leak ? round(leak.sizeLps, 4) : null,
    distanceM: leaking && leak ? round(leak.distanceM, 1) : null,
    ...(sensor.leakStartMs !== null && { leakStartMs: sensor.leakStartMs }),
    snrDb: rendered.snrDb,
    sensorSnrDb: sensor.sensorSnrDb,
    confounders: rendered.confounders,
    clipped: rendered.clipped,
    ...(pair && {
      pair: {
        id: pair.id,
        partnerId: pair.partnerId,
        positionM: pair.role === 'a' ? 0 : round(pair.spacingM, 1),
        spacingM: round(pair.spacingM, 1),
        leakPositionM: pair.leakPositionM === null ? null : round(pair.leakPositionM, 1),
        sources: mainSources(pair.sensors).map((m) => ({ kind: m.kind, positionM: round(m.positionM, 1) })),
      },
    }),
  };
}
