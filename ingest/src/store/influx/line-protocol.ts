import type { MeterRead } from '../../contracts/index.ts';
import { StoreInputError, type FrameToStore, type LeakScore } from '../store.ts';

/**
 * Line protocol for Suido's series (README: Storage, InfluxDB schema).
 * Timestamps are integer milliseconds and every write says precision=ms:
 * a ms value read as ns lands in January 1970, the classic MQTT→Influx bug.
 */
export const MEASUREMENTS = { reads: 'meter_reads', frames: 'frame_levels', scores: 'leak_scores' } as const;

const escapeKey = (s: string) => s.replace(/[,= \\]/g, (c) => `\\${c}`).replace(/\n/g, '\\n');
const escapeString = (s: string) => `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`;

function time(ms: number, what: string): string {
  if (!Number.isSafeInteger(ms)) throw new StoreInputError(`${what}: time ${ms} is not integer milliseconds`);
  return String(ms);
}

/** Integers go out with the `i` suffix: a register is exact litres, never a float. */
function int(n: number, what: string): string {
  if (!Number.isSafeInteger(n)) throw new StoreInputError(`${what}: ${n} is not an integer`);
  return `${n}i`;
}

function float(n: number, what: string): string {
  if (!Number.isFinite(n)) throw new StoreInputError(`${what}: ${n} is not a finite number`);
  // A float field must stay a float: 1 would be read as the float 1 anyway (no `i`), but say it plainly.
  return Number.isInteger(n) ? `${n}.0` : String(n);
}

/** meter_reads,meter=<id> register=<L>i,received_ms=<ms>i[,flags="a,b"] <ts ms> */
export function readLine(r: MeterRead, receivedAtMs: number): string {
  const what = `read of ${r.meterId}`;
  const flags = r.flags.length > 0 ? `,flags=${escapeString(r.flags.join(','))}` : '';
  return `${MEASUREMENTS.reads},meter=${escapeKey(r.meterId)} register=${int(r.registerL, what)},received_ms=${int(receivedAtMs, what)}${flags} ${time(r.ts, what)}`;
}

/** frame_levels,sensor=<id> rms_dbfs=…,clipped_ratio=…,gain_db=…,sample_rate_hz=…i,sample_count=…i,received_ms=…i <start ms> */
export function frameLine(f: FrameToStore, receivedAtMs: number): string {
  const what = `frame of ${f.sensorId}`;
  return (
    `${MEASUREMENTS.frames},sensor=${escapeKey(f.sensorId)} rms_dbfs=${float(f.summary.rmsDbfs, what)},clipped_ratio=${float(f.summary.clippedRatio, what)},` +
    `gain_db=${float(f.gainDb, what)},sample_rate_hz=${int(f.sampleRateHz, what)},sample_count=${int(f.samples.length, what)},received_ms=${int(receivedAtMs, what)} ${time(f.startMs, what)}`
  );
}

/** leak_scores,sensor=<id>,model=<version> score=…,window_end_ms=…i <window start ms> */
export function scoreLine(s: LeakScore): string {
  const what = `score of ${s.sensorId}`;
  if (s.modelVersion.length === 0) throw new StoreInputError(`${what} names no model version`);
  if (!Number.isSafeInteger(s.windowEndMs) || s.windowEndMs < s.windowStartMs) throw new StoreInputError(`${what}: window must be integer milliseconds with start <= end`);
  return `${MEASUREMENTS.scores},model=${escapeKey(s.modelVersion)},sensor=${escapeKey(s.sensorId)} score=${float(s.score, what)},window_end_ms=${int(s.windowEndMs, what)} ${time(s.windowStartMs, what)}`;
}
