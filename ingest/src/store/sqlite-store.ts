import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { DeviceKind, RejectionCode } from '../contracts/index.ts';
import {
  applyDetectorChange,
  applyUserAction,
  checkAlertChange,
  type Alert,
  type AlertAction,
  type AlertActor,
  type AlertDetails,
  type AlertEvent,
  type AlertResolution,
  type AlertState,
  type AlertUserAction,
  type NewAlert,
  type UserAlertAction,
} from './alert-lifecycle.ts';
import {
  ConsumerStateConflictError,
  StoreInputError,
  type AlertCommit,
  type AlertCommitResult,
  type AlertEventPage,
  type AlertQuery,
  type AppendScoresResult,
  type ArrivalMark,
  type BracketQuery,
  type BillingMeterRecord,
  type DeviceCount,
  type MeterReplacement,
  type ReadBracket,
  type StoredReplacement,
  type CommitResult,
  type ConsumerState,
  type ConsumerStatePut,
  type DeadLetterQuery,
  type DeviceQuery,
  type DeviceRecord,
  type DeviceRegistration,
  type FramePage,
  type IngestBatch,
  type LeakScore,
  type ReadConflict,
  type ReadPage,
  type ScorePage,
  type Store,
  type StoredDeadLetter,
  type StoredFrame,
  type StoredRead,
} from './store.ts';
import type { ApiKeyEvent, ApiKeyRecord, ApiKeyStore, NewApiKey } from './api-key-store.ts';
import { API_KEYS_MIGRATION, SqliteApiKeys } from './sqlite-api-keys.ts';
import type { DeviceCredentialStore, DeviceRoute, MqttCredential, MqttCredentialQuery, NewMqttCredential } from './device-credentials.ts';
import { DEVICE_CREDENTIALS_MIGRATION, SqliteDeviceCredentials } from './sqlite-device-credentials.ts';
import { BILLING_MIGRATION, LAST_ARRIVAL_SQL, SqliteBilling } from './sqlite-billing.ts';
import { bandLevelsToBytes, flagsToBits, checkCursor, checkScore, toDevice, toFrame, toRead, toScore, type DeviceColumns, type ReadRow, type FrameRow, type ScoreRow, type StatusFields } from './store-rows.ts';

/** Ids per registry kind lookup (deviceKinds). */
const KIND_LOOKUP_CHUNK = 5000;

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
export class SqliteStore implements Store, ApiKeyStore, DeviceCredentialStore {
  readonly name: string;
  private readonly db: Database.Database;
  private readonly deviceKeys = new Map<string, number>();
  private readonly stmt: ReturnType<typeof prepare>;
  private readonly apiKeys: SqliteApiKeys;
  private readonly credentials: SqliteDeviceCredentials;
  private readonly billing: SqliteBilling;

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
    this.apiKeys = new SqliteApiKeys(this.db);
    this.credentials = new SqliteDeviceCredentials(this.db);
    this.billing = new SqliteBilling(this.db);
  }

  async commit(batch: IngestBatch): Promise<CommitResult> {
    return this.commitTx(batch);
  }

  private readonly commitTx = (batch: IngestBatch): CommitResult => {
    const s = this.stmt;
    return this.write((): CommitResult => {
      const now = batch.receivedAtMs;
      let readsInserted = 0;
      let readsDuplicate = 0;
      let framesInserted = 0;
      let framesDuplicate = 0;
      const conflicts: ReadConflict[] = [];
      const seen = new Map<number, number>();
      // The reads feed (readsAfter): each meter's new reads in this commit
      // form one arrival group, numbered after the last committed one. The
      // write lock is held (IMMEDIATE), so the numbering follows commit order.
      const groups = new Map<number, ArrivalGroup>();
      let lastSeq = batch.reads.length > 0 ? (s.lastArrival.get() as { seq: number }).seq : 0;
      for (let i = 0; i < batch.reads.length; i++) {
        const r = batch.reads[i]!;
        const key = this.deviceKey(r.meterId, 'meter', now);
        seen.set(key, now);
        let group = groups.get(key);
        if (!group) {
          group = { seq: ++lastSeq, firstTs: Infinity, lastTs: -Infinity, count: 0 };
          groups.set(key, group);
        }
        if (s.insertRead.run(key, r.ts, r.registerL, flagsToBits(r.flags), now, group.seq).changes === 1) {
          readsInserted++;
          group.count++;
          if (r.ts < group.firstTs) group.firstTs = r.ts;
          if (r.ts > group.lastTs) group.lastTs = r.ts;
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
      // A group of duplicates only stays out of the feed (its number is reused or skipped: cursors compare, never count).
      for (const [key, g] of groups) if (g.count > 0) s.insertArrival.run(g.seq, key, g.firstTs, g.lastTs, g.count);
      for (const [key, at] of seen) s.touchDevice.run(at, at, key);
      return { readsInserted, readsDuplicate, conflicts, framesInserted, framesDuplicate };
    });
  };

  /**
   * One write transaction, IMMEDIATE (takes the write lock at once: no
   * upgrade deadlock beside a reader process). If it rolls back, device keys
   * cached during it may name rows that no longer exist: forget them all.
   */
  private write<T>(fn: () => T): T {
    try {
      return this.db.transaction(fn).immediate();
    } catch (err) {
      this.deviceKeys.clear();
      throw err;
    }
  }

  /**
   * Device ids map to integer keys so that billions of reads do not repeat
   * strings. `seenAtMs` is null when the device did not send anything itself
   * (a score computed from its frames).
   */
  private deviceKey(id: string, kind: DeviceKind, seenAtMs: number | null): number {
    const cached = this.deviceKeys.get(id);
    if (cached !== undefined) return cached;
    this.stmt.insertDevice.run(id, kind, seenAtMs);
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
    return rows.map((r) => toFrame(sensorId, r));
  }

  async prunePcm(olderThanMs: number): Promise<number> {
    return this.stmt.prunePcm.run(olderThanMs).changes;
  }

  async listDevices(q: DeviceQuery): Promise<DeviceRecord[]> {
    const rows = this.stmt.listDevices.all({
      kind: q.kind ?? null,
      district: q.district ?? null,
      // Ids are never empty, so '' is "from the start"; `:after IS NULL OR d.id > :after`
      // would keep SQLite from seeking the primary key, and every page would scan from the first id.
      after: q.afterId ?? '',
      limit: q.limit,
    }) as DeviceRow[];
    return rows.map(toSqliteDevice);
  }

  async getDevice(id: string): Promise<DeviceRecord | undefined> {
    const row = this.stmt.deviceById.get(id) as DeviceRow | undefined;
    return row && toSqliteDevice(row);
  }

  async deviceKinds(ids: readonly string[]): Promise<Map<string, DeviceKind>> {
    const kinds = new Map<string, DeviceKind>();
    // json_each takes the whole list as one bound parameter: no statement per list length.
    const stmt = this.db.prepare('SELECT d.id, d.kind FROM json_each(?) j JOIN devices d ON d.id = j.value');
    for (let i = 0; i < ids.length; i += KIND_LOOKUP_CHUNK) {
      for (const row of stmt.all(JSON.stringify(ids.slice(i, i + KIND_LOOKUP_CHUNK))) as { id: string; kind: DeviceKind }[]) kinds.set(row.id, row.kind);
    }
    return kinds;
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
          site: d.site ?? null,
          pipeId: d.pipeId ?? null,
          chainage: d.chainageM ?? null,
          sourceChainage: d.sourceChainageM ?? null,
          gateway: d.gatewayId ?? null,
          registerMaxL: d.registerMaxL ?? null,
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

  async framesAfter(cursor: number, limit: number): Promise<FramePage> {
    checkCursor(cursor, limit);
    const rows = this.stmt.framesAfter.all(cursor, limit) as (FrameRow & { id: number; sensor_id: string })[];
    return { frames: rows.map((r) => toFrame(r.sensor_id, r)), cursor: rows.length > 0 ? rows[rows.length - 1]!.id : cursor };
  }

  async readsAfter(cursor: number, limit: number): Promise<ReadPage> {
    checkCursor(cursor, limit);
    const groups = this.stmt.arrivalsAfter.all(cursor, limit) as { seq: number; read_count: number }[];
    let total = 0;
    let last = cursor;
    for (const g of groups) {
      if (total > 0 && total + g.read_count > limit) break;
      total += g.read_count;
      last = g.seq;
    }
    if (last === cursor) return { reads: [], cursor };
    const rows = this.stmt.readsOfArrivals.all(cursor, last) as (ReadRow & { meter_id: string })[];
    return { reads: rows.map((r) => toRead(r.meter_id, r)), cursor: last };
  }

  async readAtOrBefore(meterId: string, atMs: number): Promise<StoredRead | undefined> {
    const row = this.stmt.readAtOrBefore.get(meterId, atMs) as ReadRow | undefined;
    return row && toRead(meterId, row);
  }

  async readAtOrAfter(meterId: string, atMs: number): Promise<StoredRead | undefined> {
    const row = this.stmt.readAtOrAfter.get(meterId, atMs) as ReadRow | undefined;
    return row && toRead(meterId, row);
  }

  async appendScores(scores: readonly LeakScore[]): Promise<AppendScoresResult> {
    for (const sc of scores) checkScore(sc);
    return this.write((): AppendScoresResult => {
      let inserted = 0;
      for (const sc of scores) {
        const key = this.deviceKey(sc.sensorId, 'sensor', null);
        inserted += this.stmt.insertScore.run(key, sc.windowStartMs, sc.windowEndMs, sc.score, sc.modelVersion, bandLevelsToBytes(sc.bandLevelsDb)).changes;
      }
      return { inserted, duplicate: scores.length - inserted };
    });
  }

  async scoresInRange(sensorId: string, fromMs: number, toMs: number, limit: number): Promise<LeakScore[]> {
    const rows = this.stmt.scoresInRange.all(sensorId, fromMs, toMs, limit) as ScoreRow[];
    return rows.map((r) => toScore(sensorId, r));
  }

  async scoresAfter(cursor: number, limit: number): Promise<ScorePage> {
    checkCursor(cursor, limit);
    const rows = this.stmt.scoresAfter.all(cursor, limit) as (ScoreRow & { id: number; sensor_id: string })[];
    return { scores: rows.map((r) => toScore(r.sensor_id, r)), cursor: rows.length > 0 ? rows[rows.length - 1]!.id : cursor };
  }

  async getConsumerState(name: string): Promise<ConsumerState | undefined> {
    const row = this.stmt.consumerState.get(name) as ConsumerStateRow | undefined;
    return row && { name, value: JSON.parse(row.value) as unknown, version: row.version, updatedAtMs: row.updated_at };
  }

  async putConsumerState(name: string, value: unknown, expectedVersion?: number): Promise<number> {
    return this.write(() => this.writeConsumerState({ name, value, expectedVersion }, Date.now()));
  }

  private writeConsumerState(put: ConsumerStatePut, nowMs: number): number {
    if (put.name.length === 0 || put.name.length > 200) throw new StoreInputError('a consumer state name is 1 to 200 characters');
    const json = JSON.stringify(put.value);
    if (json === undefined) throw new StoreInputError(`consumer state '${put.name}' is not JSON`);
    const current = (this.stmt.consumerState.get(put.name) as ConsumerStateRow | undefined)?.version ?? 0;
    if (put.expectedVersion !== undefined && put.expectedVersion !== current) throw new ConsumerStateConflictError(put.name, put.expectedVersion, current);
    this.stmt.putConsumerState.run(put.name, json, current + 1, nowMs);
    return current + 1;
  }

  async commitAlertChanges(commit: AlertCommit): Promise<AlertCommitResult> {
    for (const c of commit.changes) checkAlertChange(c);
    const recordedAtMs = commit.recordedAtMs ?? Date.now();
    return this.write((): AlertCommitResult => {
      const stateVersions: Record<string, number> = {};
      for (const put of commit.states) stateVersions[put.name] = this.writeConsumerState(put, recordedAtMs);
      const events: AlertEvent[] = [];
      for (const change of commit.changes) {
        const current = this.alertRow(this.stmt.openAlertFor.get(change.sourceId, change.kind));
        const t = applyDetectorChange(current, change);
        if (t.kind === 'none') continue;
        const alert = t.kind === 'insert' ? this.insertAlert(t.alert) : this.updateAlert(t.alert);
        if (t.action !== null) events.push(this.recordEvent(alert, t.action, commit.actor, change.atMs, recordedAtMs, t.eventDetails));
      }
      return { events, stateVersions };
    });
  }

  async acknowledgeAlert(request: AlertUserAction): Promise<Alert> {
    return this.userAction(request, { action: 'acknowledge' });
  }

  async resolveAlert(request: AlertUserAction & { readonly resolution: AlertResolution }): Promise<Alert> {
    return this.userAction(request, { action: 'resolve', resolution: request.resolution });
  }

  private async userAction(request: AlertUserAction, what: UserAlertAction): Promise<Alert> {
    return this.write((): Alert => {
      const current = this.alertRow(this.stmt.alertById.get(request.id));
      const t = applyUserAction(current, request, what);
      const alert = this.updateAlert(t.alert);
      this.recordEvent(alert, t.action, `user:${request.by}`, request.atMs, Date.now(), t.eventDetails);
      return alert;
    });
  }

  private insertAlert(a: NewAlert): Alert {
    const id = Number(this.stmt.insertAlert.run(alertParams(a)).lastInsertRowid);
    return { id, ...a };
  }

  private updateAlert(a: Alert): Alert {
    this.stmt.updateAlert.run({ id: a.id, ...alertParams(a) });
    return a;
  }

  private recordEvent(alert: Alert, action: AlertAction, actor: AlertActor, atMs: number, recordedAtMs: number, details: AlertDetails): AlertEvent {
    const info = this.stmt.insertAlertEvent.run(alert.id, action, actor, atMs, recordedAtMs, JSON.stringify(details), JSON.stringify(alert));
    return { id: Number(info.lastInsertRowid), alertId: alert.id, action, actor, atMs, recordedAtMs, details, alert };
  }

  private alertRow(row: unknown): Alert | undefined {
    return row === undefined ? undefined : toAlert(row as AlertRow);
  }

  async getAlert(id: number): Promise<Alert | undefined> {
    return this.alertRow(this.stmt.alertById.get(id));
  }

  async listAlerts(q: AlertQuery): Promise<Alert[]> {
    const states = q.state === undefined ? null : JSON.stringify(typeof q.state === 'string' ? [q.state] : q.state);
    const rows = this.stmt.listAlerts.all({
      states,
      kind: q.kind ?? null,
      source: q.sourceId ?? null,
      since: q.sinceMs ?? null,
      after: q.afterId ?? 0,
      limit: q.limit,
    }) as AlertRow[];
    return rows.map(toAlert);
  }

  async alertEvents(alertId: number): Promise<AlertEvent[]> {
    return (this.stmt.alertEvents.all(alertId) as AlertEventRow[]).map(toAlertEvent);
  }

  async latestAlertEventId(): Promise<number> {
    return (this.stmt.latestAlertEventId.get() as { id: number | null }).id ?? 0;
  }

  async alertEventsAfter(cursor: number, limit: number): Promise<AlertEventPage> {
    checkCursor(cursor, limit);
    const events = (this.stmt.alertEventsAfter.all(cursor, limit) as AlertEventRow[]).map(toAlertEvent);
    return { events, cursor: events.length > 0 ? events[events.length - 1]!.id : cursor };
  }

  async openAlertFor(sourceId: string, kind: string): Promise<Alert | undefined> {
    return this.alertRow(this.stmt.openAlertFor.get(sourceId, kind));
  }

  async createApiKey(key: NewApiKey): Promise<ApiKeyRecord> {
    return this.apiKeys.create(key);
  }

  async apiKeyByHash(secretHash: string): Promise<ApiKeyRecord | undefined> {
    return this.apiKeys.byHash(secretHash);
  }

  async listApiKeys(): Promise<ApiKeyRecord[]> {
    return this.apiKeys.list();
  }

  async revokeApiKey(id: number, by: string, atMs: number): Promise<{ readonly key: ApiKeyRecord; readonly revokedNow: boolean } | undefined> {
    return this.apiKeys.revoke(id, by, atMs);
  }

  async touchApiKey(id: number, atMs: number): Promise<void> {
    this.apiKeys.touch(id, atMs);
  }

  async apiKeyEvents(afterId: number, limit: number): Promise<ApiKeyEvent[]> {
    return this.apiKeys.events(afterId, limit);
  }

  // MQTT credentials (DeviceCredentialStore): sqlite-device-credentials.ts.
  issueMqttCredential(credential: NewMqttCredential): Promise<MqttCredential> {
    return this.credentials.issueMqttCredential(credential);
  }
  liveMqttCredential(username: string): Promise<MqttCredential | undefined> {
    return this.credentials.liveMqttCredential(username);
  }
  revokeMqttCredential(username: string, atMs: number): Promise<boolean> {
    return this.credentials.revokeMqttCredential(username, atMs);
  }
  listMqttCredentials(query: MqttCredentialQuery): Promise<MqttCredential[]> {
    return this.credentials.listMqttCredentials(query);
  }
  deviceRoute(deviceId: string): Promise<DeviceRoute | undefined> {
    return this.credentials.deviceRoute(deviceId);
  }

  // Billing (Store, issue 4): sqlite-billing.ts.
  async readBrackets(queries: readonly BracketQuery[], asOf?: number): Promise<ReadBracket[]> {
    return this.billing.readBrackets(queries, asOf);
  }
  async arrivalMark(atOrBelow?: number): Promise<ArrivalMark> {
    return this.billing.arrivalMark(atOrBelow);
  }
  async recordReplacement(replacement: MeterReplacement): Promise<{ readonly replacement: StoredReplacement; readonly created: boolean }> {
    return this.billing.recordReplacement(replacement);
  }
  async replacementsOf(meterIds: readonly string[], asOf?: number): Promise<StoredReplacement[]> {
    return this.billing.replacementsOf(meterIds, asOf);
  }
  async countDevices(query: DeviceQuery): Promise<DeviceCount> {
    return this.billing.countDevices(query);
  }
  async listBillingMeters(query: Omit<DeviceQuery, 'kind'>): Promise<BillingMeterRecord[]> {
    return this.billing.listBillingMeters(query);
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

  // 2: feeds with cursors, leak scores, consumer state, alerts.
  //
  // The reads feed. meter_reads is clustered on (meter, ts) for billing, and
  // has no arrival order. A sequence number per read with an index on it
  // would cost a second B-tree insert per read (measured on 1.4M reads in
  // commits of 5,000: ~27% fewer reads/s). Instead each commit records one
  // row per meter it brought new reads for (an arrival group: ~1 row per 24
  // reads, as meters send a day at a time) and stamps the reads with their
  // group's number in a plain, unindexed column (measured: 5-15% fewer
  // reads/s, within the noise of a shared machine). readsAfter walks the groups and fetches
  // each one's reads by a range scan of the primary key, filtered on the
  // stamp (a late read inside an older range belongs to its own group).
  // Reads stored before this migration join the feed as one group per meter
  // and UTC day, in meter order, so a consumer starting at 0 sees them too.
  //
  // Alerts: a partial UNIQUE index allows one not-resolved alert per (source,
  // kind), whatever the code above it does. Device ids are unique across
  // kinds, so the source id alone names the device. alert_events is the audit
  // trail and, read by id (AUTOINCREMENT: never reused), the publisher's feed.
  `ALTER TABLE meter_reads ADD COLUMN arrival INTEGER;
   CREATE TABLE read_arrivals (
     seq INTEGER PRIMARY KEY,
     meter_key INTEGER NOT NULL,
     first_ts INTEGER NOT NULL,
     last_ts INTEGER NOT NULL,
     read_count INTEGER NOT NULL
   );
   INSERT INTO read_arrivals (meter_key, first_ts, last_ts, read_count)
     SELECT meter_key, min(ts), max(ts), count(*) FROM meter_reads GROUP BY meter_key, ts / 86400000 ORDER BY meter_key, ts / 86400000;
   CREATE INDEX read_arrivals_backfill ON read_arrivals (meter_key, first_ts);
   UPDATE meter_reads SET arrival = (
     SELECT a.seq FROM read_arrivals a WHERE a.meter_key = meter_reads.meter_key AND a.first_ts <= meter_reads.ts ORDER BY a.first_ts DESC LIMIT 1
   );
   DROP INDEX read_arrivals_backfill;
   CREATE TABLE leak_scores (
     id INTEGER PRIMARY KEY,
     sensor_key INTEGER NOT NULL,
     window_start INTEGER NOT NULL,
     window_end INTEGER NOT NULL,
     score REAL NOT NULL,
     model_version TEXT NOT NULL,
     UNIQUE (sensor_key, window_start, model_version)
   );
   CREATE TABLE consumer_state (
     name TEXT PRIMARY KEY,
     value TEXT NOT NULL,
     version INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   ) WITHOUT ROWID;
   CREATE TABLE alerts (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     kind TEXT NOT NULL,
     source_kind TEXT NOT NULL CHECK (source_kind IN ('meter', 'sensor')),
     source_id TEXT NOT NULL,
     state TEXT NOT NULL CHECK (state IN ('open', 'acknowledged', 'cleared', 'resolved')),
     raised_at INTEGER NOT NULL,
     last_seen_at INTEGER NOT NULL,
     cleared_at INTEGER,
     acknowledged_at INTEGER,
     acknowledged_by TEXT,
     resolved_at INTEGER,
     resolved_by TEXT,
     resolution TEXT,
     peak_score REAL,
     details TEXT NOT NULL,
     version INTEGER NOT NULL
   );
   CREATE UNIQUE INDEX alerts_one_not_resolved ON alerts (source_id, kind) WHERE state <> 'resolved';
   CREATE INDEX alerts_by_state ON alerts (state, id);
   CREATE TABLE alert_events (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     alert_id INTEGER NOT NULL REFERENCES alerts (id),
     action TEXT NOT NULL CHECK (action IN ('raised', 'updated', 'cleared', 'acknowledged', 'resolved')),
     actor TEXT NOT NULL,
     at INTEGER NOT NULL,
     recorded_at INTEGER NOT NULL,
     details TEXT NOT NULL,
     alert TEXT NOT NULL
   );
   CREATE INDEX alert_events_by_alert ON alert_events (alert_id, id);`,
  API_KEYS_MIGRATION,
  DEVICE_CREDENTIALS_MIGRATION,
  BILLING_MIGRATION,
  // 6: what surrounds a sensor (SENSOR_SITES), for per-site operating points of the leak model.
  `ALTER TABLE devices ADD COLUMN site TEXT;`,
  // 7: a score's band levels (LeakScore.bandLevelsDb), float32 little-endian; null where the model gave none.
  `ALTER TABLE leak_scores ADD COLUMN band_levels_db BLOB;`,
  // 8: where along its main a sensor sits (DeviceRegistration.chainageM): a correlator pair's spacing.
  `ALTER TABLE devices ADD COLUMN chainage_m REAL;`,
  // 9: where along the main a near_prv / near_pump sensor's PRV or pump stands (DeviceRegistration.sourceChainageM).
  `ALTER TABLE devices ADD COLUMN source_chainage_m REAL;`,
];

/** Exported for the migration test only (a database at an older version). */
export { MIGRATIONS };

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
    insertRead: db.prepare('INSERT OR IGNORE INTO meter_reads (meter_key, ts, register_l, flags, received_at, arrival) VALUES (?, ?, ?, ?, ?, ?)'),
    // Replacements share the arrival sequence (sqlite-billing.ts).
    lastArrival: db.prepare(LAST_ARRIVAL_SQL),
    insertArrival: db.prepare('INSERT INTO read_arrivals (seq, meter_key, first_ts, last_ts, read_count) VALUES (?, ?, ?, ?, ?)'),
    arrivalsAfter: db.prepare('SELECT seq, read_count FROM read_arrivals WHERE seq > ? ORDER BY seq LIMIT ?'),
    readsOfArrivals: db.prepare(
      `SELECT d.id AS meter_id, r.ts, r.register_l, r.flags, r.received_at
       FROM read_arrivals a JOIN devices d ON d.key = a.meter_key
       JOIN meter_reads r ON r.meter_key = a.meter_key AND r.ts >= a.first_ts AND r.ts <= a.last_ts AND r.arrival = a.seq
       WHERE a.seq > ? AND a.seq <= ? ORDER BY a.seq, r.ts`,
    ),
    readAtOrBefore: db.prepare(
      `SELECT r.ts, r.register_l, r.flags, r.received_at FROM meter_reads r JOIN devices d ON d.key = r.meter_key
       WHERE d.id = ? AND r.ts <= ? ORDER BY r.ts DESC LIMIT 1`,
    ),
    readAtOrAfter: db.prepare(
      `SELECT r.ts, r.register_l, r.flags, r.received_at FROM meter_reads r JOIN devices d ON d.key = r.meter_key
       WHERE d.id = ? AND r.ts >= ? ORDER BY r.ts LIMIT 1`,
    ),
    framesAfter: db.prepare(
      `SELECT f.id, d.id AS sensor_id, f.start_ms, f.sample_rate_hz, f.gain_db, f.sample_count, f.rms_dbfs, f.clipped_ratio, f.received_at, p.pcm
       FROM acoustic_frames f JOIN devices d ON d.key = f.sensor_key LEFT JOIN frame_pcm p ON p.frame_id = f.id
       WHERE f.id > ? ORDER BY f.id LIMIT ?`,
    ),
    insertScore: db.prepare('INSERT OR IGNORE INTO leak_scores (sensor_key, window_start, window_end, score, model_version, band_levels_db) VALUES (?, ?, ?, ?, ?, ?)'),
    scoresInRange: db.prepare(
      `SELECT s.window_start, s.window_end, s.score, s.model_version, s.band_levels_db FROM leak_scores s JOIN devices d ON d.key = s.sensor_key
       WHERE d.id = ? AND s.window_start >= ? AND s.window_start < ? ORDER BY s.window_start, s.model_version LIMIT ?`,
    ),
    scoresAfter: db.prepare(
      `SELECT s.id, d.id AS sensor_id, s.window_start, s.window_end, s.score, s.model_version, s.band_levels_db
       FROM leak_scores s JOIN devices d ON d.key = s.sensor_key WHERE s.id > ? ORDER BY s.id LIMIT ?`,
    ),
    consumerState: db.prepare('SELECT value, version, updated_at FROM consumer_state WHERE name = ?'),
    putConsumerState: db.prepare(
      `INSERT INTO consumer_state (name, value, version, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET value = excluded.value, version = excluded.version, updated_at = excluded.updated_at`,
    ),
    insertAlert: db.prepare(
      `INSERT INTO alerts (kind, source_kind, source_id, state, raised_at, last_seen_at, cleared_at, acknowledged_at, acknowledged_by,
         resolved_at, resolved_by, resolution, peak_score, details, version)
       VALUES (:kind, :source_kind, :source_id, :state, :raised_at, :last_seen_at, :cleared_at, :acknowledged_at, :acknowledged_by,
         :resolved_at, :resolved_by, :resolution, :peak_score, :details, :version)`,
    ),
    updateAlert: db.prepare(
      `UPDATE alerts SET state = :state, raised_at = :raised_at, last_seen_at = :last_seen_at, cleared_at = :cleared_at,
         acknowledged_at = :acknowledged_at, acknowledged_by = :acknowledged_by, resolved_at = :resolved_at, resolved_by = :resolved_by,
         resolution = :resolution, peak_score = :peak_score, details = :details, version = :version
       WHERE id = :id AND kind = :kind AND source_kind = :source_kind AND source_id = :source_id`,
    ),
    alertById: db.prepare(`SELECT ${ALERT_COLUMNS} FROM alerts WHERE id = ?`),
    openAlertFor: db.prepare(`SELECT ${ALERT_COLUMNS} FROM alerts WHERE source_id = ? AND kind = ? AND state <> 'resolved'`),
    listAlerts: db.prepare(
      `SELECT ${ALERT_COLUMNS} FROM alerts
       WHERE id > :after AND (:states IS NULL OR state IN (SELECT value FROM json_each(:states)))
         AND (:kind IS NULL OR kind = :kind) AND (:source IS NULL OR source_id = :source) AND (:since IS NULL OR raised_at >= :since)
       ORDER BY id LIMIT :limit`,
    ),
    insertAlertEvent: db.prepare(
      'INSERT INTO alert_events (alert_id, action, actor, at, recorded_at, details, alert) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
    alertEvents: db.prepare('SELECT id, alert_id, action, actor, at, recorded_at, details, alert FROM alert_events WHERE alert_id = ? ORDER BY id'),
    latestAlertEventId: db.prepare('SELECT max(id) AS id FROM alert_events'),
    alertEventsAfter: db.prepare('SELECT id, alert_id, action, actor, at, recorded_at, details, alert FROM alert_events WHERE id > ? ORDER BY id LIMIT ?'),
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
       WHERE d.id > :after AND (:kind IS NULL OR d.kind = :kind) AND (:district IS NULL OR d.district = :district)
       ORDER BY d.id LIMIT :limit`,
    ),
    deviceById: db.prepare(`SELECT ${DEVICE_COLUMNS} FROM devices d WHERE d.id = ?`),
    upsertDevice: db.prepare(
      `INSERT INTO devices (id, kind, district, lat, lon, pipe_material, site, pipe_id, chainage_m, source_chainage_m, gateway_id, register_max_l)
       VALUES (:id, :kind, :district, :lat, :lon, :pipe, :site, :pipeId, :chainage, :sourceChainage, :gateway, :registerMaxL)
       ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, district = excluded.district, lat = excluded.lat,
         lon = excluded.lon, pipe_material = excluded.pipe_material, site = excluded.site, pipe_id = excluded.pipe_id,
         chainage_m = excluded.chainage_m, source_chainage_m = excluded.source_chainage_m, gateway_id = excluded.gateway_id, register_max_l = excluded.register_max_l`,
    ),
    deadLetters: db.prepare(
      `SELECT id, received_at, client_id, topic, code, message, payload, payload_bytes FROM dead_letters
       WHERE id > :after AND received_at >= :since AND (:code IS NULL OR code = :code) ORDER BY id LIMIT :limit`,
    ),
  };
}

const ALERT_COLUMNS = `id, kind, source_kind, source_id, state, raised_at, last_seen_at, cleared_at, acknowledged_at, acknowledged_by,
  resolved_at, resolved_by, resolution, peak_score, details, version`;

const DEVICE_COLUMNS = `d.id, d.kind, d.district, d.lat, d.lon, d.pipe_material, d.site, d.pipe_id, d.chainage_m, d.source_chainage_m, d.gateway_id, d.register_max_l, d.first_seen, d.last_seen,
  (SELECT json_object('ts', s.ts, 'batteryPct', s.battery_pct, 'firmware', s.firmware, 'rssiDbm', s.rssi_dbm, 'uptimeS', s.uptime_s)
     FROM device_status s WHERE s.device_key = d.key ORDER BY s.ts DESC LIMIT 1) AS last_status`;

interface DeviceRow extends DeviceColumns {
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

interface ArrivalGroup {
  readonly seq: number;
  firstTs: number;
  lastTs: number;
  count: number;
}
interface ConsumerStateRow {
  value: string;
  version: number;
  updated_at: number;
}
interface AlertRow {
  id: number;
  kind: string;
  source_kind: DeviceKind;
  source_id: string;
  state: AlertState;
  raised_at: number;
  last_seen_at: number;
  cleared_at: number | null;
  acknowledged_at: number | null;
  acknowledged_by: string | null;
  resolved_at: number | null;
  resolved_by: string | null;
  resolution: AlertResolution | null;
  peak_score: number | null;
  details: string;
  version: number;
}
interface AlertEventRow {
  id: number;
  alert_id: number;
  action: AlertAction;
  actor: AlertActor;
  at: number;
  recorded_at: number;
  details: string;
  alert: string;
}

function alertParams(a: NewAlert) {
  return {
    kind: a.kind,
    source_kind: a.sourceKind,
    source_id: a.sourceId,
    state: a.state,
    raised_at: a.raisedAtMs,
    last_seen_at: a.lastSeenAtMs,
    cleared_at: a.clearedAtMs,
    acknowledged_at: a.acknowledgedAtMs,
    acknowledged_by: a.acknowledgedBy,
    resolved_at: a.resolvedAtMs,
    resolved_by: a.resolvedBy,
    resolution: a.resolution,
    peak_score: a.peakScore,
    details: JSON.stringify(a.details),
    version: a.version,
  };
}

function toAlert(r: AlertRow): Alert {
  return {
    id: r.id,
    kind: r.kind,
    sourceKind: r.source_kind,
    sourceId: r.source_id,
    state: r.state,
    raisedAtMs: r.raised_at,
    lastSeenAtMs: r.last_seen_at,
    clearedAtMs: r.cleared_at,
    acknowledgedAtMs: r.acknowledged_at,
    acknowledgedBy: r.acknowledged_by,
    resolvedAtMs: r.resolved_at,
    resolvedBy: r.resolved_by,
    resolution: r.resolution,
    peakScore: r.peak_score,
    details: JSON.parse(r.details) as AlertDetails,
    version: r.version,
  };
}

function toAlertEvent(r: AlertEventRow): AlertEvent {
  return {
    id: r.id,
    alertId: r.alert_id,
    action: r.action,
    actor: r.actor,
    atMs: r.at,
    recordedAtMs: r.recorded_at,
    details: JSON.parse(r.details) as AlertDetails,
    alert: JSON.parse(r.alert) as Alert,
  };
}

/** The last status is a JSON column here (written by the status upsert). */
function toSqliteDevice(r: DeviceRow): DeviceRecord {
  return toDevice(r, r.last_status ? (JSON.parse(r.last_status) as StatusFields) : null);
}
