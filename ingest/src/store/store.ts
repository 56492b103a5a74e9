import type { AcousticFrame, DeviceKind, DeviceStatus, MeterFlag, MeterRead, RejectionCode } from '../contracts/index.ts';
import type { Alert, AlertChange, AlertEvent, AlertResolution, AlertState, AlertUserAction, SystemActor } from './alert-lifecycle.ts';

/**
 * The store contract: shaped by what callers need, not by a database. The
 * embedded store implements all of it; a server store may split time series
 * (InfluxDB) from mutable state (PostgreSQL) behind the same interface. Every
 * implementation passes the one contract suite in `store-contract.ts`.
 */
export interface Store {
  /** Human-readable name for logs and /readyz, e.g. "sqlite:/var/lib/suido/suido.db". */
  readonly name: string;

  /**
   * Stores one batch atomically. When the promise resolves the batch is
   * durable: the caller may then acknowledge the devices that sent it.
   * Reads and frames are idempotent on (meter, ts) and (sensor, start).
   */
  commit(batch: IngestBatch): Promise<CommitResult>;

  /** Reads of one meter with from <= ts < to, oldest first. */
  readsInRange(meterId: string, fromMs: number, toMs: number, limit: number): Promise<StoredRead[]>;
  /** The newest read of a meter, if any. */
  latestRead(meterId: string): Promise<StoredRead | undefined>;

  /** Frames of one sensor with from <= start < to, oldest first; PCM only while retained. */
  framesInRange(sensorId: string, fromMs: number, toMs: number, limit: number): Promise<StoredFrame[]>;
  /** Drops PCM older than the cut-off, keeping each frame's summary. Returns frames pruned. */
  prunePcm(olderThanMs: number): Promise<number>;

  /** Registry: devices ordered by id, after a cursor. */
  listDevices(query: DeviceQuery): Promise<DeviceRecord[]>;
  getDevice(id: string): Promise<DeviceRecord | undefined>;
  /** Registry import: creates or updates devices (location, district, pipe). */
  upsertDevices(devices: readonly DeviceRegistration[]): Promise<void>;
  /** The kind of each id the store knows; ids it does not know are absent. One round trip per few thousand ids, not per id. */
  deviceKinds(ids: readonly string[]): Promise<Map<string, DeviceKind>>;

  deadLetters(query: DeadLetterQuery): Promise<StoredDeadLetter[]>;

  /**
   * Feeds: everything stored, in the order it was committed, behind a cursor
   * a consumer keeps (in its consumer state) so that it survives restarts and
   * misses nothing. Cursor 0 is the beginning; pass the returned cursor to
   * the next call; it comes back unchanged when nothing new has arrived.
   * Cursors must follow commit order, or a consumer skips what a slower
   * transaction commits behind it: SQLite has one writer at a time; a
   * server store needs the same guarantee (in PostgreSQL a plain serial is
   * not enough, its values commit out of order).
   */
  framesAfter(cursor: number, limit: number): Promise<FramePage>;
  /**
   * Meter reads in the order they were stored. Reads arrive in groups (one
   * meter's new reads in one commit, ts order inside a group) and a page never
   * splits a group: it holds at most `limit` reads, except that a page always
   * holds at least one whole group, however large.
   */
  readsAfter(cursor: number, limit: number): Promise<ReadPage>;
  /** The newest read of a meter at or before an instant: the register at that instant. */
  readAtOrBefore(meterId: string, atMs: number): Promise<StoredRead | undefined>;
  /** The oldest read of a meter at or after an instant (the other end of an interpolation). */
  readAtOrAfter(meterId: string, atMs: number): Promise<StoredRead | undefined>;

  /**
   * Leak scores, a time series per sensor. Idempotent on (sensor, window
   * start, model version): a score already stored stays (the first wins) and
   * counts as a duplicate.
   */
  appendScores(scores: readonly LeakScore[]): Promise<AppendScoresResult>;
  /** Scores of one sensor with from <= windowStart < to, oldest window first. */
  scoresInRange(sensorId: string, fromMs: number, toMs: number, limit: number): Promise<LeakScore[]>;
  /** Scores in the order they were stored (the alert engine's feed). */
  scoresAfter(cursor: number, limit: number): Promise<ScorePage>;

  /** A consumer's small JSON document (cursor, window histories), if it has one. */
  getConsumerState(name: string): Promise<ConsumerState | undefined>;
  /**
   * Writes a consumer's document. With `expectedVersion` (0: must not exist
   * yet) the write fails with ConsumerStateConflictError if another writer
   * got there first. Returns the new version.
   */
  putConsumerState(name: string, value: unknown, expectedVersion?: number): Promise<number>;

  /**
   * Alert changes decided by a detector, the audit events they cause and the
   * consumer state that justifies them (cursor, window histories), in ONE
   * transaction: a crash leaves either all of it or none, so a restarted
   * detector neither loses nor repeats an alert. The store applies the alert
   * lifecycle (`alert-lifecycle.ts`) to the current alert of each (source,
   * kind) inside the transaction, so a crew's concurrent acknowledge is never
   * overwritten. Returns the events recorded, in order.
   */
  commitAlertChanges(commit: AlertCommit): Promise<AlertCommitResult>;
  /** open → acknowledged, by a user, if the alert is still at `expectedVersion` (else AlertError ALERT_VERSION_CONFLICT). */
  acknowledgeAlert(request: AlertUserAction): Promise<Alert>;
  /** open, acknowledged or cleared → resolved, by a user, at `expectedVersion`. */
  resolveAlert(request: AlertUserAction & { readonly resolution: AlertResolution }): Promise<Alert>;
  getAlert(id: number): Promise<Alert | undefined>;
  /** Alerts in id order (oldest first) after a cursor. */
  listAlerts(query: AlertQuery): Promise<Alert[]>;
  /** The audit trail of one alert, oldest first. */
  alertEvents(alertId: number): Promise<AlertEvent[]>;
  /** Every alert event in the order recorded (the publisher's feed). */
  alertEventsAfter(cursor: number, limit: number): Promise<AlertEventPage>;
  /** The id of the newest alert event, 0 when there is none: where a live stream starts. */
  latestAlertEventId(): Promise<number>;
  /** The one not-yet-resolved alert (open, acknowledged or cleared) of a source and kind. */
  openAlertFor(sourceId: string, kind: string): Promise<Alert | undefined>;

  // ---- Billing (issue 4): registers at a cut-off for many meters, meter replacements, the arrival watermark ----
  // Reads and replacements share one arrival sequence (the reads feed's
  // cursor), so "as of arrival N" names exactly what the store knew: a
  // billing answer computed as of N is reproduced by ignoring what came later.

  /**
   * Time series (reads). For each (meter, instant), in the order asked: the
   * newest read at or before the instant and the oldest at or after it, among
   * reads that arrived at or before `asOf` (all reads when absent). One pass
   * for the whole list: a billing export asks for thousands of meters at a
   * time. An implementation may bound the search by the oldest timestamp
   * ingest accepts (INGEST_MAX_AGE_DAYS), as no read is older.
   */
  readBrackets(queries: readonly BracketQuery[], asOf?: number): Promise<ReadBracket[]>;
  /**
   * The arrival sequence: the newest number at or below `atOrBelow` (the
   * newest of all when absent) given to a group of reads or a replacement,
   * and when that was stored; `{ seq: 0, atMs: null }` before anything.
   */
  arrivalMark(atOrBelow?: number): Promise<ArrivalMark>;
  /**
   * Registry (mutable state): records a meter replacement under the next
   * arrival number. The first record of a (meter, instant) stands: a second
   * one returns it with `created: false` (the caller compares). Throws
   * StoreInputError for a device that is not a registered meter.
   */
  recordReplacement(replacement: MeterReplacement): Promise<{ readonly replacement: StoredReplacement; readonly created: boolean }>;
  /** Registry: replacements of these meters recorded at or before arrival `asOf`, by meter id then instant. */
  replacementsOf(meterIds: readonly string[], asOf?: number): Promise<StoredReplacement[]>;
  /** Registry: what listDevices(query) would return, without the rows (a page's extent, known before it is streamed). */
  countDevices(query: DeviceQuery): Promise<DeviceCount>;
  /** Registry: meters as listDevices({ ...query, kind: 'meter' }) lists them, with only what billing needs of each. */
  listBillingMeters(query: Omit<DeviceQuery, 'kind'>): Promise<BillingMeterRecord[]>;
  // ---- end of billing ----

  /** Cheap liveness probe of the underlying database, for /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface IngestBatch {
  readonly receivedAtMs: number;
  readonly reads: readonly MeterRead[];
  readonly frames: readonly FrameToStore[];
  readonly statuses: readonly DeviceStatus[];
  readonly deadLetters: readonly DeadLetter[];
}

export interface FrameToStore extends AcousticFrame {
  readonly summary: FrameSummary;
}

/** Per-frame figures kept after the PCM is pruned (night noise level history). */
export interface FrameSummary {
  /** RMS level of the PCM in dB relative to full scale (gain not removed). */
  readonly rmsDbfs: number;
  /** Share of samples at full scale: the sensor gain was too high. */
  readonly clippedRatio: number;
}

export interface CommitResult {
  readonly readsInserted: number;
  readonly readsDuplicate: number;
  /** Reads whose (meter, ts) was stored earlier with another register: kept out, reported. */
  readonly conflicts: readonly ReadConflict[];
  readonly framesInserted: number;
  readonly framesDuplicate: number;
}

export interface ReadConflict {
  /** Index into the batch's `reads`. */
  readonly index: number;
  readonly storedRegisterL: number;
}

export interface StoredRead {
  readonly meterId: string;
  readonly ts: number;
  readonly registerL: number;
  readonly flags: readonly MeterFlag[];
  readonly receivedAtMs: number;
}

export interface StoredFrame {
  readonly sensorId: string;
  readonly startMs: number;
  readonly sampleRateHz: number;
  readonly gainDb: number;
  readonly sampleCount: number;
  readonly summary: FrameSummary;
  readonly receivedAtMs: number;
  /** Null once pruned by the PCM retention. */
  readonly samples: Int16Array | null;
}

export interface DeadLetter {
  readonly receivedAtMs: number;
  readonly clientId: string | null;
  readonly topic: string;
  readonly code: RejectionCode;
  readonly message: string;
  /** The raw payload, cut to the configured bound; `payloadBytes` is its full size. */
  readonly payload: Uint8Array;
  readonly payloadBytes: number;
}

export interface StoredDeadLetter extends DeadLetter {
  readonly id: number;
}

export interface DeadLetterQuery {
  readonly sinceMs?: number | undefined;
  readonly code?: RejectionCode | undefined;
  /** Cursor: ids strictly after this one. */
  readonly afterId?: number | undefined;
  readonly limit: number;
}

export const PIPE_MATERIALS = ['ductile_iron', 'cast_iron', 'steel', 'pvc', 'pe', 'asbestos_cement'] as const;
export type PipeMaterial = (typeof PIPE_MATERIALS)[number];

/**
 * What surrounds an acoustic sensor, as the bureau's asset records know it:
 * the noise it must tell a leak from. A PRV's hiss is steady night after
 * night like a leak's (PARTS.md: 5 of 69 noise-logger alarms in one field
 * record), so a model's operating point may differ by site.
 */
export const SENSOR_SITES = ['quiet_residential', 'arterial_road', 'tram_line', 'near_pump', 'near_prv'] as const;
export type SensorSite = (typeof SENSOR_SITES)[number];

export interface DeviceRegistration {
  readonly id: string;
  readonly kind: DeviceKind;
  readonly district?: string | null | undefined;
  readonly lat?: number | null | undefined;
  readonly lon?: number | null | undefined;
  /** Acoustic sensors: the material of the main they listen to. */
  readonly pipeMaterial?: PipeMaterial | null | undefined;
  /** Acoustic sensors: what surrounds the sensor (SENSOR_SITES); null: not recorded. */
  readonly site?: SensorSite | null | undefined;
  /** Meters: the largest value the register shows before it rolls over to 0, litres; null: the billing default (BILLING_REGISTER_MAX_L). */
  readonly registerMaxL?: number | null | undefined;
  // Registry import (issue 4): the main a sensor sits on, and the head-end
  // that may publish for the device (README: Devices and credentials).
  /** Acoustic sensors: the bureau's id of the main they listen to (its GIS asset id). */
  readonly pipeId?: string | null | undefined;
  /**
   * Acoustic sensors: where along that main the sensor sits, m from the
   * main's start as the GIS measures it (its chainage). Two sensors on one
   * main are a correlator's pair, this far apart along it; null: not recorded.
   */
  readonly chainageM?: number | null | undefined;
  /**
   * Sensors whose site is near_prv or near_pump: where along the same main
   * that PRV or pump stands (its chainage, m). A correlator's pair takes a
   * peak there for the valve or pump, not a leak; null: not recorded.
   */
  readonly sourceChainageM?: number | null | undefined;
  /** The gateway (head-end, concentrator) allowed to publish for this device; null: only the device itself. */
  readonly gatewayId?: string | null | undefined;
}

export interface DeviceRecord {
  readonly id: string;
  readonly kind: DeviceKind;
  readonly district: string | null;
  readonly lat: number | null;
  readonly lon: number | null;
  readonly pipeMaterial: PipeMaterial | null;
  readonly site: SensorSite | null;
  /** Meters: the register's rollover point override (DeviceRegistration.registerMaxL). */
  readonly registerMaxL: number | null;
  readonly pipeId: string | null;
  /** Along its main, m (DeviceRegistration.chainageM). */
  readonly chainageM: number | null;
  /** Its site's PRV or pump along the main, m (DeviceRegistration.sourceChainageM). */
  readonly sourceChainageM: number | null;
  readonly gatewayId: string | null;
  /** First and last message from the device; null for a device only imported. */
  readonly firstSeenMs: number | null;
  readonly lastSeenMs: number | null;
  readonly lastStatus: DeviceStatus | null;
}

export interface DeviceQuery {
  readonly kind?: DeviceKind | undefined;
  readonly district?: string | undefined;
  /** Cursor: ids strictly after this one. */
  readonly afterId?: string | undefined;
  readonly limit: number;
}

export interface FramePage {
  readonly frames: StoredFrame[];
  readonly cursor: number;
}

export interface ReadPage {
  readonly reads: StoredRead[];
  readonly cursor: number;
}

/** One model's score for one window of one sensor. */
export interface LeakScore {
  readonly sensorId: string;
  readonly windowStartMs: number;
  readonly windowEndMs: number;
  /** 0 (no leak) to 1 (leak), as the model says. */
  readonly score: number;
  /** The model that scored: a new model scores the same window again, beside the old. */
  readonly modelVersion: string;
  /**
   * The window's level in each of the model's bands, dB re full scale, where
   * the model gives them (detect: the graph's band_levels): a sensor's noise
   * per band, night by night, for operators and for the night verdict that
   * compares a night with the sensor's earlier ones. At most
   * MAX_BAND_LEVELS values.
   */
  readonly bandLevelsDb?: readonly number[] | undefined;
}

/** More bands than any model of ours has; a longer list is refused as malformed. */
export const MAX_BAND_LEVELS = 64;

export interface AppendScoresResult {
  readonly inserted: number;
  readonly duplicate: number;
}

export interface ScorePage {
  readonly scores: LeakScore[];
  readonly cursor: number;
}

export interface ConsumerState {
  readonly name: string;
  /** The JSON document as written (parsed): the consumer validates it. */
  readonly value: unknown;
  /** 1 for the first write, +1 at each. */
  readonly version: number;
  readonly updatedAtMs: number;
}

export interface AlertEventPage {
  readonly events: AlertEvent[];
  readonly cursor: number;
}

/** Another writer changed a consumer's document since it was read: two copies of one consumer are running. */
export class ConsumerStateConflictError extends Error {
  readonly code = 'CONSUMER_STATE_CONFLICT';
  readonly consumer: string;
  readonly expectedVersion: number;
  readonly actualVersion: number;
  constructor(consumer: string, expectedVersion: number, actualVersion: number) {
    super(`consumer state '${consumer}' is at version ${actualVersion}, expected ${expectedVersion}: is another copy of this consumer running?`);
    this.name = 'ConsumerStateConflictError';
    this.consumer = consumer;
    this.expectedVersion = expectedVersion;
    this.actualVersion = actualVersion;
  }
}

/** A consumer document to write with an alert commit. */
export interface ConsumerStatePut {
  readonly name: string;
  readonly value: unknown;
  /** Fence against a second copy of the consumer: 0 means "must not exist yet". */
  readonly expectedVersion?: number | undefined;
}

export interface AlertCommit {
  readonly actor: SystemActor;
  /** Applied in order; a subject may appear more than once (raise, then clear). */
  readonly changes: readonly AlertChange[];
  /** Written in the same transaction; any version conflict rolls everything back. */
  readonly states: readonly ConsumerStatePut[];
  /** Wall clock of the commit, recorded on its events; defaults to now. */
  readonly recordedAtMs?: number | undefined;
}

export interface AlertCommitResult {
  /** The events recorded (raised, updated, cleared), in order. */
  readonly events: AlertEvent[];
  /** New version of each state written, by name. */
  readonly stateVersions: Readonly<Record<string, number>>;
}

export interface AlertQuery {
  readonly state?: AlertState | readonly AlertState[] | undefined;
  readonly kind?: string | undefined;
  readonly sourceId?: string | undefined;
  /** Alerts raised at or after this instant. */
  readonly sinceMs?: number | undefined;
  /** Cursor: ids strictly after this one. */
  readonly afterId?: number | undefined;
  readonly limit: number;
}

/** A caller passed something the store cannot keep (a score that is not a number, a bad cursor). */
export class StoreInputError extends Error {
  readonly code = 'STORE_INPUT_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'StoreInputError';
  }
}

// ---- Billing (issue 4) ----

export interface BracketQuery {
  readonly meterId: string;
  readonly atMs: number;
}

/** The reads either side of an instant; `before` is the read itself when one is at the instant. */
export interface ReadBracket {
  readonly before: StoredRead | undefined;
  readonly after: StoredRead | undefined;
}

export interface ArrivalMark {
  readonly seq: number;
  /** When that arrival was stored (server clock); null for seq 0. */
  readonly atMs: number | null;
}

/**
 * A meter swapped in the field under the same meter id (the metering point
 * billing knows): the old register's last value and the new register's first,
 * both read by the fitter at one instant. Reads before the instant belong to
 * the old register, reads at or after it to the new one.
 */
export interface MeterReplacement {
  readonly meterId: string;
  readonly atMs: number;
  /** Integer litres. */
  readonly oldFinalL: number;
  readonly newInitialL: number;
  readonly note?: string | null | undefined;
  readonly recordedAtMs: number;
  /** Who recorded it (the API key's identity), for the audit. */
  readonly recordedBy?: string | null | undefined;
}

export interface StoredReplacement extends MeterReplacement {
  /** Its place in the arrival sequence it shares with reads. */
  readonly seq: number;
  readonly note: string | null;
  readonly recordedBy: string | null;
}

export interface BillingMeterRecord {
  readonly id: string;
  /** DeviceRecord.registerMaxL. */
  readonly registerMaxL: number | null;
}

export interface DeviceCount {
  /** Devices the query's page holds (at most its limit). */
  readonly count: number;
  /** The page's last id: the cursor of the next page. */
  readonly lastId: string | undefined;
  /** Whether devices follow the page. */
  readonly more: boolean;
}
