import { encodeAcousticFrame } from '@suido/ingest';
import { tokyoDay } from '../clock/tokyo-time.ts';
import { uniform } from '../random/distributions.ts';
import { createRng } from '../random/prng.ts';
import type { Scenario } from '../scenario/scenario.ts';
import type { MainSpec } from '../scenario/mains.ts';
import { resolveTime } from '../scenario/leaks.ts';
import { sensorProfile, type SensorProfile } from '../sensors/acoustic-sensor.ts';
import { drawAcousticSite } from '../sensors/acoustic-site.ts';
import { drawLeak, type LeakSource } from '../sensors/leak/leak-noise.ts';
import { PAIR_SPACING_M, renderPairFrame, type SensorPair } from '../sensors/sensor-pair.ts';
import { sensorNight } from '../sensors/sensor-device.ts';
import type { LatLon } from './geography.ts';

/**
 * A scenario's pair of sensors on one main, as the fleet runs it: the first
 * sensor is drawn as it would be alone; the second listens to the first's
 * pipe at the first's rate and records on the first's clock (in step: a
 * correlator needs both recordings of one instant), stands `spacingM` further
 * along the main, and keeps its own device and surroundings.
 */
export interface FleetPair {
  readonly main: MainSpec;
  readonly a: SensorProfile;
  readonly b: SensorProfile;
  readonly pair: SensorPair;
  /** Where a sits along the main, m from the main's start (the registry's chainage); b is `pair.spacingM` further. */
  readonly chainageAM: number;
}

const M_PER_DEG_LAT = 111_320;

/** A point `metres` from `from` on a bearing (radians from north), rounded to ~1 m as devices are placed. */
function along(from: LatLon, metres: number, bearing: number): LatLon {
  const round = (x: number) => Math.round(x * 1e5) / 1e5;
  return {
    lat: round(from.lat + (metres * Math.cos(bearing)) / M_PER_DEG_LAT),
    lon: round(from.lon + (metres * Math.sin(bearing)) / (M_PER_DEG_LAT * Math.cos((from.lat * Math.PI) / 180))),
  };
}

const indexOf = (id: string) => Number(id.slice(2)) - 1;

export function fleetPairs(scenario: Scenario): FleetPair[] {
  const { seed, fleet, sensorEnvironments } = scenario;
  return scenario.mains.map((main) => {
    const [idA, idB] = main.sensors;
    const a = sensorProfile(seed, indexOf(idA), fleet, sensorEnvironments[idA]);
    const drawnB = sensorProfile(seed, indexOf(idB), fleet, sensorEnvironments[idB]);
    const siteB = { ...drawAcousticSite(createRng(seed, idB, 'acoustic-site'), { material: a.pipeMaterial, environment: sensorEnvironments[idB], sampleRateHz: a.site.hardware.sampleRateHz }), pipe: a.site.pipe };
    const [lo, hi] = a.pipeMaterial === 'pvc' || a.pipeMaterial === 'pe' ? PAIR_SPACING_M.plastic : PAIR_SPACING_M.metal;
    const spacingM = main.spacingM ?? Math.round(uniform(createRng(seed, main.id, 'spacing'), lo, hi));
    const b: SensorProfile = {
      ...drawnB,
      pipeMaterial: a.pipeMaterial,
      gainDb: siteB.hardware.gainDb,
      slotOffsetMs: a.slotOffsetMs,
      location: along(a.location, spacingM, uniform(createRng(seed, main.id, 'bearing'), 0, 2 * Math.PI)),
      site: siteB,
    };
    return {
      main,
      a,
      b,
      pair: { a: a.site, b: siteB, spacingM, sideSeed: createRng(seed, main.id, 'sides').uint32() },
      // Far enough from the main's start that a valve or pump beyond the first sensor has a chainage too.
      chainageAM: Math.round(uniform(createRng(seed, main.id, 'chainage'), 200, 2000) * 10) / 10,
    };
  });
}

/** A leak on the pair's main: heard from `fromMs` until the repair, `positionM` along the main from sensor a. */
interface PairActiveLeak {
  readonly fromMs: number;
  readonly untilMs: number;
  readonly source: LeakSource;
  readonly positionM: number;
}

export interface PairRecorderOptions {
  readonly seed: number;
  readonly sampleCount: number;
  readonly scenario: Scenario;
  readonly clockStartMs: number;
  /** As sensorDevice's: the Tokyo day the sound is drawn from, and its midnight. */
  readonly originDay: number;
  readonly originMs: number;
}

/**
 * Records a pair's frames together: the first of the two sensors to fire at
 * an instant renders both (renderPairFrame: one leak sound, each sensor's
 * distance and delay), the other takes its own from the last rendering. The
 * scenario's leaks on either sensor are on the pair's main, `distanceM` from
 * that sensor towards the other; each keeps the sound it would have alone.
 */
export class PairRecorder {
  private readonly leaks: PairActiveLeak[] = [];
  private last: { startMs: number; a: Buffer; b: Buffer } | undefined;

  private readonly fp: FleetPair;
  private readonly opts: PairRecorderOptions;

  constructor(fp: FleetPair, opts: PairRecorderOptions) {
    this.fp = fp;
    this.opts = opts;
    const { scenario, clockStartMs } = opts;
    scenario.leaks.forEach((spec, index) => {
      const side = spec.sensor === fp.a.id ? 'a' : spec.sensor === fp.b.id ? 'b' : undefined;
      if (!side) return;
      const source = drawLeak(fp.a.pipeMaterial, createRng(scenario.seed, spec.sensor, 'leak', index), { sizeLps: spec.sizeLps, distanceM: spec.distanceM });
      this.leaks.push({
        fromMs: resolveTime(spec.start, clockStartMs),
        untilMs: spec.end ? resolveTime(spec.end, clockStartMs) : Infinity,
        source,
        positionM: side === 'a' ? source.distanceM : fp.pair.spacingM - source.distanceM,
      });
    });
  }

  /** Leaks on the main, where along it from sensor a: what the registry's pair should place. */
  leakPositionsM(): number[] {
    return this.leaks.map((l) => l.positionM);
  }

  frame(side: 'a' | 'b', startMs: number): Buffer {
    if (this.last?.startMs !== startMs) {
      const { seed, sampleCount, originDay, originMs } = this.opts;
      const day = tokyoDay(startMs) - originDay;
      const nights = { a: sensorNight(seed, this.fp.a.id, day), b: sensorNight(seed, this.fp.b.id, day) };
      const leaks = this.leaks.filter((l) => l.fromMs <= startMs && startMs < l.untilMs).map((l) => ({ leak: l.source, positionM: l.positionM }));
      const frame = renderPairFrame(this.fp.pair, { startMs, sampleCount, nights, leaks }, createRng(seed, this.fp.main.id, 'frame', startMs - originMs));
      const encode = (f: typeof frame.a) => encodeAcousticFrame({ startMs: f.startMs, sampleRateHz: f.sampleRateHz, gainDb: f.gainDb, samples: f.samples });
      this.last = { startMs, a: encode(frame.a), b: encode(frame.b) };
    }
    return this.last[side];
  }
}
