import { HOUR_MS, tokyoDay, tokyoMidnight } from '../clock/tokyo-time.ts';
import { chance, intBetween, shuffle, uniform } from '../random/distributions.ts';
import { createRng, type Rng } from '../random/prng.ts';
import { sensorId } from '../sensors/acoustic-sensor.ts';
import { drawAcousticSite, type AcousticSite, type SiteOptions } from '../sensors/acoustic-site.ts';
import { drawLeak, type LeakSource } from '../sensors/leak/leak-noise.ts';
import { AUDIBLE_SNR_DB, quietNightSnrDb } from '../sensors/sensor-frame.ts';
import { drawSensorPair, type SensorPair } from '../sensors/sensor-pair.ts';

export const SPLITS = ['train', 'val', 'test'] as const;
export type Split = (typeof SPLITS)[number];

/** Shares of sensors per split: whole sensors, never frames, so no sensor is heard in two splits. */
export const SPLIT_SHARES: Readonly<Record<Split, number>> = { train: 0.7, val: 0.15, test: 0.15 };

export interface DatasetSensor {
  readonly index: number;
  readonly id: string;
  readonly split: Split;
  readonly site: AcousticSite;
  /** The leak on its pipe (leaks persist once they start); null for a sensor without one. */
  readonly leak: LeakSource | null;
  /**
   * When the leak begins, ms; null: before the sensor's first night (it has
   * been there all along). An onset inside the recorded nights gives a
   * sensor's history both before and after, as a leak that breaks out
   * under a logger does.
   */
  readonly leakStartMs: number | null;
  /** Quiet-night SNR of its leak, dB (null without one): the sensor-level audibility. */
  readonly sensorSnrDb: number | null;
  readonly sensorAudible: boolean | null;
  /** Tokyo day of its first night: sensors are spread over a year (seasons, weekdays). */
  readonly firstDay: number;
  /** Where the sensor is one of a correlator's pair (drawPairPopulation): the pair, and where each is along the main. */
  readonly pair?: DatasetPairMember | undefined;
}

export interface DatasetPairMember {
  /** The pair's own id: its first sensor's id with a `P` for the `S`. */
  readonly id: string;
  readonly role: 'a' | 'b';
  /** The other sensor of the pair. */
  readonly partnerId: string;
  /** Along the main from sensor a to sensor b, m. */
  readonly spacingM: number;
  /** The leak along the main from sensor a, m (between the two); null without one. */
  readonly leakPositionM: number | null;
  /** The pair as the renderer takes it (both sites, the spacing). */
  readonly sensors: SensorPair;
}

/** First nights fall within the year from this date. */
const FIRST_DAY = tokyoDay(Date.parse('2025-04-01T12:00:00+09:00'));

/**
 * What a population holds fixed instead of drawing (unset: drawn): one
 * condition to measure a model under, as a field trial is one condition —
 * hydrophones on PVC beside a pump, leaks a few metres from the sensor. A
 * fixed part leaves every other draw of the seed as it was (each has its
 * own stream), so the same seed with and without a condition differs in
 * that condition only.
 */
export interface PopulationConditions extends SiteOptions {
  /** Leaks lie uniformly between these distances from the sensor, metres (drawn: up to about one sensor spacing). */
  readonly leakDistanceM?: readonly [number, number] | undefined;
}

/**
 * Draws a sensor population. Whether a sensor's pipe leaks is drawn apart
 * from everything else about it (material, environment, device, sample
 * rate, gain), so nothing but the sound can tell a leak.
 */
export function drawPopulation(seed: number, count: number, leakShare: number, onsets: LeakOnsets = NO_ONSETS, conditions: PopulationConditions = {}): DatasetSensor[] {
  const { leakDistanceM, ...siteOptions } = conditions;
  const drafts = Array.from({ length: count }, (_, index) => {
    const id = sensorId(index);
    const site = drawAcousticSite(createRng(seed, 'dataset', id, 'site'), siteOptions);
    const leakRng = createRng(seed, 'dataset', id, 'leak');
    const leaks = chance(leakRng, leakShare);
    // Its own stream: without a distance condition, every other draw is what it was.
    const distanceM = leakDistanceM && uniform(createRng(seed, 'dataset', id, 'leak-distance'), leakDistanceM[0], leakDistanceM[1]);
    const leak = leaks ? drawLeak(site.material, leakRng, { distanceM }) : null;
    const sensorSnrDb = leak ? quietNightSnrDb(site, [leak]) : null;
    const firstDay = FIRST_DAY + intBetween(createRng(seed, 'dataset', id, 'dates'), 0, 364);
    // Its own stream: with no onsets drawn, every other draw is what it was.
    const leakStartMs = leak ? drawLeakStart(createRng(seed, 'dataset', id, 'onset'), firstDay, onsets) : null;
    return { index, id, site, leak, leakStartMs, sensorSnrDb, sensorAudible: sensorSnrDb === null ? null : sensorSnrDb >= AUDIBLE_SNR_DB, firstDay };
  });
  const splits = assignSplits(
    seed,
    drafts.map((d) => d.leak !== null),
  );
  return drafts.map((d, i) => ({ ...d, split: splits[i]! }));
}

/**
 * Draws a population of correlator pairs (sensor-pair.ts): `pairs` pairs,
 * 2 × pairs sensors numbered in order (a pair's sensors are S-0001 and
 * S-0002, S-0003 and S-0004, ...). Whether a pair's main leaks is drawn
 * apart from everything else; a leak lies uniformly between the two
 * sensors, the leak itself (flow, pressure, spectrum) one source both hear,
 * each at its own distance. Splits are by pair, so both sensors of a pair
 * are in one split. Leak onsets and a fixed leak distance are not drawn
 * for pairs.
 */
export function drawPairPopulation(seed: number, pairs: number, leakShare: number, conditions: SiteOptions = {}): DatasetSensor[] {
  const drafts = Array.from({ length: pairs }, (_, index) => {
    const [idA, idB] = [sensorId(2 * index), sensorId(2 * index + 1)];
    const sensors = drawSensorPair(createRng(seed, 'dataset', idA, 'pair'), conditions);
    const leakRng = createRng(seed, 'dataset', idA, 'leak');
    const leaks = chance(leakRng, leakShare);
    const leak = leaks ? drawLeak(sensors.a.material, leakRng, { distanceM: 0 }) : null;
    const leakPositionM = leak ? uniform(createRng(seed, 'dataset', idA, 'leak-position'), 0, sensors.spacingM) : null;
    const firstDay = FIRST_DAY + intBetween(createRng(seed, 'dataset', idA, 'dates'), 0, 364);
    const member = (role: 'a' | 'b', index: number): Omit<DatasetSensor, 'split'> => {
      const site = role === 'a' ? sensors.a : sensors.b;
      const distanceM = leakPositionM === null ? 0 : role === 'a' ? leakPositionM : sensors.spacingM - leakPositionM;
      const own = leak ? { ...leak, distanceM } : null;
      const sensorSnrDb = own ? quietNightSnrDb(site, [own]) : null;
      const pair: DatasetPairMember = { id: `P${idA.slice(1)}`, role, partnerId: role === 'a' ? idB : idA, spacingM: sensors.spacingM, leakPositionM, sensors };
      return { index, id: role === 'a' ? idA : idB, site, leak: own, leakStartMs: null, sensorSnrDb, sensorAudible: sensorSnrDb === null ? null : sensorSnrDb >= AUDIBLE_SNR_DB, firstDay, pair };
    };
    return { leaks, members: [member('a', 2 * index), member('b', 2 * index + 1)] };
  });
  const splits = assignSplits(
    seed,
    drafts.map((d) => d.leaks),
  );
  return drafts.flatMap((d, i) => d.members.map((m) => ({ ...m, split: splits[i]! })));
}

/** Which leaks begin inside the recorded nights: `share` of the leak sensors, over `nights` nights. */
export interface LeakOnsets {
  readonly share: number;
  readonly nights: number;
}
export const NO_ONSETS: LeakOnsets = { share: 0, nights: 1 };

/**
 * An onset for `share` of the leaks, uniform in time from midnight before
 * the sensor's second night to the end of its last night's recording
 * (04:00), so it may fall between nights or inside one; null for the rest.
 */
function drawLeakStart(rng: Rng, firstDay: number, onsets: LeakOnsets): number | null {
  if (onsets.nights < 2 || !chance(rng, onsets.share)) return null;
  const from = tokyoMidnight(firstDay + 1);
  const to = tokyoMidnight(firstDay + onsets.nights - 1) + 4 * HOUR_MS;
  return Math.round(uniform(rng, from, to));
}

/**
 * 70/15/15 by sensor, stratified by label: leak and no-leak sensors are
 * shuffled and split apart, so every split has about the population's
 * share of leaks. Counts are rounded per group; tiny groups may leave a
 * split without sensors of that label.
 */
export function assignSplits(seed: number, leaks: readonly boolean[]): Split[] {
  const out = new Array<Split>(leaks.length);
  for (const label of [true, false]) {
    const members = leaks.flatMap((l, i) => (l === label ? [i] : []));
    shuffle(createRng(seed, 'dataset', 'split', label ? 'leak' : 'no-leak'), members);
    const val = Math.round(members.length * SPLIT_SHARES.val);
    const test = Math.round(members.length * SPLIT_SHARES.test);
    members.forEach((sensor, k) => (out[sensor] = k < val ? 'val' : k < val + test ? 'test' : 'train'));
  }
  return out;
}
