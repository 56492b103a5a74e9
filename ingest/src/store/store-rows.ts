import { METER_FLAGS, type DeviceKind, type DeviceStatus, type MeterFlag } from '../contracts/index.ts';
import { MAX_BAND_LEVELS, StoreInputError, type DeviceRecord, type LeakScore, type PipeMaterial, type SensorSite, type ReadBracket, type StoredFrame, type StoredRead, type StoredReplacement } from './store.ts';

/**
 * What the SQL stores (SQLite and PostgreSQL) share below their SQL: the
 * flag bit set, the row shapes both schemas give back for reads, frames and
 * scores, and the checks on what callers hand in. One definition, so the two
 * stores cannot drift apart on a bit or a bound.
 */

/** Flags are stored as a bit set, in the order of METER_FLAGS (append-only). */
export function flagsToBits(flags: readonly MeterFlag[]): number {
  let bits = 0;
  for (const f of flags) bits |= 1 << METER_FLAGS.indexOf(f);
  return bits;
}

export function bitsToFlags(bits: number): MeterFlag[] {
  return bits === 0 ? [] : METER_FLAGS.filter((_, i) => (bits & (1 << i)) !== 0);
}

export interface ReadRow {
  ts: number;
  register_l: number;
  flags: number;
  received_at: number;
}

export interface FrameRow {
  start_ms: number;
  sample_rate_hz: number;
  gain_db: number;
  sample_count: number;
  rms_dbfs: number;
  clipped_ratio: number;
  received_at: number;
  pcm: Buffer | null;
}

export interface ScoreRow {
  window_start: number;
  window_end: number;
  score: number;
  model_version: string;
  band_levels_db?: Uint8Array | null;
}

export function toRead(meterId: string, r: ReadRow): StoredRead {
  return { meterId, ts: r.ts, registerL: r.register_l, flags: bitsToFlags(r.flags), receivedAtMs: r.received_at };
}

export function toFrame(sensorId: string, r: FrameRow): StoredFrame {
  return {
    sensorId,
    startMs: r.start_ms,
    sampleRateHz: r.sample_rate_hz,
    gainDb: r.gain_db,
    sampleCount: r.sample_count,
    summary: { rmsDbfs: r.rms_dbfs, clippedRatio: r.clipped_ratio },
    receivedAtMs: r.received_at,
    samples: r.pcm ? new Int16Array(r.pcm.buffer.slice(r.pcm.byteOffset, r.pcm.byteOffset + r.pcm.byteLength)) : null,
  };
}

export function toScore(sensorId: string, r: ScoreRow): LeakScore {
  const score = { sensorId, windowStartMs: r.window_start, windowEndMs: r.window_end, score: r.score, modelVersion: r.model_version };
  return r.band_levels_db ? { ...score, bandLevelsDb: bandLevelsFromBytes(r.band_levels_db) } : score;
}

/** Band levels as stored: float32, little-endian (a level to 0.001 dB is finer than any sensor's calibration). */
export function bandLevelsToBytes(levels: readonly number[] | undefined): Buffer | null {
  if (!levels) return null;
  const bytes = Buffer.alloc(levels.length * 4);
  levels.forEach((v, i) => bytes.writeFloatLE(v, i * 4));
  return bytes;
}

export function bandLevelsFromBytes(bytes: Uint8Array): number[] {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: buf.length / 4 }, (_, i) => buf.readFloatLE(i * 4));
}

export function checkCursor(cursor: number, limit: number): void {
  if (!Number.isSafeInteger(cursor) || cursor < 0) throw new StoreInputError(`cursor ${cursor} is not a non-negative integer`);
  if (!Number.isSafeInteger(limit) || limit < 1) throw new StoreInputError(`limit ${limit} is not a positive integer`);
}

export function checkScore(s: LeakScore): void {
  if (!Number.isFinite(s.score)) throw new StoreInputError(`score of ${s.sensorId} at ${s.windowStartMs} is not a number`);
  if (!Number.isSafeInteger(s.windowStartMs) || !Number.isSafeInteger(s.windowEndMs) || s.windowEndMs < s.windowStartMs) {
    throw new StoreInputError(`window of ${s.sensorId} must be integer milliseconds with start <= end`);
  }
  if (s.modelVersion.length === 0) throw new StoreInputError(`score of ${s.sensorId} names no model version`);
  checkBandLevels(s);
}

export function checkBandLevels(s: LeakScore): void {
  const levels = s.bandLevelsDb;
  if (levels !== undefined && (!Array.isArray(levels) || levels.length === 0 || levels.length > MAX_BAND_LEVELS || !levels.every(Number.isFinite))) {
    throw new StoreInputError(`band levels of ${s.sensorId} at ${s.windowStartMs} must be 1 to ${MAX_BAND_LEVELS} finite numbers`);
  }
}

/** Billing's brackets: the read at or before an instant (b_) and at or after it (a_), one row per query. */
export interface BracketRow {
  i: number;
  b_ts: number | null;
  b_reg: number | null;
  b_flags: number | null;
  b_recv: number | null;
  a_ts: number | null;
  a_reg: number | null;
  a_flags: number | null;
  a_recv: number | null;
}

export function toBracket(meterId: string, r: BracketRow): ReadBracket {
  const before = r.b_ts === null ? undefined : { meterId, ts: r.b_ts, registerL: r.b_reg!, flags: bitsToFlags(r.b_flags!), receivedAtMs: r.b_recv! };
  // Most answers are a read at the instant: one object for both sides.
  const after = r.a_ts === null ? undefined : r.a_ts === r.b_ts ? before : { meterId, ts: r.a_ts, registerL: r.a_reg!, flags: bitsToFlags(r.a_flags!), receivedAtMs: r.a_recv! };
  return { before, after };
}

export interface ReplacementRow {
  seq: number;
  at: number;
  old_final_l: number;
  new_initial_l: number;
  note: string | null;
  recorded_at: number;
  recorded_by: string | null;
}

export function toReplacement(meterId: string, r: ReplacementRow): StoredReplacement {
  return { meterId, seq: r.seq, atMs: r.at, oldFinalL: r.old_final_l, newInitialL: r.new_initial_l, note: r.note, recordedAtMs: r.recorded_at, recordedBy: r.recorded_by };
}

export function checkAsOf(asOf: number | undefined): void {
  if (asOf !== undefined && (!Number.isSafeInteger(asOf) || asOf < 0)) throw new StoreInputError(`asOf ${asOf} is not a non-negative integer`);
}

/** The registry columns of a device, the same in both schemas. */
export interface DeviceColumns {
  id: string;
  kind: DeviceKind;
  district: string | null;
  lat: number | null;
  lon: number | null;
  pipe_material: PipeMaterial | null;
  site: SensorSite | null;
  pipe_id: string | null;
  chainage_m: number | null;
  source_chainage_m: number | null;
  gateway_id: string | null;
  register_max_l: number | null;
  first_seen: number | null;
  last_seen: number | null;
}

/**
 * A device's last status as each schema keeps it (a JSON column in SQLite,
 * columns of a joined table in PostgreSQL), unpacked by the store.
 */
export interface StatusFields {
  ts: number;
  batteryPct: number | null;
  firmware: string | null;
  rssiDbm: number | null;
  uptimeS: number | null;
}

export function toDevice(r: DeviceColumns, status: StatusFields | null): DeviceRecord {
  const lastStatus: DeviceStatus | null =
    status === null
      ? null
      : {
          deviceId: r.id,
          deviceKind: r.kind,
          ts: status.ts,
          ...(status.batteryPct !== null && { batteryPct: status.batteryPct }),
          ...(status.firmware !== null && { firmware: status.firmware }),
          ...(status.rssiDbm !== null && { rssiDbm: status.rssiDbm }),
          ...(status.uptimeS !== null && { uptimeS: status.uptimeS }),
        };
  return {
    id: r.id,
    kind: r.kind,
    district: r.district,
    lat: r.lat,
    lon: r.lon,
    pipeMaterial: r.pipe_material,
    site: r.site,
    pipeId: r.pipe_id,
    chainageM: r.chainage_m,
    sourceChainageM: r.source_chainage_m,
    gatewayId: r.gateway_id,
    registerMaxL: r.register_max_l,
    firstSeenMs: r.first_seen,
    lastSeenMs: r.last_seen,
    lastStatus,
  };
}
