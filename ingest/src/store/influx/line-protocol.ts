import type { MeterRead } from '../../contracts/index.ts';
import { StoreInputError, type FrameToStore, type LeakScore } from '../store.ts';
import { checkBandLevels } from '../store-rows.ts';

/**
 * Line protocol for Suido's series (README: Storage, InfluxDB schema).
 * Timestamps are integer milliseconds and every write says precision=ms:
 * a ms value read as ns lands in January 1970, the classic MQTT→Influx bug.
 */
export const MEASUREMENTS = {
  reads: 'meter_reads',
  frames: 'frame_levels',
  scores: 'leak_scores',
  /** Self-monitoring: one point per committed ingest batch (README: Storage, InfluxDB schema). */
  batches: 'ingest_batches',
  /** Self-monitoring: rejected messages per batch and reason code. */
  rejections: 'ingest_rejections',
} as const;

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

/**
 * meter_reads[,district=<d>],meter=<id> register=<L>i,received_ms=<ms>i[,flags="a,b"] <ts ms>
 *
 * The district is the registry's at the time the read is stored (absent for a
 * meter without one). A meter has one district, so it stays one series; a
 * meter moved to another district starts a second series from then on, and
 * queries by meter merge the two.
 */
export function readLine(r: MeterRead, receivedAtMs: number, district?: string | null, opts: { readonly overwrite?: boolean } = {}): string {
  const what = `read of ${r.meterId}`;
  // A point written again merges field by field: an overwrite must clear the flags it does not carry.
  const flags = r.flags.length > 0 || opts.overwrite ? `,flags=${escapeString(r.flags.join(','))}` : '';
  // Tags in key order (district < meter): InfluxDB sorts them anyway, and sorted lines are cheaper to parse.
  const districtTag = district ? `,district=${escapeKey(district)}` : '';
  return `${MEASUREMENTS.reads}${districtTag},meter=${escapeKey(r.meterId)} register=${int(r.registerL, what)},received_ms=${int(receivedAtMs, what)}${flags} ${time(r.ts, what)}`;
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
  checkBandLevels(s);
  const levels = (s.bandLevelsDb ?? []).map((db, b) => `,${bandLevelField(b)}=${float(db, what)}`).join('');
  return `${MEASUREMENTS.scores},model=${escapeKey(s.modelVersion)},sensor=${escapeKey(s.sensorId)} score=${float(s.score, what)},window_end_ms=${int(s.windowEndMs, what)}${levels} ${time(s.windowStartMs, what)}`;
}

/** A score's band level b as a field of leak_scores: band_00_db, band_01_db, ... (dashboards plot a sensor's noise per band). */
export function bandLevelField(b: number): string {
  return `band_${String(b).padStart(2, '0')}_db`;
}

/** The band levels of a leak_scores row read back, in band order; undefined if it has none. */
export function bandLevelsOf(row: Readonly<Record<string, unknown>>): number[] | undefined {
  const levels: number[] = [];
  for (let b = 0; typeof row[bandLevelField(b)] === 'number'; b++) levels.push(row[bandLevelField(b)] as number);
  return levels.length > 0 ? levels : undefined;
}

/** What one committed ingest batch did, for the self-monitoring series. */
export interface BatchFigures {
  readonly reads: number;
  readonly readsStored: number;
  readonly readsDuplicate: number;
  readonly readsConflict: number;
  readonly frames: number;
  readonly framesStored: number;
  readonly framesDuplicate: number;
  readonly statuses: number;
  readonly deadLetters: number;
  /** Over the stored reads: arrival minus the read's own instant, summed and the largest. */
  readonly readLagSumMs: number;
  readonly readLagMaxMs: number;
  /** Over the stored frames: arrival minus the frame's start. */
  readonly frameLagSumMs: number;
  readonly frameLagMaxMs: number;
  /** From the start of the store's commit to the ledger's commit (InfluxDB write included). */
  readonly commitMs: number;
}

/**
 * ingest_batches reads=…i,reads_stored=…i,… <t ms>: one point per commit, no
 * tags (one series). Lag is a field because InfluxQL cannot subtract a
 * field from `time`; a panel divides the sums by reads_stored for the mean.
 */
export function batchLine(f: BatchFigures, atMs: number): string {
  const what = 'ingest batch';
  const fields: [string, number][] = [
    ['reads', f.reads],
    ['reads_stored', f.readsStored],
    ['reads_duplicate', f.readsDuplicate],
    ['reads_conflict', f.readsConflict],
    ['frames', f.frames],
    ['frames_stored', f.framesStored],
    ['frames_duplicate', f.framesDuplicate],
    ['statuses', f.statuses],
    ['dead_letters', f.deadLetters],
    ['read_lag_sum_ms', f.readLagSumMs],
    ['read_lag_max_ms', f.readLagMaxMs],
    ['frame_lag_sum_ms', f.frameLagSumMs],
    ['frame_lag_max_ms', f.frameLagMaxMs],
    ['commit_ms', f.commitMs],
  ];
  return `${MEASUREMENTS.batches} ${fields.map(([k, v]) => `${k}=${int(v, what)}`).join(',')} ${time(atMs, what)}`;
}

/** ingest_rejections,code=<CODE> count=…i <t ms>: one point per reason code present in the batch (a bounded tag: the rejection codes). */
export function rejectionLines(countByCode: ReadonlyMap<string, number>, atMs: number): string[] {
  return [...countByCode]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([code, n]) => `${MEASUREMENTS.rejections},code=${escapeKey(code)} count=${int(n, 'rejections')} ${time(atMs, 'rejections')}`);
}
