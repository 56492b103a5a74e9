import type { Logger } from 'pino';
import { METER_FLAGS, type DeviceKind, type MeterFlag, type MeterRead } from '../../contracts/index.ts';
import type { Alert, AlertEvent, AlertResolution, AlertUserAction } from '../alert-lifecycle.ts';
import type { ApiKeyEvent, ApiKeyRecord, ApiKeyStore, NewApiKey } from '../api-key-store.ts';
import type { DeviceCredentialStore, DeviceRoute, MqttCredential, MqttCredentialQuery, NewMqttCredential } from '../device-credentials.ts';
import type {
  ArrivalMark,
  BillingMeterRecord,
  BracketQuery,
  DeviceCount,
  MeterReplacement,
  ReadBracket,
  StoredReplacement,
  AlertCommit,
  AlertCommitResult,
  AlertEventPage,
  AlertQuery,
  AppendScoresResult,
  CommitResult,
  ConsumerState,
  DeadLetterQuery,
  DeviceQuery,
  DeviceRecord,
  DeviceRegistration,
  FramePage,
  FrameToStore,
  IngestBatch,
  LeakScore,
  ReadPage,
  ScorePage,
  Store,
  StoredDeadLetter,
  StoredFrame,
  StoredRead,
} from '../store.ts';
import { InfluxHttp, type InfluxConnection } from './influx-http.ts';
import { ensureSchema } from './influx-schema.ts';
import { ident, ms, rowsOf, str } from './influxql.ts';
import { MEASUREMENTS, bandLevelsOf, batchLine, frameLine, readLine, rejectionLines, scoreLine } from './line-protocol.ts';
import { SelfMonitor } from './self-monitor.ts';

export interface InfluxStoreOptions {
  readonly influx: InfluxConnection;
  /**
   * The transactional store beside InfluxDB: alerts and their audit, consumer
   * state, the registry, dead letters, the feeds, frame PCM, and the ledger
   * that decides what is new (SQLite now; PostgreSQL with issue 9).
   */
  readonly state: StateStore;
  /** Create the database, retention policies and continuous queries if missing (not on 2.x/3.x). */
  readonly manageSchema: boolean;
  /** Duration of the raw retention policy when the store creates it (`INF`, `800d`). */
  readonly rawRetention?: string;
  readonly log?: Logger;
}

/** What the transactional store beside InfluxDB must offer: a whole Store, and the access tables. */
export type StateStore = Store & ApiKeyStore & DeviceCredentialStore;

const NO_LIMIT = 1_000_000_000;

/**
 * Time series in InfluxDB, state in a transactional store (README: Storage).
 *
 * A commit (1) asks the state store which reads, frames and scores are new
 * (first write wins; a different register at a stored instant is a
 * conflict), (2) writes only those to InfluxDB and waits until InfluxDB has
 * acknowledged every line, (3) commits the batch to the state store, which
 * records it in the ledger and the feeds. Only then does the ingestor
 * acknowledge the devices. A crash between (2) and (3) leaves points that the
 * ledger does not know: the device resends (it got no PUBACK), the read is
 * new again and is written again with the same time and tags, which InfluxDB
 * 1.x/2.x treat as an overwrite. So InfluxDB never holds a register other
 * than the one the ledger acknowledged, and 3.x (no overwrite promise) is
 * written each point once except after such a crash.
 *
 * Writes are serialised within the process, so (1) and (3) see the same
 * state. Several writing processes need the state store to arbitrate
 * (PostgreSQL, issue 9); with SQLite there is one ingest process.
 */
export class InfluxStore implements Store, ApiKeyStore, DeviceCredentialStore {
  readonly name: string;
  private readonly http: InfluxHttp;
  private readonly monitor: SelfMonitor;
  private readonly state: StateStore;
  private readonly opts: InfluxStoreOptions;
  private schemaReady: Promise<void> | undefined;
  private writing: Promise<unknown> = Promise.resolve();

  constructor(opts: InfluxStoreOptions) {
    this.opts = opts;
    this.http = new InfluxHttp(opts.influx, opts.log);
    // Self-monitoring gives up sooner than a commit: nobody waits for it.
    this.monitor = new SelfMonitor(new InfluxHttp({ ...opts.influx, maxRetries: 1, maxRetryTimeMs: Math.min(opts.influx.maxRetryTimeMs, 5000) }, opts.log), opts.log);
    this.state = opts.state;
    const url = new URL(opts.influx.url);
    url.username = '';
    url.password = '';
    this.name = `influxdb:${url.origin}/${opts.influx.database}/${opts.influx.retentionPolicy} (${opts.influx.writeApi} writes) + ${opts.state.name}`;
  }

  /**
   * The schema is made on first use, not in the constructor: a service that
   * starts while InfluxDB is down comes up, reports not ready, and recovers
   * once InfluxDB answers (a failed attempt is retried at the next call).
   */
  private ready(): Promise<void> {
    if (!this.opts.manageSchema) return Promise.resolve();
    this.schemaReady ??= ensureSchema(this.http, { rawRetention: this.opts.rawRetention ?? 'INF' }).catch((err: unknown) => {
      this.schemaReady = undefined;
      throw err;
    });
    return this.schemaReady;
  }

  /** One write at a time: the check against the ledger and the commit to it must not interleave. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.writing.then(fn, fn);
    this.writing = run.catch(() => {});
    return run;
  }

  private rp(measurement: string): string {
    return `${ident(this.opts.influx.retentionPolicy)}.${ident(measurement)}`;
  }

  async commit(batch: IngestBatch): Promise<CommitResult> {
    await this.ready();
    return this.serial(async () => {
      const started = Date.now();
      const lines: string[] = [];
      const reads = await this.newReads(batch.reads);
      const districts = await this.districtsOf(reads);
      for (const r of reads) lines.push(readLine(r, batch.receivedAtMs, districts.get(r.meterId)));
      const frames = await this.newFrames(batch.frames);
      for (const f of frames) lines.push(frameLine(f, batch.receivedAtMs));
      await this.http.write(lines);
      const result = await this.state.commit(batch);
      await this.repairLostRaces(batch, result, reads, districts);
      this.recordBatch(batch, result, reads, frames, Date.now() - started);
      return result;
    });
  }

  /**
   * Two ingest processes can both find a read new in the ledger and both
   * write it to InfluxDB, each with its register; the ledger then keeps the
   * first to commit and reports the other as a conflict. If the loser's
   * InfluxDB write landed last, InfluxDB holds the register nobody was
   * acknowledged for. So for every conflict on a read this commit wrote, the
   * ledger's read is written over it (flags, arrival time and all). A
   * conflict on a read the ledger already held was never written: nothing to
   * repair. If this write fails the commit fails: nothing is acknowledged.
   */
  private async repairLostRaces(batch: IngestBatch, result: CommitResult, written: readonly MeterRead[], districts: ReadonlyMap<string, string | null>): Promise<void> {
    if (result.conflicts.length === 0) return;
    const wrote = new Set(written.map((r) => `${r.meterId}\u0000${r.ts}`));
    const lines: string[] = [];
    for (const c of result.conflicts) {
      const r = batch.reads[c.index]!;
      if (!wrote.has(`${r.meterId}\u0000${r.ts}`)) continue;
      const [kept] = await this.state.readsInRange(r.meterId, r.ts, r.ts + 1, 1);
      if (kept) lines.push(readLine(kept, kept.receivedAtMs, districts.get(r.meterId), { overwrite: true }));
    }
    if (lines.length === 0) return;
    this.opts.log?.warn({ reads: lines.length }, 'another ingest process stored these reads first with other registers; its registers were written over ours in InfluxDB');
    await this.http.write(lines);
  }

  /**
   * Each meter's district from the registry, for the reads' `district` tag:
   * one indexed lookup per meter with new reads in the commit. Not cached: a
   * meter sends once a day, so a cache would hardly ever hit, and it would
   * miss registry imports made by the admin CLI in another process.
   */
  private async districtsOf(reads: readonly MeterRead[]): Promise<Map<string, string | null>> {
    const districts = new Map<string, string | null>();
    for (const r of reads) {
      if (districts.has(r.meterId)) continue;
      districts.set(r.meterId, (await this.state.getDevice(r.meterId))?.district ?? null);
    }
    return districts;
  }

  /** Queues the commit's self-monitoring points (ingest_batches, ingest_rejections); written off the commit path. */
  private recordBatch(batch: IngestBatch, result: CommitResult, reads: readonly MeterRead[], frames: readonly FrameToStore[], commitMs: number): void {
    let readLagSumMs = 0;
    let readLagMaxMs = 0;
    for (const r of reads) {
      // A device clock ahead of ours gives a negative lag: counted as none.
      const lag = Math.max(0, batch.receivedAtMs - r.ts);
      readLagSumMs += lag;
      readLagMaxMs = Math.max(readLagMaxMs, lag);
    }
    let frameLagSumMs = 0;
    let frameLagMaxMs = 0;
    for (const f of frames) {
      const lag = Math.max(0, batch.receivedAtMs - f.startMs);
      frameLagSumMs += lag;
      frameLagMaxMs = Math.max(frameLagMaxMs, lag);
    }
    const byCode = new Map<string, number>();
    for (const l of batch.deadLetters) byCode.set(l.code, (byCode.get(l.code) ?? 0) + 1);
    const at = this.monitor.nextTime(batch.receivedAtMs);
    this.monitor.record([
      batchLine(
        {
          reads: batch.reads.length,
          readsStored: result.readsInserted,
          readsDuplicate: result.readsDuplicate,
          readsConflict: result.conflicts.length,
          frames: batch.frames.length,
          framesStored: result.framesInserted,
          framesDuplicate: result.framesDuplicate,
          statuses: batch.statuses.length,
          deadLetters: batch.deadLetters.length,
          readLagSumMs,
          readLagMaxMs,
          frameLagSumMs,
          frameLagMaxMs,
          commitMs,
        },
        at,
      ),
      ...rejectionLines(byCode, at),
    ]);
  }

  /** Reads not in the ledger yet, the first of each (meter, ts) in batch order. */
  private async newReads(reads: readonly MeterRead[]): Promise<MeterRead[]> {
    const byMeter = groupBy(reads, (r) => r.meterId);
    const fresh: MeterRead[] = [];
    for (const [meterId, group] of byMeter) {
      const [from, to] = span(group.map((r) => r.ts));
      const stored = new Set((await this.state.readsInRange(meterId, from, to + 1, NO_LIMIT)).map((r) => r.ts));
      for (const r of group) {
        if (stored.has(r.ts)) continue;
        stored.add(r.ts);
        fresh.push(r);
      }
    }
    return fresh;
  }

  private async newFrames(frames: readonly FrameToStore[]): Promise<FrameToStore[]> {
    const fresh: FrameToStore[] = [];
    for (const [sensorId, group] of groupBy(frames, (f) => f.sensorId)) {
      const [from, to] = span(group.map((f) => f.startMs));
      const stored = new Set((await this.state.framesInRange(sensorId, from, to + 1, NO_LIMIT)).map((f) => f.startMs));
      for (const f of group) {
        if (stored.has(f.startMs)) continue;
        stored.add(f.startMs);
        fresh.push(f);
      }
    }
    return fresh;
  }

  async appendScores(scores: readonly LeakScore[]): Promise<AppendScoresResult> {
    // Validates every score before anything is written (a NaN would be a malformed line).
    const lines = scores.map(scoreLine);
    await this.ready();
    return this.serial(async () => {
      const fresh: string[] = [];
      for (const [sensorId, group] of groupBy(scores.map((s, i) => ({ s, line: lines[i]! })), (x) => x.s.sensorId)) {
        const [from, to] = span(group.map((x) => x.s.windowStartMs));
        const stored = new Set((await this.state.scoresInRange(sensorId, from, to + 1, NO_LIMIT)).map((s) => `${s.windowStartMs}/${s.modelVersion}`));
        for (const { s, line } of group) {
          const key = `${s.windowStartMs}/${s.modelVersion}`;
          if (stored.has(key)) continue;
          stored.add(key);
          fresh.push(line);
        }
      }
      await this.http.write(fresh);
      return this.state.appendScores(scores);
    });
  }

  async readsInRange(meterId: string, fromMs: number, toMs: number, limit: number): Promise<StoredRead[]> {
    return this.selectReads(meterId, `time >= ${ms(fromMs)} AND time < ${ms(toMs)}`, 'ASC', limit);
  }

  async latestRead(meterId: string): Promise<StoredRead | undefined> {
    return (await this.selectReads(meterId, null, 'DESC', 1))[0];
  }

  async readAtOrBefore(meterId: string, atMs: number): Promise<StoredRead | undefined> {
    return (await this.selectReads(meterId, `time <= ${ms(atMs)}`, 'DESC', 1))[0];
  }

  async readAtOrAfter(meterId: string, atMs: number): Promise<StoredRead | undefined> {
    return (await this.selectReads(meterId, `time >= ${ms(atMs)}`, 'ASC', 1))[0];
  }

  private async selectReads(meterId: string, timeRange: string | null, order: 'ASC' | 'DESC', limit: number): Promise<StoredRead[]> {
    if (limit < 1) return [];
    await this.ready();
    const where = `"meter" = ${str(meterId)}${timeRange ? ` AND ${timeRange}` : ''}`;
    const [result] = await this.http.query([
      `SELECT "register", "flags", "received_ms" FROM ${this.rp(MEASUREMENTS.reads)} WHERE ${where} ORDER BY time ${order} LIMIT ${Math.trunc(limit)}`,
    ]);
    return rowsOf(result!).map((r) => ({
      meterId,
      ts: r.time as number,
      registerL: r.register as number,
      flags: parseFlags(r.flags),
      receivedAtMs: r.received_ms as number,
    }));
  }

  async scoresInRange(sensorId: string, fromMs: number, toMs: number, limit: number): Promise<LeakScore[]> {
    if (limit < 1) return [];
    await this.ready();
    const [result] = await this.http.query([
      `SELECT * FROM ${this.rp(MEASUREMENTS.scores)} ` +
        `WHERE "sensor" = ${str(sensorId)} AND time >= ${ms(fromMs)} AND time < ${ms(toMs)} ORDER BY time ASC LIMIT ${Math.trunc(limit)}`,
    ]);
    return rowsOf(result!)
      .map((r): LeakScore => {
        const score = { sensorId, windowStartMs: r.time as number, windowEndMs: r.window_end_ms as number, score: r.score as number, modelVersion: String(r.model) };
        const bandLevelsDb = bandLevelsOf(r);
        return bandLevelsDb ? { ...score, bandLevelsDb } : score;
      })
      .sort((a, b) => a.windowStartMs - b.windowStartMs || (a.modelVersion < b.modelVersion ? -1 : a.modelVersion > b.modelVersion ? 1 : 0));
  }

  // Frames: the index, the feed and the PCM are the state store's (README: Storage, why PCM is not in InfluxDB);
  // InfluxDB has each frame's levels as the frame_levels series.
  framesInRange(sensorId: string, fromMs: number, toMs: number, limit: number): Promise<StoredFrame[]> {
    return this.state.framesInRange(sensorId, fromMs, toMs, limit);
  }
  prunePcm(olderThanMs: number): Promise<number> {
    return this.state.prunePcm(olderThanMs);
  }
  framesAfter(cursor: number, limit: number): Promise<FramePage> {
    return this.state.framesAfter(cursor, limit);
  }

  // The feeds follow the ledger's commit order, which InfluxDB cannot give.
  readsAfter(cursor: number, limit: number): Promise<ReadPage> {
    return this.state.readsAfter(cursor, limit);
  }
  scoresAfter(cursor: number, limit: number): Promise<ScorePage> {
    return this.state.scoresAfter(cursor, limit);
  }

  // Mutable state: the transactional store's alone.
  listDevices(query: DeviceQuery): Promise<DeviceRecord[]> {
    return this.state.listDevices(query);
  }
  getDevice(id: string): Promise<DeviceRecord | undefined> {
    return this.state.getDevice(id);
  }
  deviceKinds(ids: readonly string[]): Promise<Map<string, DeviceKind>> {
    return this.state.deviceKinds(ids);
  }

  upsertDevices(devices: readonly DeviceRegistration[]): Promise<void> {
    return this.state.upsertDevices(devices);
  }
  deadLetters(query: DeadLetterQuery): Promise<StoredDeadLetter[]> {
    return this.state.deadLetters(query);
  }
  getConsumerState(name: string): Promise<ConsumerState | undefined> {
    return this.state.getConsumerState(name);
  }
  putConsumerState(name: string, value: unknown, expectedVersion?: number): Promise<number> {
    return this.state.putConsumerState(name, value, expectedVersion);
  }
  commitAlertChanges(commit: AlertCommit): Promise<AlertCommitResult> {
    return this.state.commitAlertChanges(commit);
  }
  acknowledgeAlert(request: AlertUserAction): Promise<Alert> {
    return this.state.acknowledgeAlert(request);
  }
  resolveAlert(request: AlertUserAction & { readonly resolution: AlertResolution }): Promise<Alert> {
    return this.state.resolveAlert(request);
  }
  getAlert(id: number): Promise<Alert | undefined> {
    return this.state.getAlert(id);
  }
  listAlerts(query: AlertQuery): Promise<Alert[]> {
    return this.state.listAlerts(query);
  }
  alertEvents(alertId: number): Promise<AlertEvent[]> {
    return this.state.alertEvents(alertId);
  }
  alertEventsAfter(cursor: number, limit: number): Promise<AlertEventPage> {
    return this.state.alertEventsAfter(cursor, limit);
  }
  latestAlertEventId(): Promise<number> {
    return this.state.latestAlertEventId();
  }
  openAlertFor(sourceId: string, kind: string): Promise<Alert | undefined> {
    return this.state.openAlertFor(sourceId, kind);
  }

  // Billing. Brackets are asked "as of arrival N", and only the ledger knows
  // arrival order; it holds every read InfluxDB holds, so it answers them.
  readBrackets(queries: readonly BracketQuery[], asOf?: number): Promise<ReadBracket[]> {
    return this.state.readBrackets(queries, asOf);
  }
  arrivalMark(atOrBelow?: number): Promise<ArrivalMark> {
    return this.state.arrivalMark(atOrBelow);
  }
  recordReplacement(replacement: MeterReplacement): Promise<{ readonly replacement: StoredReplacement; readonly created: boolean }> {
    return this.state.recordReplacement(replacement);
  }
  replacementsOf(meterIds: readonly string[], asOf?: number): Promise<StoredReplacement[]> {
    return this.state.replacementsOf(meterIds, asOf);
  }
  countDevices(query: DeviceQuery): Promise<DeviceCount> {
    return this.state.countDevices(query);
  }
  listBillingMeters(query: Omit<DeviceQuery, 'kind'>): Promise<BillingMeterRecord[]> {
    return this.state.listBillingMeters(query);
  }

  // API keys and device credentials: mutable state.
  createApiKey(key: NewApiKey): Promise<ApiKeyRecord> {
    return this.state.createApiKey(key);
  }
  apiKeyByHash(secretHash: string): Promise<ApiKeyRecord | undefined> {
    return this.state.apiKeyByHash(secretHash);
  }
  listApiKeys(): Promise<ApiKeyRecord[]> {
    return this.state.listApiKeys();
  }
  revokeApiKey(id: number, by: string, atMs: number): Promise<{ readonly key: ApiKeyRecord; readonly revokedNow: boolean } | undefined> {
    return this.state.revokeApiKey(id, by, atMs);
  }
  touchApiKey(id: number, atMs: number): Promise<void> {
    return this.state.touchApiKey(id, atMs);
  }
  apiKeyEvents(afterId: number, limit: number): Promise<ApiKeyEvent[]> {
    return this.state.apiKeyEvents(afterId, limit);
  }
  issueMqttCredential(credential: NewMqttCredential): Promise<MqttCredential> {
    return this.state.issueMqttCredential(credential);
  }
  liveMqttCredential(username: string): Promise<MqttCredential | undefined> {
    return this.state.liveMqttCredential(username);
  }
  revokeMqttCredential(username: string, atMs: number): Promise<boolean> {
    return this.state.revokeMqttCredential(username, atMs);
  }
  listMqttCredentials(query: MqttCredentialQuery): Promise<MqttCredential[]> {
    return this.state.listMqttCredentials(query);
  }
  deviceRoute(deviceId: string): Promise<DeviceRoute | undefined> {
    return this.state.deviceRoute(deviceId);
  }

  async ping(): Promise<void> {
    await Promise.all([this.http.ping(), this.state.ping()]);
    await this.ready();
  }

  async close(): Promise<void> {
    // Let a commit in flight finish (its devices are waiting for PUBACKs) before the state store closes.
    await this.writing;
    await this.monitor.flush();
    await this.state.close();
  }
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const g = groups.get(k);
    if (g) g.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

function span(values: readonly number[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

function parseFlags(v: unknown): MeterFlag[] {
  if (typeof v !== 'string' || v === '') return [];
  // In METER_FLAGS order, as the embedded store answers, whatever order the meter sent.
  const sent = new Set(v.split(','));
  return METER_FLAGS.filter((f) => sent.has(f));
}
