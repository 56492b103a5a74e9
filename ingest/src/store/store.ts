import type { AcousticFrame, DeviceKind, DeviceStatus, MeterFlag, MeterRead, RejectionCode } from '../contracts/index.ts';

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

  deadLetters(query: DeadLetterQuery): Promise<StoredDeadLetter[]>;

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

export interface DeviceRegistration {
  readonly id: string;
  readonly kind: DeviceKind;
  readonly district?: string | null | undefined;
  readonly lat?: number | null | undefined;
  readonly lon?: number | null | undefined;
  /** Acoustic sensors: the material of the main they listen to. */
  readonly pipeMaterial?: PipeMaterial | null | undefined;
}

export interface DeviceRecord {
  readonly id: string;
  readonly kind: DeviceKind;
  readonly district: string | null;
  readonly lat: number | null;
  readonly lon: number | null;
  readonly pipeMaterial: PipeMaterial | null;
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
