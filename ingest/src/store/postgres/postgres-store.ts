import type pg from 'pg';
import type { PoolClient } from 'pg';
import type { Logger } from 'pino';
import type { DeviceKind, RejectionCode } from '../../contracts/index.ts';
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
} from '../alert-lifecycle.ts';
import type { ApiKeyEvent, ApiKeyRecord, ApiKeyStore, NewApiKey } from '../api-key-store.ts';
import type { DeviceCredentialStore, DeviceRoute, MqttCredential, MqttCredentialQuery, NewMqttCredential } from '../device-credentials.ts';
import {
  ConsumerStateConflictError,
  StoreInputError,
  type AlertCommit,
  type AlertCommitResult,
  type AlertEventPage,
  type AlertQuery,
  type AppendScoresResult,
  type ArrivalMark,
  type BillingMeterRecord,
  type BracketQuery,
  type CommitResult,
  type ConsumerState,
  type ConsumerStatePut,
  type DeadLetterQuery,
  type DeviceCount,
  type DeviceQuery,
  type DeviceRecord,
  type DeviceRegistration,
  type FramePage,
  type IngestBatch,
  type LeakScore,
  type MeterReplacement,
  type ReadBracket,
  type ReadConflict,
  type ReadPage,
  type ScorePage,
  type Store,
  type StoredDeadLetter,
  type StoredFrame,
  type StoredRead,
  type StoredReplacement,
} from '../store.ts';
import { PgAccess } from './pg-access.ts';
import { PgBilling } from './pg-billing.ts';
import { migrate } from './pg-migrate.ts';
import { POSTGRES_DEFAULTS, newPool, q, redactedUrl, transaction, type PostgresConnection } from './pg-pool.ts';
import { bandLevelsToBytes, flagsToBits, checkCursor, checkScore, toDevice, toFrame, toRead, toScore, type DeviceColumns, type ReadRow, type FrameRow, type ScoreRow } from '../store-rows.ts';

export interface PostgresStoreOptions extends PostgresConnection {
  readonly log?: Logger | undefined;
}

/** The first key of Suido's two-key advisory locks ('SUDC'); the migration's feed-lock trigger uses the same. */
export const FEED_LOCK_CLASS = 1398099267;

/** Ids per registry kind lookup (deviceKinds): one round trip each. */
const KIND_LOOKUP_CHUNK = 5000;

/**
 * The whole Store in PostgreSQL (README: Storage, PostgreSQL): the mutable
 * state a city's services share when they run as several processes on
 * several hosts (alerts and their audit, consumer state, the registry, dead
 * letters, API keys, device credentials, billing replacements), the feeds in
 * commit order, and reads, frames and scores as the embedded store keeps
 * them. With InfluxDB for the series, InfluxStore composes it as its state
 * store and ledger.
 *
 * Races are decided by the database, never by a check in this process: a
 * primary key with ON CONFLICT DO NOTHING deduplicates reads, frames,
 * statuses and scores; a partial unique index allows one not-resolved alert
 * per (source, kind); versions are compared in the UPDATE that writes them,
 * on rows locked with SELECT … FOR UPDATE; feed ids are drawn under a
 * transaction-level advisory lock (the migration says why).
 *
 * Lock order, the same in every transaction so that two never wait on each
 * other: device rows (in id order), then alert rows, then the feed locks in
 * the order dead letters, arrivals (reads and replacements), frames,
 * scores, alert events, API-key events. A feed lock is held from its first
 * insert to COMMIT, so each transaction inserts into feeds last.
 */
export class PostgresStore implements Store, ApiKeyStore, DeviceCredentialStore {
  readonly name: string;
  private readonly pool: pg.Pool;
  private readonly opts: PostgresStoreOptions;
  private readonly access: PgAccess;
  private readonly billing: PgBilling;
  /** Device id → key, for scores (keys never change and devices are never deleted). */
  private readonly deviceKeys = new Map<string, number>();
  private migrated: Promise<void> | undefined;

  constructor(opts: PostgresStoreOptions) {
    this.opts = opts;
    const schema = opts.schema ?? POSTGRES_DEFAULTS.schema;
    this.name = `postgres:${redactedUrl(opts.url)}${schema === POSTGRES_DEFAULTS.schema ? '' : ` (schema ${schema})`}`;
    this.pool = newPool(opts);
    this.access = new PgAccess(this.pool);
    this.billing = new PgBilling(this.pool);
    // Migrations start now, at start-up; every call waits for them. A service that starts while PostgreSQL
    // is down still comes up, reports not ready (ping), and migrates at the next call once it answers.
    this.ready().catch((err: unknown) => opts.log?.warn({ err, store: this.name }, 'postgres: schema migration failed; retried at the next call'));
  }

  /** Resolves once the schema is migrated (the first call runs the migrations; a failure is retried at the next). */
  ready(): Promise<void> {
    this.migrated ??= migrate(this.opts, { log: this.opts.log }).then(
      () => {},
      (err: unknown) => {
        this.migrated = undefined;
        throw err;
      },
    );
    return this.migrated;
  }

  private async tx<T>(fn: (c: PoolClient) => Promise<T>): Promise<T> {
    await this.ready();
    // A rolled-back transaction may have cached keys of devices it created: forget them all.
    return transaction(this.pool, fn, () => this.deviceKeys.clear());
  }

  private async rows<R extends pg.QueryResultRow>(name: string, text: string, values: readonly unknown[]): Promise<R[]> {
    await this.ready();
    return q<R>(this.pool, name, text, values);
  }

  // ---- Ingest ----

  async commit(batch: IngestBatch): Promise<CommitResult> {
    return this.tx(async (c) => {
      const now = batch.receivedAtMs;
      // Every device this batch speaks for: the first kind named wins for a new device (reads, frames, statuses).
      const seen = new Map<string, DeviceKind>();
      for (const r of batch.reads) if (!seen.has(r.meterId)) seen.set(r.meterId, 'meter');
      for (const f of batch.frames) if (!seen.has(f.sensorId)) seen.set(f.sensorId, 'sensor');
      for (const s of batch.statuses) if (!seen.has(s.deviceId)) seen.set(s.deviceId, s.deviceKind);
      const keys = await touchDevices(c, seen, now);

      if (batch.statuses.length > 0) {
        const st = batch.statuses;
        await q(
          c,
          'pg-insert-status',
          `INSERT INTO device_status (device_key, ts, battery_pct, firmware, rssi_dbm, uptime_s)
           SELECT * FROM unnest($1::integer[], $2::bigint[], $3::float8[], $4::text[], $5::float8[], $6::bigint[]) ORDER BY 1, 2
           ON CONFLICT DO NOTHING`,
          [
            st.map((s) => keys.get(s.deviceId)!),
            st.map((s) => s.ts),
            st.map((s) => s.batteryPct ?? null),
            st.map((s) => (s.firmware === undefined ? null : pgText(s.firmware))),
            st.map((s) => s.rssiDbm ?? null),
            st.map((s) => s.uptimeS ?? null),
          ],
        );
      }

      // Feeds from here on, in lock order: dead letters, reads (arrivals), frames.
      if (batch.deadLetters.length > 0) {
        const dl = batch.deadLetters;
        await q(
          c,
          'pg-insert-dead-letters',
          `INSERT INTO dead_letters (received_at, client_id, topic, code, message, payload, payload_bytes)
           SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bytea[], $7::integer[])`,
          [
            dl.map((d) => d.receivedAtMs),
            dl.map((d) => (d.clientId === null ? null : pgText(d.clientId))),
            dl.map((d) => pgText(d.topic)),
            dl.map((d) => d.code),
            dl.map((d) => pgText(d.message)),
            dl.map((d) => Buffer.from(d.payload.buffer, d.payload.byteOffset, d.payload.byteLength)),
            dl.map((d) => d.payloadBytes),
          ],
        );
      }

      const reads = batch.reads.length > 0 ? await insertReads(c, batch, keys) : { readsInserted: 0, readsDuplicate: 0, conflicts: [] };
      const frames = batch.frames.length > 0 ? await insertFrames(c, batch, keys) : 0;
      return { ...reads, framesInserted: frames, framesDuplicate: batch.frames.length - frames };
    });
  }

  async readsInRange(meterId: string, fromMs: number, toMs: number, limit: number): Promise<StoredRead[]> {
    const rows = await this.rows<ReadRow>(
      'pg-reads-in-range',
      `SELECT ts, register_l, flags, received_at FROM meter_reads
       WHERE meter_key = (SELECT key FROM devices WHERE id = $1) AND ts >= $2 AND ts < $3 ORDER BY ts LIMIT $4`,
      [meterId, fromMs, toMs, limit],
    );
    return rows.map((r) => toRead(meterId, r));
  }

  async latestRead(meterId: string): Promise<StoredRead | undefined> {
    const [row] = await this.rows<ReadRow>(
      'pg-latest-read',
      'SELECT ts, register_l, flags, received_at FROM meter_reads WHERE meter_key = (SELECT key FROM devices WHERE id = $1) ORDER BY ts DESC LIMIT 1',
      [meterId],
    );
    return row && toRead(meterId, row);
  }

  async readAtOrBefore(meterId: string, atMs: number): Promise<StoredRead | undefined> {
    const [row] = await this.rows<ReadRow>(
      'pg-read-at-or-before',
      `SELECT ts, register_l, flags, received_at FROM meter_reads
       WHERE meter_key = (SELECT key FROM devices WHERE id = $1) AND ts <= $2 ORDER BY ts DESC LIMIT 1`,
      [meterId, atMs],
    );
    return row && toRead(meterId, row);
  }

  async readAtOrAfter(meterId: string, atMs: number): Promise<StoredRead | undefined> {
    const [row] = await this.rows<ReadRow>(
      'pg-read-at-or-after',
      `SELECT ts, register_l, flags, received_at FROM meter_reads
       WHERE meter_key = (SELECT key FROM devices WHERE id = $1) AND ts >= $2 ORDER BY ts LIMIT 1`,
      [meterId, atMs],
    );
    return row && toRead(meterId, row);
  }

  async framesInRange(sensorId: string, fromMs: number, toMs: number, limit: number): Promise<StoredFrame[]> {
    const rows = await this.rows<FrameRow>(
      'pg-frames-in-range',
      `SELECT f.start_ms, f.sample_rate_hz, f.gain_db, f.sample_count, f.rms_dbfs, f.clipped_ratio, f.received_at, p.pcm
       FROM acoustic_frames f LEFT JOIN frame_pcm p ON p.frame_id = f.id
       WHERE f.sensor_key = (SELECT key FROM devices WHERE id = $1) AND f.start_ms >= $2 AND f.start_ms < $3 ORDER BY f.start_ms LIMIT $4`,
      [sensorId, fromMs, toMs, limit],
    );
    return rows.map((r) => toFrame(sensorId, r));
  }

  async prunePcm(olderThanMs: number): Promise<number> {
    await this.ready();
    // From the PCM table (only the retained days) to each frame by its primary key.
    const res = await this.pool.query('DELETE FROM frame_pcm p USING acoustic_frames f WHERE f.id = p.frame_id AND f.start_ms < $1', [olderThanMs]);
    return res.rowCount ?? 0;
  }

  // ---- Registry ----

  async listDevices(query: DeviceQuery): Promise<DeviceRecord[]> {
    await this.ready();
    const where = ['d.id > $1'];
    const values: unknown[] = [query.afterId ?? ''];
    if (query.kind !== undefined) where.push(`d.kind = $${values.push(query.kind)}`);
    if (query.district !== undefined) where.push(`d.district = $${values.push(query.district)}`);
    const { rows } = await this.pool.query<DeviceRow>(
      `SELECT ${DEVICE_COLUMNS} FROM devices d ${LAST_STATUS_JOIN} WHERE ${where.join(' AND ')} ORDER BY d.id LIMIT $${values.push(query.limit)}`,
      values,
    );
    return rows.map(toPgDevice);
  }

  async getDevice(id: string): Promise<DeviceRecord | undefined> {
    const [row] = await this.rows<DeviceRow>('pg-device-by-id', `SELECT ${DEVICE_COLUMNS} FROM devices d ${LAST_STATUS_JOIN} WHERE d.id = $1`, [id]);
    return row && toPgDevice(row);
  }

  async deviceKinds(ids: readonly string[]): Promise<Map<string, DeviceKind>> {
    const kinds = new Map<string, DeviceKind>();
    for (let i = 0; i < ids.length; i += KIND_LOOKUP_CHUNK) {
      const rows = await this.rows<{ id: string; kind: DeviceKind }>('pg-device-kinds', 'SELECT id, kind FROM devices WHERE id = ANY($1::text[])', [ids.slice(i, i + KIND_LOOKUP_CHUNK)]);
      for (const row of rows) kinds.set(row.id, row.kind);
    }
    return kinds;
  }

  async upsertDevices(devices: readonly DeviceRegistration[]): Promise<void> {
    if (devices.length === 0) return;
    // One row per id (the last registration of an id wins, as upserting them one by one would), in id order: the lock order.
    const byId = new Map<string, DeviceRegistration>();
    for (const d of devices) byId.set(d.id, d);
    const list = [...byId.values()];
    await this.tx(async (c) => {
      await c.query(
        `INSERT INTO devices (id, kind, district, lat, lon, pipe_material, pipe_id, gateway_id, register_max_l, site, chainage_m, source_chainage_m)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[], $5::float8[], $6::text[], $7::text[], $8::text[], $9::bigint[], $10::text[], $11::float8[], $12::float8[])
           AS t(id, kind, district, lat, lon, pipe_material, pipe_id, gateway_id, register_max_l, site, chainage_m, source_chainage_m) ORDER BY id COLLATE "C"
         ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, district = excluded.district, lat = excluded.lat, lon = excluded.lon,
           pipe_material = excluded.pipe_material, pipe_id = excluded.pipe_id, gateway_id = excluded.gateway_id, register_max_l = excluded.register_max_l,
           site = excluded.site, chainage_m = excluded.chainage_m, source_chainage_m = excluded.source_chainage_m`,
        [
          list.map((d) => d.id),
          list.map((d) => d.kind),
          list.map((d) => d.district ?? null),
          list.map((d) => d.lat ?? null),
          list.map((d) => d.lon ?? null),
          list.map((d) => d.pipeMaterial ?? null),
          list.map((d) => d.pipeId ?? null),
          list.map((d) => d.gatewayId ?? null),
          list.map((d) => d.registerMaxL ?? null),
          list.map((d) => d.site ?? null),
          list.map((d) => d.chainageM ?? null),
          list.map((d) => d.sourceChainageM ?? null),
        ],
      );
    });
  }

  async deadLetters(query: DeadLetterQuery): Promise<StoredDeadLetter[]> {
    const rows = await this.rows<DeadLetterRow>(
      'pg-dead-letters',
      `SELECT id, received_at, client_id, topic, code, message, payload, payload_bytes FROM dead_letters
       WHERE id > $1 AND received_at >= $2 AND ($3::text IS NULL OR code = $3) ORDER BY id LIMIT $4`,
      [query.afterId ?? 0, query.sinceMs ?? 0, query.code ?? null, query.limit],
    );
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

  // ---- Feeds ----

  async framesAfter(cursor: number, limit: number): Promise<FramePage> {
    checkCursor(cursor, limit);
    const rows = await this.rows<FrameRow & { id: number; sensor_id: string }>(
      'pg-frames-after',
      `SELECT f.id, d.id AS sensor_id, f.start_ms, f.sample_rate_hz, f.gain_db, f.sample_count, f.rms_dbfs, f.clipped_ratio, f.received_at, p.pcm
       FROM acoustic_frames f JOIN devices d ON d.key = f.sensor_key LEFT JOIN frame_pcm p ON p.frame_id = f.id
       WHERE f.id > $1 ORDER BY f.id LIMIT $2`,
      [cursor, limit],
    );
    return { frames: rows.map((r) => toFrame(r.sensor_id, r)), cursor: rows.length > 0 ? rows[rows.length - 1]!.id : cursor };
  }

  async readsAfter(cursor: number, limit: number): Promise<ReadPage> {
    checkCursor(cursor, limit);
    const groups = await this.rows<{ seq: number; read_count: number }>(
      'pg-arrivals-after',
      'SELECT seq, read_count FROM read_arrivals WHERE seq > $1 ORDER BY seq LIMIT $2',
      [cursor, limit],
    );
    let total = 0;
    let last = cursor;
    for (const g of groups) {
      if (total > 0 && total + g.read_count > limit) break;
      total += g.read_count;
      last = g.seq;
    }
    if (last === cursor) return { reads: [], cursor };
    // Every group up to `last` is committed (feed order), so this second statement sees exactly them.
    const rows = await this.rows<ReadRow & { meter_id: string }>(
      'pg-reads-of-arrivals',
      `SELECT d.id AS meter_id, r.ts, r.register_l, r.flags, r.received_at
       FROM read_arrivals a JOIN devices d ON d.key = a.meter_key
       JOIN meter_reads r ON r.meter_key = a.meter_key AND r.ts >= a.first_ts AND r.ts <= a.last_ts AND r.arrival = a.seq
       WHERE a.seq > $1 AND a.seq <= $2 ORDER BY a.seq, r.ts`,
      [cursor, last],
    );
    return { reads: rows.map((r) => toRead(r.meter_id, r)), cursor: last };
  }

  // ---- Scores ----

  async appendScores(scores: readonly LeakScore[]): Promise<AppendScoresResult> {
    for (const s of scores) checkScore(s);
    if (scores.length === 0) return { inserted: 0, duplicate: 0 };
    return this.tx(async (c) => {
      const keys = await this.sensorKeys(c, scores.map((s) => s.sensorId));
      const inserted = await q(
        c,
        'pg-insert-scores',
        `INSERT INTO leak_scores (sensor_key, window_start, window_end, score, model_version, band_levels_db)
         SELECT * FROM unnest($1::integer[], $2::bigint[], $3::bigint[], $4::float8[], $5::text[], $6::bytea[])
         ON CONFLICT DO NOTHING RETURNING 1`,
        [
          scores.map((s) => keys.get(s.sensorId)!),
          scores.map((s) => s.windowStartMs),
          scores.map((s) => s.windowEndMs),
          scores.map((s) => s.score),
          scores.map((s) => s.modelVersion),
          scores.map((s) => bandLevelsToBytes(s.bandLevelsDb)),
        ],
      );
      return { inserted: inserted.length, duplicate: scores.length - inserted.length };
    });
  }

  /** Keys of sensors that scores name, registering unknown ones (not "seen": the sensor sent nothing itself). */
  private async sensorKeys(c: PoolClient, ids: readonly string[]): Promise<Map<string, number>> {
    const keys = new Map<string, number>();
    const missing = new Set<string>();
    for (const id of ids) {
      const k = this.deviceKeys.get(id);
      if (k === undefined) missing.add(id);
      else keys.set(id, k);
    }
    if (missing.size > 0) {
      const list = [...missing];
      await q(c, 'pg-insert-sensors', `INSERT INTO devices (id, kind) SELECT id, 'sensor' FROM unnest($1::text[]) AS t(id) ORDER BY id COLLATE "C" ON CONFLICT (id) DO NOTHING`, [list]);
      for (const r of await q<{ key: number; id: string }>(c, 'pg-device-keys', 'SELECT key, id FROM devices WHERE id = ANY($1::text[])', [list])) {
        keys.set(r.id, r.key);
        this.deviceKeys.set(r.id, r.key);
      }
    }
    return keys;
  }

  async scoresInRange(sensorId: string, fromMs: number, toMs: number, limit: number): Promise<LeakScore[]> {
    const rows = await this.rows<ScoreRow>(
      'pg-scores-in-range',
      `SELECT window_start, window_end, score, model_version, band_levels_db FROM leak_scores
       WHERE sensor_key = (SELECT key FROM devices WHERE id = $1) AND window_start >= $2 AND window_start < $3
       ORDER BY window_start, model_version LIMIT $4`,
      [sensorId, fromMs, toMs, limit],
    );
    return rows.map((r) => toScore(sensorId, r));
  }

  async scoresAfter(cursor: number, limit: number): Promise<ScorePage> {
    checkCursor(cursor, limit);
    const rows = await this.rows<ScoreRow & { id: number; sensor_id: string }>(
      'pg-scores-after',
      `SELECT s.id, d.id AS sensor_id, s.window_start, s.window_end, s.score, s.model_version, s.band_levels_db
       FROM leak_scores s JOIN devices d ON d.key = s.sensor_key WHERE s.id > $1 ORDER BY s.id LIMIT $2`,
      [cursor, limit],
    );
    return { scores: rows.map((r) => toScore(r.sensor_id, r)), cursor: rows.length > 0 ? rows[rows.length - 1]!.id : cursor };
  }

  // ---- Consumer state ----

  async getConsumerState(name: string): Promise<ConsumerState | undefined> {
    const [row] = await this.rows<{ value: unknown; version: number; updated_at: number }>(
      'pg-consumer-state',
      'SELECT value, version, updated_at FROM consumer_state WHERE name = $1',
      [name],
    );
    return row && { name, value: row.value, version: row.version, updatedAtMs: row.updated_at };
  }

  async putConsumerState(name: string, value: unknown, expectedVersion?: number): Promise<number> {
    await this.ready();
    return writeConsumerState(this.pool, { name, value, expectedVersion }, Date.now());
  }

  // ---- Alerts ----

  async commitAlertChanges(commit: AlertCommit): Promise<AlertCommitResult> {
    for (const change of commit.changes) checkAlertChange(change);
    const recordedAtMs = commit.recordedAtMs ?? Date.now();
    return this.tx(async (c): Promise<AlertCommitResult> => {
      const stateVersions: Record<string, number> = {};
      for (const put of commit.states) stateVersions[put.name] = await writeConsumerState(c, put, recordedAtMs);
      // Alert rows first (locked, changed), the events after them: the feed lock comes last.
      const pending: { alert: Alert; action: AlertAction; atMs: number; details: AlertDetails }[] = [];
      for (const change of commit.changes) {
        for (let attempt = 1; ; attempt++) {
          const current = await lockOpenAlert(c, change.sourceId, change.kind);
          const t = applyDetectorChange(current, change);
          if (t.kind === 'none') break;
          if (t.kind === 'update') {
            await updateAlert(c, t.alert, current!.version);
            if (t.action !== null) pending.push({ alert: t.alert, action: t.action, atMs: change.atMs, details: t.eventDetails });
            break;
          }
          const id = await insertAlert(c, t.alert);
          if (id !== undefined) {
            pending.push({ alert: { id, ...t.alert }, action: t.action, atMs: change.atMs, details: t.eventDetails });
            break;
          }
          // Another transaction committed a not-resolved alert for this subject since the lookup (the unique
          // index decided): apply the change to that alert instead. It cannot vanish again (only a resolve
          // ends it, and then the lookup finds none and the insert succeeds), so this ends.
          if (attempt >= 5) throw new Error(`alert for ${change.sourceId}/${change.kind} kept changing under this commit`);
        }
      }
      const events: AlertEvent[] = [];
      for (const p of pending) events.push(await recordEvent(c, p.alert, p.action, commit.actor, p.atMs, recordedAtMs, p.details));
      return { events, stateVersions };
    });
  }

  async acknowledgeAlert(request: AlertUserAction): Promise<Alert> {
    return this.userAction(request, { action: 'acknowledge' });
  }

  async resolveAlert(request: AlertUserAction & { readonly resolution: AlertResolution }): Promise<Alert> {
    return this.userAction(request, { action: 'resolve', resolution: request.resolution });
  }

  /**
   * The row is locked (FOR UPDATE) before its version is compared, so of two
   * crews acting on one version, the second waits for the first's commit,
   * reads the new version and is refused (ALERT_VERSION_CONFLICT); the
   * UPDATE repeats the comparison.
   */
  private async userAction(request: AlertUserAction, what: UserAlertAction): Promise<Alert> {
    return this.tx(async (c) => {
      const [row] = await q<AlertRow>(c, 'pg-alert-for-update', `SELECT ${ALERT_COLUMNS} FROM alerts WHERE id = $1 FOR UPDATE`, [request.id]);
      const t = applyUserAction(row && toAlert(row), request, what);
      await updateAlert(c, t.alert, request.expectedVersion);
      await recordEvent(c, t.alert, t.action, `user:${request.by}`, request.atMs, Date.now(), t.eventDetails);
      return t.alert;
    });
  }

  async getAlert(id: number): Promise<Alert | undefined> {
    if (!Number.isSafeInteger(id)) return undefined;
    const [row] = await this.rows<AlertRow>('pg-alert-by-id', `SELECT ${ALERT_COLUMNS} FROM alerts WHERE id = $1`, [id]);
    return row && toAlert(row);
  }

  async listAlerts(query: AlertQuery): Promise<Alert[]> {
    await this.ready();
    const where = ['id > $1'];
    const values: unknown[] = [query.afterId ?? 0];
    if (query.state !== undefined) where.push(`state = ANY($${values.push(typeof query.state === 'string' ? [query.state] : [...query.state])}::text[])`);
    if (query.kind !== undefined) where.push(`kind = $${values.push(query.kind)}`);
    if (query.sourceId !== undefined) where.push(`source_id = $${values.push(query.sourceId)}`);
    if (query.sinceMs !== undefined) where.push(`raised_at >= $${values.push(query.sinceMs)}`);
    const { rows } = await this.pool.query<AlertRow>(`SELECT ${ALERT_COLUMNS} FROM alerts WHERE ${where.join(' AND ')} ORDER BY id LIMIT $${values.push(query.limit)}`, values);
    return rows.map(toAlert);
  }

  async alertEvents(alertId: number): Promise<AlertEvent[]> {
    const rows = await this.rows<AlertEventRow>('pg-alert-events', `SELECT ${EVENT_COLUMNS} FROM alert_events WHERE alert_id = $1 ORDER BY id`, [alertId]);
    return rows.map(toAlertEvent);
  }

  async alertEventsAfter(cursor: number, limit: number): Promise<AlertEventPage> {
    checkCursor(cursor, limit);
    const rows = await this.rows<AlertEventRow>('pg-alert-events-after', `SELECT ${EVENT_COLUMNS} FROM alert_events WHERE id > $1 ORDER BY id LIMIT $2`, [cursor, limit]);
    const events = rows.map(toAlertEvent);
    return { events, cursor: events.length > 0 ? events[events.length - 1]!.id : cursor };
  }

  async latestAlertEventId(): Promise<number> {
    const [row] = await this.rows<{ id: number }>('pg-latest-alert-event', 'SELECT coalesce(max(id), 0) AS id FROM alert_events', []);
    return row!.id;
  }

  async openAlertFor(sourceId: string, kind: string): Promise<Alert | undefined> {
    const [row] = await this.rows<AlertRow>('pg-open-alert', `SELECT ${ALERT_COLUMNS} FROM alerts WHERE source_id = $1 AND kind = $2 AND state <> 'resolved'`, [sourceId, kind]);
    return row && toAlert(row);
  }

  // ---- Billing (pg-billing.ts) ----

  async readBrackets(queries: readonly BracketQuery[], asOf?: number): Promise<ReadBracket[]> {
    await this.ready();
    return this.billing.readBrackets(queries, asOf);
  }
  async arrivalMark(atOrBelow?: number): Promise<ArrivalMark> {
    await this.ready();
    return this.billing.arrivalMark(atOrBelow);
  }
  async recordReplacement(replacement: MeterReplacement): Promise<{ readonly replacement: StoredReplacement; readonly created: boolean }> {
    await this.ready();
    return this.billing.recordReplacement(replacement);
  }
  async replacementsOf(meterIds: readonly string[], asOf?: number): Promise<StoredReplacement[]> {
    await this.ready();
    return this.billing.replacementsOf(meterIds, asOf);
  }
  async countDevices(query: DeviceQuery): Promise<DeviceCount> {
    await this.ready();
    return this.billing.countDevices(query);
  }
  async listBillingMeters(query: Omit<DeviceQuery, 'kind'>): Promise<BillingMeterRecord[]> {
    await this.ready();
    return this.billing.listBillingMeters(query);
  }

  // ---- API keys and MQTT credentials (pg-access.ts) ----

  async createApiKey(key: NewApiKey): Promise<ApiKeyRecord> {
    await this.ready();
    return this.access.createApiKey(key);
  }
  async apiKeyByHash(secretHash: string): Promise<ApiKeyRecord | undefined> {
    await this.ready();
    return this.access.apiKeyByHash(secretHash);
  }
  async listApiKeys(): Promise<ApiKeyRecord[]> {
    await this.ready();
    return this.access.listApiKeys();
  }
  async revokeApiKey(id: number, by: string, atMs: number): Promise<{ readonly key: ApiKeyRecord; readonly revokedNow: boolean } | undefined> {
    await this.ready();
    return this.access.revokeApiKey(id, by, atMs);
  }
  async touchApiKey(id: number, atMs: number): Promise<void> {
    await this.ready();
    return this.access.touchApiKey(id, atMs);
  }
  async apiKeyEvents(afterId: number, limit: number): Promise<ApiKeyEvent[]> {
    await this.ready();
    return this.access.apiKeyEvents(afterId, limit);
  }
  async issueMqttCredential(credential: NewMqttCredential): Promise<MqttCredential> {
    await this.ready();
    return this.access.issueMqttCredential(credential);
  }
  async liveMqttCredential(username: string): Promise<MqttCredential | undefined> {
    await this.ready();
    return this.access.liveMqttCredential(username);
  }
  async revokeMqttCredential(username: string, atMs: number): Promise<boolean> {
    await this.ready();
    return this.access.revokeMqttCredential(username, atMs);
  }
  async listMqttCredentials(query: MqttCredentialQuery): Promise<MqttCredential[]> {
    await this.ready();
    return this.access.listMqttCredentials(query);
  }
  async deviceRoute(deviceId: string): Promise<DeviceRoute | undefined> {
    await this.ready();
    return this.access.deviceRoute(deviceId);
  }

  async ping(): Promise<void> {
    await this.ready();
    await this.pool.query('SELECT 1');
  }

  async close(): Promise<void> {
    // A migration in flight runs on its own connection: let it finish (or fail) first.
    await this.migrated?.catch(() => {});
    if (!this.pool.ended) await this.pool.end();
  }
}

// ---- Ingest helpers ----

/**
 * Registers the devices a batch speaks for and moves their last-seen time,
 * in one statement in id order (COLLATE "C"): the row locks of two
 * concurrent commits (or a commit and a registry import) are taken in one
 * order and cannot deadlock. Returns every device's key.
 */
async function touchDevices(c: PoolClient, seen: ReadonlyMap<string, DeviceKind>, atMs: number): Promise<Map<string, number>> {
  const keys = new Map<string, number>();
  if (seen.size === 0) return keys;
  const rows = await q<{ key: number; id: string }>(
    c,
    'pg-touch-devices',
    `INSERT INTO devices (id, kind, first_seen, last_seen)
     SELECT id, kind, $3, $3 FROM unnest($1::text[], $2::text[]) AS t(id, kind) ORDER BY id COLLATE "C"
     ON CONFLICT (id) DO UPDATE SET last_seen = greatest(devices.last_seen, excluded.last_seen), first_seen = coalesce(devices.first_seen, excluded.first_seen)
     RETURNING key, id`,
    [[...seen.keys()], [...seen.values()], atMs],
  );
  for (const r of rows) keys.set(r.id, r.key);
  return keys;
}

interface ArrivalGroup {
  readonly key: number;
  seq: number;
  firstTs: number;
  lastTs: number;
  count: number;
}

/**
 * Each meter's new reads in this commit form one arrival group (the reads
 * feed), numbered from arrival_seq under the arrivals feed lock, in the
 * order the meters first appear in the batch. The insert is the
 * deduplication: the first read of a (meter, ts), stored or earlier in the
 * batch, stands; a later one with another register is a conflict.
 */
async function insertReads(c: PoolClient, batch: IngestBatch, keys: ReadonlyMap<string, number>): Promise<Pick<CommitResult, 'readsInserted' | 'readsDuplicate' | 'conflicts'>> {
  const groups = new Map<number, ArrivalGroup>();
  for (const r of batch.reads) {
    const key = keys.get(r.meterId)!;
    if (!groups.has(key)) groups.set(key, { key, seq: 0, firstTs: Infinity, lastTs: -Infinity, count: 0 });
  }
  await q(c, 'pg-lock-arrivals', 'SELECT pg_advisory_xact_lock($1, $2::regclass::oid::integer)', [FEED_LOCK_CLASS, 'read_arrivals']);
  const seqs = await q<{ seq: number }>(c, 'pg-next-arrivals', "SELECT nextval('arrival_seq') AS seq FROM generate_series(1, $1) ORDER BY 1", [groups.size]);
  let i = 0;
  for (const g of groups.values()) g.seq = seqs[i++]!.seq;

  const reads = batch.reads;
  const readKeys = reads.map((r) => keys.get(r.meterId)!);
  const inserted = await q<{ meter_key: number; ts: number }>(
    c,
    'pg-insert-reads',
    `INSERT INTO meter_reads (meter_key, ts, register_l, flags, received_at, arrival)
     SELECT k, ts, reg, fl, $5, arr FROM unnest($1::integer[], $2::bigint[], $3::bigint[], $4::integer[], $6::bigint[]) AS t(k, ts, reg, fl, arr)
     ON CONFLICT DO NOTHING RETURNING meter_key, ts`,
    [readKeys, reads.map((r) => r.ts), reads.map((r) => r.registerL), reads.map((r) => flagsToBits(r.flags)), batch.receivedAtMs, readKeys.map((k) => groups.get(k)!.seq)],
  );
  const fresh = new Set(inserted.map((r) => `${r.meter_key}/${r.ts}`));
  let readsInserted = 0;
  const others: number[] = [];
  for (let j = 0; j < reads.length; j++) {
    const id = `${readKeys[j]}/${reads[j]!.ts}`;
    // The first of a (meter, ts) in batch order is the one inserted (rows are inserted in array order).
    if (fresh.delete(id)) {
      readsInserted++;
      const g = groups.get(readKeys[j]!)!;
      g.count++;
      if (reads[j]!.ts < g.firstTs) g.firstTs = reads[j]!.ts;
      if (reads[j]!.ts > g.lastTs) g.lastTs = reads[j]!.ts;
    } else {
      others.push(j);
    }
  }
  let readsDuplicate = 0;
  const conflicts: ReadConflict[] = [];
  if (others.length > 0) {
    const stored = await q<{ meter_key: number; ts: number; register_l: number }>(
      c,
      'pg-stored-registers',
      'SELECT r.meter_key, r.ts, r.register_l FROM meter_reads r JOIN unnest($1::integer[], $2::bigint[]) AS t(k, ts) ON r.meter_key = t.k AND r.ts = t.ts',
      [others.map((j) => readKeys[j]), others.map((j) => reads[j]!.ts)],
    );
    const registers = new Map(stored.map((s) => [`${s.meter_key}/${s.ts}`, s.register_l]));
    for (const j of others) {
      const storedRegisterL = registers.get(`${readKeys[j]}/${reads[j]!.ts}`)!;
      if (storedRegisterL === reads[j]!.registerL) readsDuplicate++;
      else conflicts.push({ index: j, storedRegisterL });
    }
  }
  // A group of duplicates only stays out of the feed (its number is skipped: cursors compare, never count).
  const news = [...groups.values()].filter((g) => g.count > 0);
  if (news.length > 0) {
    await q(
      c,
      'pg-insert-arrivals',
      'INSERT INTO read_arrivals (seq, meter_key, first_ts, last_ts, read_count) SELECT * FROM unnest($1::bigint[], $2::integer[], $3::bigint[], $4::bigint[], $5::integer[])',
      [news.map((g) => g.seq), news.map((g) => g.key), news.map((g) => g.firstTs), news.map((g) => g.lastTs), news.map((g) => g.count)],
    );
  }
  return { readsInserted, readsDuplicate, conflicts };
}

/** Frames new by (sensor, start), ids in batch order (the frames feed lock is taken by the insert's trigger); then their PCM. */
async function insertFrames(c: PoolClient, batch: IngestBatch, keys: ReadonlyMap<string, number>): Promise<number> {
  const frames = batch.frames;
  const frameKeys = frames.map((f) => keys.get(f.sensorId)!);
  const inserted = await q<{ id: number; sensor_key: number; start_ms: number }>(
    c,
    'pg-insert-frames',
    `INSERT INTO acoustic_frames (sensor_key, start_ms, sample_rate_hz, gain_db, sample_count, rms_dbfs, clipped_ratio, received_at)
     SELECT k, s, sr, g, n, rms, cl, $8 FROM unnest($1::integer[], $2::bigint[], $3::integer[], $4::float8[], $5::integer[], $6::float8[], $7::float8[]) AS t(k, s, sr, g, n, rms, cl)
     ON CONFLICT DO NOTHING RETURNING id, sensor_key, start_ms`,
    [
      frameKeys,
      frames.map((f) => f.startMs),
      frames.map((f) => f.sampleRateHz),
      frames.map((f) => f.gainDb),
      frames.map((f) => f.samples.length),
      frames.map((f) => f.summary.rmsDbfs),
      frames.map((f) => f.summary.clippedRatio),
      batch.receivedAtMs,
    ],
  );
  if (inserted.length === 0) return 0;
  const ids = new Map(inserted.map((r) => [`${r.sensor_key}/${r.start_ms}`, r.id]));
  const pcmIds: number[] = [];
  const pcm: Buffer[] = [];
  for (let j = 0; j < frames.length; j++) {
    const id = `${frameKeys[j]}/${frames[j]!.startMs}`;
    const frameId = ids.get(id);
    if (frameId === undefined) continue;
    ids.delete(id); // the first frame of a (sensor, start) in the batch is the one stored
    const s = frames[j]!.samples;
    pcmIds.push(frameId);
    pcm.push(Buffer.from(s.buffer, s.byteOffset, s.byteLength));
  }
  await q(c, 'pg-insert-pcm', 'INSERT INTO frame_pcm (frame_id, pcm) SELECT * FROM unnest($1::bigint[], $2::bytea[])', [pcmIds, pcm]);
  return inserted.length;
}

// ---- Consumer state and alerts ----

/**
 * One consumer document, fenced by its version in the statement that writes
 * it: `expectedVersion` 0 inserts only if absent (a concurrent insert waits
 * for the first and then finds it), n updates only the row still at n (a
 * concurrent update waits for the first's row lock, then re-checks the
 * version and matches nothing). No read-then-write in the process.
 */
async function writeConsumerState(c: pg.Pool | PoolClient, put: ConsumerStatePut, nowMs: number): Promise<number> {
  if (put.name.length === 0 || put.name.length > 200) throw new StoreInputError('a consumer state name is 1 to 200 characters');
  const json = JSON.stringify(put.value);
  if (json === undefined) throw new StoreInputError(`consumer state '${put.name}' is not JSON`);
  let rows: { version: number }[];
  if (put.expectedVersion === undefined) {
    rows = await q(
      c,
      'pg-put-state',
      `INSERT INTO consumer_state (name, value, version, updated_at) VALUES ($1, $2::json, 1, $3)
       ON CONFLICT (name) DO UPDATE SET value = excluded.value, version = consumer_state.version + 1, updated_at = excluded.updated_at RETURNING version`,
      [put.name, json, nowMs],
    );
  } else if (put.expectedVersion === 0) {
    rows = await q(c, 'pg-create-state', 'INSERT INTO consumer_state (name, value, version, updated_at) VALUES ($1, $2::json, 1, $3) ON CONFLICT (name) DO NOTHING RETURNING version', [
      put.name,
      json,
      nowMs,
    ]);
  } else {
    rows = await q(c, 'pg-update-state', 'UPDATE consumer_state SET value = $2::json, version = version + 1, updated_at = $3 WHERE name = $1 AND version = $4 RETURNING version', [
      put.name,
      json,
      nowMs,
      put.expectedVersion,
    ]);
  }
  if (rows.length === 1) return rows[0]!.version;
  const [now] = await q<{ version: number }>(c, 'pg-state-version', 'SELECT version FROM consumer_state WHERE name = $1', [put.name]);
  throw new ConsumerStateConflictError(put.name, put.expectedVersion!, now?.version ?? 0);
}

async function lockOpenAlert(c: PoolClient, sourceId: string, kind: string): Promise<Alert | undefined> {
  const [row] = await q<AlertRow>(c, 'pg-open-alert-for-update', `SELECT ${ALERT_COLUMNS} FROM alerts WHERE source_id = $1 AND kind = $2 AND state <> 'resolved' FOR UPDATE`, [
    sourceId,
    kind,
  ]);
  return row && toAlert(row);
}

/** The new alert's id, or undefined when the partial unique index found a not-resolved alert of the subject committed meanwhile. */
async function insertAlert(c: PoolClient, a: NewAlert): Promise<number | undefined> {
  const [row] = await q<{ id: number }>(
    c,
    'pg-insert-alert',
    `INSERT INTO alerts (kind, source_kind, source_id, state, raised_at, last_seen_at, cleared_at, acknowledged_at, acknowledged_by,
       resolved_at, resolved_by, resolution, peak_score, details, version)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14::jsonb, $15)
     ON CONFLICT (source_id, kind) WHERE state <> 'resolved' DO NOTHING RETURNING id`,
    alertValues(a),
  );
  return row?.id;
}

async function updateAlert(c: PoolClient, a: Alert, fromVersion: number): Promise<void> {
  const res = await c.query({
    name: 'pg-update-alert',
    text: `UPDATE alerts SET state = $4, raised_at = $5, last_seen_at = $6, cleared_at = $7, acknowledged_at = $8, acknowledged_by = $9,
             resolved_at = $10, resolved_by = $11, resolution = $12, peak_score = $13, details = $14::jsonb, version = $15
           WHERE id = $16 AND version = $17 AND kind = $1 AND source_kind = $2 AND source_id = $3`,
    values: [...alertValues(a), a.id, fromVersion],
  });
  // The row is locked by this transaction and was read at `fromVersion`: anything else is a bug, not a race.
  if (res.rowCount !== 1) throw new Error(`alert ${a.id} was not at version ${fromVersion} under its own row lock`);
}

async function recordEvent(c: PoolClient, alert: Alert, action: AlertAction, actor: AlertActor, atMs: number, recordedAtMs: number, details: AlertDetails): Promise<AlertEvent> {
  const [row] = await q<{ id: number }>(
    c,
    'pg-insert-alert-event',
    'INSERT INTO alert_events (alert_id, action, actor, at, recorded_at, details, alert) VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb) RETURNING id',
    [alert.id, action, actor, atMs, recordedAtMs, JSON.stringify(details), JSON.stringify(alert)],
  );
  return { id: row!.id, alertId: alert.id, action, actor, atMs, recordedAtMs, details, alert };
}

function alertValues(a: NewAlert): unknown[] {
  return [
    a.kind,
    a.sourceKind,
    a.sourceId,
    a.state,
    a.raisedAtMs,
    a.lastSeenAtMs,
    a.clearedAtMs,
    a.acknowledgedAtMs,
    a.acknowledgedBy,
    a.resolvedAtMs,
    a.resolvedBy,
    a.resolution,
    a.peakScore,
    JSON.stringify(a.details),
    a.version,
  ];
}

// ---- Rows ----

const ALERT_COLUMNS = `id, kind, source_kind, source_id, state, raised_at, last_seen_at, cleared_at, acknowledged_at, acknowledged_by,
  resolved_at, resolved_by, resolution, peak_score, details, version`;

const EVENT_COLUMNS = 'id, alert_id, action, actor, at, recorded_at, details, alert';

const DEVICE_COLUMNS = `d.id, d.kind, d.district, d.lat, d.lon, d.pipe_material, d.site, d.pipe_id, d.chainage_m, d.source_chainage_m, d.gateway_id, d.register_max_l, d.first_seen, d.last_seen,
  s.ts AS s_ts, s.battery_pct AS s_battery_pct, s.firmware AS s_firmware, s.rssi_dbm AS s_rssi_dbm, s.uptime_s AS s_uptime_s`;

const LAST_STATUS_JOIN = `LEFT JOIN LATERAL (
    SELECT ts, battery_pct, firmware, rssi_dbm, uptime_s FROM device_status WHERE device_key = d.key ORDER BY ts DESC LIMIT 1
  ) s ON true`;

interface DeviceRow extends DeviceColumns {
  s_ts: number | null;
  s_battery_pct: number | null;
  s_firmware: string | null;
  s_rssi_dbm: number | null;
  s_uptime_s: number | null;
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
  details: AlertDetails;
  version: number;
}
interface AlertEventRow {
  id: number;
  alert_id: number;
  action: AlertAction;
  actor: AlertActor;
  at: number;
  recorded_at: number;
  details: AlertDetails;
  alert: Alert;
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
    details: r.details,
    version: r.version,
  };
}

function toAlertEvent(r: AlertEventRow): AlertEvent {
  return { id: r.id, alertId: r.alert_id, action: r.action, actor: r.actor, atMs: r.at, recordedAtMs: r.recorded_at, details: r.details, alert: r.alert };
}


/**
 * PostgreSQL text cannot hold U+0000, which SQLite stores. A dead letter's
 * topic or client id comes from a device: a NUL in it must not fail the
 * commit (the batch's devices would resend it for ever), so it is replaced.
 */
function pgText(s: string): string {
  return s.includes('\u0000') ? s.replaceAll('\u0000', '\uFFFD') : s;
}

/** The last status comes from the joined device_status row (null columns: none yet). */
function toPgDevice(r: DeviceRow): DeviceRecord {
  const status = r.s_ts === null ? null : { ts: r.s_ts, batteryPct: r.s_battery_pct, firmware: r.s_firmware, rssiDbm: r.s_rssi_dbm, uptimeS: r.s_uptime_s };
  return toDevice(r, status);
}
