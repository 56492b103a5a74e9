import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { METER_FLAGS, type DeviceKind, type DeviceStatus, type MeterFlag, type RejectionCode } from '../contracts/index.ts';
import type {
  CommitResult,
  DeadLetterQuery,
  DeviceQuery,
  DeviceRecord,
  DeviceRegistration,
  IngestBatch,
  PipeMaterial,
  ReadConflict,
  Store,
  StoredDeadLetter,
  StoredFrame,
  StoredRead,
} from './store.ts';

export interface SqliteStoreOptions {
  /** Database file; ':memory:' for a throw-away store. */
  readonly path: string;
  /**
   * 'full' fsyncs the WAL at every commit, so an acknowledged read survives a
   * power cut; 'normal' survives a process crash only, and is faster.
   */
  readonly synchronous?: 'full' | 'normal';
}

/**
 * The embedded default: SQLite in WAL mode, in the process, no server.
 *
 * Why SQLite and not DuckDB: (1) WAL lets the ingest and API services run as
 * separate processes on one host over one file, where DuckDB allows a single
 * writing process and no readers beside it; (2) billing and the crew API are
 * point and range lookups by (meter, ts), which a B-tree serves in
 * microseconds; (3) INSERT OR IGNORE on the primary key deduplicates and tells
 * us, per read, whether it was new (PARTS.md: ~430k reads/s with that key).
 */
export class SqliteStore implements Store {
  readonly name: string;
  private readonly db: Database.Database;
  private readonly deviceKeys = new Map<string, number>();
  private readonly stmt: ReturnType<typeof prepare>;

  constructor(opts: SqliteStoreOptions) {
    if (opts.path !== ':memory:') mkdirSync(dirname(opts.path), { recursive: true });
    this.name = `sqlite:${opts.path}`;
    this.db = new Database(opts.path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${opts.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
    // Another process (API beside ingest) may hold the write lock briefly.
    this.db.pragma('busy_timeout = 5000');
    migrate(this.db);
    this.stmt = prepare(this.db);
  }

  async commit(batch: IngestBatch): Promise<CommitResult> {
    return this.commitTx(batch);
  }

  private readonly commitTx = (batch: IngestBatch): CommitResult => {
    const s = this.stmt;
    const run = this.db.transaction((): CommitResult => {
      const now = batch.receivedAtMs;
      let readsInserted = 0;
      let readsDuplicate = 0;
      let framesInserted = 0;
      let framesDuplicate = 0;
      const conflicts: ReadConflict[] = [];
      const seen = new Map<number, number>();
      for (let i = 0; i < batch.reads.length; i++) {
        const r = batch.reads[i]!;
        const key = this.deviceKey(r.meterId, 'meter', now);
        seen.set(key, now);
        if (s.insertRead.run(key, r.ts, r.registerL, flagsToBits(r.flags), now).changes === 1) {
          readsInserted++;
          continue;
        }
        const stored = s.readRegister.get(key, r.ts) as { register_l: number };
        if (stored.register_l === r.registerL) readsDuplicate++;
        else conflicts.push({ index: i, storedRegisterL: stored.register_l });
      }
      for (const f of batch.frames) {
        const key = this.deviceKey(f.sensorId, 'sensor', now);
        seen.set(key, now);
        const inserted = s.insertFrame.run(key, f.startMs, f.sampleRateHz, f.gainDb, f.samples.length, f.summary.rmsDbfs, f.summary.clippedRatio, now);
        if (inserted.changes === 1) {
          s.insertPcm.run(inserted.lastInsertRowid, Buffer.from(f.samples.buffer, f.samples.byteOffset, f.samples.byteLength));
          framesInserted++;
        } else {
          framesDuplicate++;
        }
      }
      for (const st of batch.statuses) {
        const key = this.deviceKey(st.deviceId, st.deviceKind, now);
        seen.set(key, now);
        s.insertStatus.run(key, st.ts, st.batteryPct ?? null, st.firmware ?? null, st.rssiDbm ?? null, st.uptimeS ?? null);
      }
      for (const d of batch.deadLetters) {
        s.insertDeadLetter.run(d.receivedAtMs, d.clientId, d.topic, d.code, d.message, Buffer.from(d.payload), d.payloadBytes);
      }
      for (const [key, at] of seen) s.touchDevice.run(at, at, key);
      return { readsInserted, readsDuplicate, conflicts, framesInserted, framesDuplicate };
    });
    return run.immediate();
  };

  /** Device ids map to integer keys so that billions of reads do not repeat strings. */
  private deviceKey(id: string, kind: DeviceKind, nowMs: number): number {
    const cached = this.deviceKeys.get(id);
    if (cached !== undefined) return cached;
    this.stmt.insertDevice.run(id, kind, nowMs);
    const row = this.stmt.deviceKeyById.get(id) as { key: number };
    this.deviceKeys.set(id, row.key);
    return row.key;
  }

  async readsInRange(meterId: string, fromMs: number, toMs: number, limit: number): Promise<StoredRead[]> {
    const rows = this.stmt.readsInRange.all(meterId, fromMs, toMs, limit) as ReadRow[];
    return rows.map((r) => toRead(meterId, r));
  }

  async latestRead(meterId: string): Promise<StoredRead | undefined> {
    const row = this.stmt.latestRead.get(meterId) as ReadRow | undefined;
    return row && toRead(meterId, row);
  }

  async framesInRange(sensorId: string, fromMs: number, toMs: number, limit: number): Promise<StoredFrame[]> {
    const rows = this.stmt.framesInRange.all(sensorId, fromMs, toMs, limit) as FrameRow[];
    return rows.map((r) => ({
      sensorId,
      startMs: r.start_ms,
      sampleRateHz: r.sample_rate_hz,
      gainDb: r.gain_db,
      sampleCount: r.sample_count,
      summary: { rmsDbfs: r.rms_dbfs, clippedRatio: r.clipped_ratio },
      receivedAtMs: r.received_at,
      samples: r.pcm ? new Int16Array(r.pcm.buffer.slice(r.pcm.byteOffset, r.pcm.byteOffset + r.pcm.byteLength)) : null,
    }));
  }

  async prunePcm(olderThanMs: number): Promise<number> {
    return this.stmt.prunePcm.run(olderThanMs).changes;
  }

  async listDevices(q: DeviceQuery): Promise<DeviceRecord[]> {
    const rows = this.stmt.listDevices.all({
      kind: q.kind ?? null,
      district: q.district ?? null,
      after: q.afterId ?? null,
      limit: q.limit,
    }) as DeviceRow[];
    return rows.map(toDevice);
  }

  async getDevice(id: string): Promise<DeviceRecord | undefined> {
    const row = this.stmt.deviceById.get(id) as DeviceRow | undefined;
    return row && toDevice(row);
  }

  async upsertDevices(devices: readonly DeviceRegistration[]): Promise<void> {
    this.db.transaction(() => {
      for (const d of devices) {
        this.stmt.upsertDevice.run({
          id: d.id,
          kind: d.kind,
          district: d.district ?? null,
          lat: d.lat ?? null,
          lon: d.lon ?? null,
          pipe: d.pipeMaterial ?? null,
        });
      }
    })();
  }

  async deadLetters(q: DeadLetterQuery): Promise<StoredDeadLetter[]> {
    const rows = this.stmt.deadLetters.all({ since: q.sinceMs ?? 0, code: q.code ?? null, after: q.afterId ?? 0, limit: q.limit }) as DeadLetterRow[];
    return rows.map((r) => ({
      id: r.id,
      receivedAtMs: r.received_at,
      clientId: r.client_id,
      topic: r.topic,
      code: r.code as RejectionCode,
      message: r.message,
      payload: new Uint8Array(r.payload),
      payloadBytes: r.payload_bytes,
    }));
  }

  async ping(): Promise<void> {
    this.db.prepare('SELECT 1').get();
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

/**
 * Schema, versioned by PRAGMA user_version. Reads are a WITHOUT ROWID table
 * clustered on (meter, ts): a billing lookup is one B-tree descent. PCM lives
 * in its own table so that retention deletes blobs and keeps summaries.
 */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE devices (
     key INTEGER PRIMARY KEY,
     id TEXT NOT NULL UNIQUE,
     kind TEXT NOT NULL CHECK (kind IN ('meter', 'sensor')),
     district TEXT,
     lat REAL,
     lon REAL,
     pipe_material TEXT,
     first_seen INTEGER,
     last_seen INTEGER
   );
   CREATE INDEX devices_by_district ON devices (district, id);
   CREATE TABLE meter_reads (
     meter_key INTEGER NOT NULL,
     ts INTEGER NOT NULL,
     register_l INTEGER NOT NULL,
     flags INTEGER NOT NULL,
     received_at INTEGER NOT NULL,
     PRIMARY KEY (meter_key, ts)
   ) WITHOUT ROWID;
   CREATE TABLE acoustic_frames (
     id INTEGER PRIMARY KEY,
     sensor_key INTEGER NOT NULL,
     start_ms INTEGER NOT NULL,
     sample_rate_hz INTEGER NOT NULL,
     gain_db REAL NOT NULL,
     sample_count INTEGER NOT NULL,
     rms_dbfs REAL NOT NULL,
     clipped_ratio REAL NOT NULL,
     received_at INTEGER NOT NULL,
     UNIQUE (sensor_key, start_ms)
   );
   CREATE TABLE frame_pcm (
     frame_id INTEGER PRIMARY KEY,
     pcm BLOB NOT NULL
   );
   CREATE TABLE device_status (
     device_key INTEGER NOT NULL,
     ts INTEGER NOT NULL,
     battery_pct REAL,
     firmware TEXT,
     rssi_dbm REAL,
     uptime_s INTEGER,
     PRIMARY KEY (device_key, ts)
   ) WITHOUT ROWID;
   CREATE TABLE dead_letters (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     received_at INTEGER NOT NULL,
     client_id TEXT,
     topic TEXT NOT NULL,
     code TEXT NOT NULL,
     message TEXT NOT NULL,
     payload BLOB NOT NULL,
     payload_bytes INTEGER NOT NULL
   );
   CREATE INDEX dead_letters_by_time ON dead_letters (received_at);`,
];

function migrate(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > MIGRATIONS.length) {
    throw new Error(`database schema version ${version} is newer than this build (${MIGRATIONS.length}); upgrade Suido`);
  }
  db.transaction(() => {
    for (let v = version; v < MIGRATIONS.length; v++) {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    }
  }).immediate();
}

function prepare(db: Database.Database) {
  return {
    insertDevice: db.prepare('INSERT OR IGNORE INTO devices (id, kind, first_seen) VALUES (?, ?, ?)'),
    deviceKeyById: db.prepare('SELECT key FROM devices WHERE id = ?'),
    touchDevice: db.prepare('UPDATE devices SET last_seen = max(coalesce(last_seen, 0), ?), first_seen = coalesce(first_seen, ?) WHERE key = ?'),
    insertRead: db.prepare('INSERT OR IGNORE INTO meter_reads (meter_key, ts, register_l, flags, received_at) VALUES (?, ?, ?, ?, ?)'),
    readRegister: db.prepare('SELECT register_l FROM meter_reads WHERE meter_key = ? AND ts = ?'),
    insertFrame: db.prepare(
      `INSERT OR IGNORE INTO acoustic_frames (sensor_key, start_ms, sample_rate_hz, gain_db, sample_count, rms_dbfs, clipped_ratio, received_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    insertPcm: db.prepare('INSERT INTO frame_pcm (frame_id, pcm) VALUES (?, ?)'),
    insertStatus: db.prepare(
      'INSERT OR IGNORE INTO device_status (device_key, ts, battery_pct, firmware, rssi_dbm, uptime_s) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    insertDeadLetter: db.prepare(
      'INSERT INTO dead_letters (received_at, client_id, topic, code, message, payload, payload_bytes) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
    readsInRange: db.prepare(
      `SELECT r.ts, r.register_l, r.flags, r.received_at FROM meter_reads r JOIN devices d ON d.key = r.meter_key
       WHERE d.id = ? AND r.ts >= ? AND r.ts < ? ORDER BY r.ts LIMIT ?`,
    ),
    latestRead: db.prepare(
      `SELECT r.ts, r.register_l, r.flags, r.received_at FROM meter_reads r JOIN devices d ON d.key = r.meter_key
       WHERE d.id = ? ORDER BY r.ts DESC LIMIT 1`,
    ),
    framesInRange: db.prepare(
      `SELECT f.start_ms, f.sample_rate_hz, f.gain_db, f.sample_count, f.rms_dbfs, f.clipped_ratio, f.received_at, p.pcm
       FROM acoustic_frames f JOIN devices d ON d.key = f.sensor_key LEFT JOIN frame_pcm p ON p.frame_id = f.id
       WHERE d.id = ? AND f.start_ms >= ? AND f.start_ms < ? ORDER BY f.start_ms LIMIT ?`,
    ),
    prunePcm: db.prepare('DELETE FROM frame_pcm WHERE frame_id IN (SELECT id FROM acoustic_frames WHERE start_ms < ?)'),
    listDevices: db.prepare(
      `SELECT ${DEVICE_COLUMNS} FROM devices d
       WHERE (:kind IS NULL OR d.kind = :kind) AND (:district IS NULL OR d.district = :district) AND (:after IS NULL OR d.id > :after)
       ORDER BY d.id LIMIT :limit`,
    ),
    deviceById: db.prepare(`SELECT ${DEVICE_COLUMNS} FROM devices d WHERE d.id = ?`),
    upsertDevice: db.prepare(
      `INSERT INTO devices (id, kind, district, lat, lon, pipe_material) VALUES (:id, :kind, :district, :lat, :lon, :pipe)
       ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, district = excluded.district, lat = excluded.lat,
         lon = excluded.lon, pipe_material = excluded.pipe_material`,
    ),
    deadLetters: db.prepare(
      `SELECT id, received_at, client_id, topic, code, message, payload, payload_bytes FROM dead_letters
       WHERE id > :after AND received_at >= :since AND (:code IS NULL OR code = :code) ORDER BY id LIMIT :limit`,
    ),
  };
}

const DEVICE_COLUMNS = `d.id, d.kind, d.district, d.lat, d.lon, d.pipe_material, d.first_seen, d.last_seen,
  (SELECT json_object('ts', s.ts, 'batteryPct', s.battery_pct, 'firmware', s.firmware, 'rssiDbm', s.rssi_dbm, 'uptimeS', s.uptime_s)
     FROM device_status s WHERE s.device_key = d.key ORDER BY s.ts DESC LIMIT 1) AS last_status`;

interface ReadRow {
  ts: number;
  register_l: number;
  flags: number;
  received_at: number;
}
interface FrameRow {
  start_ms: number;
  sample_rate_hz: number;
  gain_db: number;
  sample_count: number;
  rms_dbfs: number;
  clipped_ratio: number;
  received_at: number;
  pcm: Buffer | null;
}
interface DeviceRow {
  id: string;
  kind: DeviceKind;
  district: string | null;
  lat: number | null;
  lon: number | null;
  pipe_material: PipeMaterial | null;
  first_seen: number | null;
  last_seen: number | null;
  last_status: string | null;
}
interface DeadLetterRow {
  id: number;
  received_at: number;
  client_id: string | null;
  topic: string;
  code: string;
  message: string;
  payload: Buffer;
  payload_bytes: number;
}

function toRead(meterId: string, r: ReadRow): StoredRead {
  return { meterId, ts: r.ts, registerL: r.register_l, flags: bitsToFlags(r.flags), receivedAtMs: r.received_at };
}

function toDevice(r: DeviceRow): DeviceRecord {
  let lastStatus: DeviceStatus | null = null;
  if (r.last_status) {
    const s = JSON.parse(r.last_status) as { ts: number; batteryPct: number | null; firmware: string | null; rssiDbm: number | null; uptimeS: number | null };
    lastStatus = {
      deviceId: r.id,
      deviceKind: r.kind,
      ts: s.ts,
      ...(s.batteryPct !== null && { batteryPct: s.batteryPct }),
      ...(s.firmware !== null && { firmware: s.firmware }),
      ...(s.rssiDbm !== null && { rssiDbm: s.rssiDbm }),
      ...(s.uptimeS !== null && { uptimeS: s.uptimeS }),
    };
  }
  return {
    id: r.id,
    kind: r.kind,
    district: r.district,
    lat: r.lat,
    lon: r.lon,
    pipeMaterial: r.pipe_material,
    firstSeenMs: r.first_seen,
    lastSeenMs: r.last_seen,
    lastStatus,
  };
}

/** Flags are stored as a bit set, in the order of METER_FLAGS (append-only). */
function flagsToBits(flags: readonly MeterFlag[]): number {
  let bits = 0;
  for (const f of flags) bits |= 1 << METER_FLAGS.indexOf(f);
  return bits;
}

function bitsToFlags(bits: number): MeterFlag[] {
  return bits === 0 ? [] : METER_FLAGS.filter((_, i) => (bits & (1 << i)) !== 0);
}
