import type Database from 'better-sqlite3';
import {
  StoreInputError,
  type ArrivalMark,
  type BillingMeterRecord,
  type BracketQuery,
  type DeviceCount,
  type DeviceQuery,
  type MeterReplacement,
  type ReadBracket,
  type StoredReplacement,
} from './store.ts';
import { checkAsOf, toBracket, toReplacement, type BracketRow, type ReplacementRow } from './store-rows.ts';

/**
 * Billing's tables. A replacement takes its number from the arrival sequence
 * of the reads feed (read_arrivals.seq), so one integer says what the store
 * knew: sqlite-store.ts numbers a commit's arrival groups after the highest
 * number in either table. `register_max_l` is the registry's per-meter
 * rollover point; null means the billing default.
 */
export const BILLING_MIGRATION = `ALTER TABLE devices ADD COLUMN register_max_l INTEGER;
   CREATE TABLE meter_replacements (
     seq INTEGER PRIMARY KEY,
     meter_key INTEGER NOT NULL,
     at INTEGER NOT NULL,
     old_final_l INTEGER NOT NULL,
     new_initial_l INTEGER NOT NULL,
     note TEXT,
     recorded_at INTEGER NOT NULL,
     recorded_by TEXT,
     UNIQUE (meter_key, at)
   );`;

/** The highest arrival number given so far, to reads or to a replacement. */
export const LAST_ARRIVAL_SQL = `SELECT max(
  (SELECT coalesce(max(seq), 0) FROM read_arrivals),
  (SELECT coalesce(max(seq), 0) FROM meter_replacements)) AS seq`;

/** No arrival filter: every number is at or below it. */
const ALL_ARRIVALS = Number.MAX_SAFE_INTEGER;

/** Billing's part of the Store over a migrated SQLite handle; SqliteStore delegates to it. */
export class SqliteBilling {
  readonly #db: Database.Database;
  readonly #stmt: ReturnType<typeof prepare>;

  constructor(db: Database.Database) {
    this.#db = db;
    this.#stmt = prepare(db);
  }

  readBrackets(queries: readonly BracketQuery[], asOf: number | undefined): ReadBracket[] {
    if (queries.length === 0) return [];
    checkAsOf(asOf);
    // One statement for the whole list: each (meter, instant) is two descents
    // of the (meter_key, ts) primary key, stepping back over reads that
    // arrived after `asOf` (rare: only late reads newer than the answer).
    const rows = this.#stmt.brackets.all({ queries: JSON.stringify(queries.map((q) => [q.meterId, q.atMs])), asOf: asOf ?? ALL_ARRIVALS }) as BracketRow[];
    const out: ReadBracket[] = queries.map(() => ({ before: undefined, after: undefined }));
    for (const r of rows) out[r.i] = toBracket(queries[r.i]!.meterId, r);
    return out;
  }

  arrivalMark(atOrBelow: number | undefined): ArrivalMark {
    checkAsOf(atOrBelow);
    const limit = atOrBelow ?? ALL_ARRIVALS;
    const reads = this.#stmt.readMark.get(limit) as { seq: number; at: number } | undefined;
    const replacement = this.#stmt.replacementMark.get(limit) as { seq: number; at: number } | undefined;
    const best = (reads?.seq ?? 0) >= (replacement?.seq ?? 0) ? reads : replacement;
    return best ? { seq: best.seq, atMs: best.at } : { seq: 0, atMs: null };
  }

  recordReplacement(r: MeterReplacement): { replacement: StoredReplacement; created: boolean } {
    for (const [name, v] of [['atMs', r.atMs], ['oldFinalL', r.oldFinalL], ['newInitialL', r.newInitialL], ['recordedAtMs', r.recordedAtMs]] as const) {
      if (!Number.isSafeInteger(v) || (name !== 'atMs' && v < 0)) throw new StoreInputError(`replacement of ${r.meterId}: ${name} must be a non-negative integer`);
    }
    return this.#db
      .transaction(() => {
        const meter = this.#stmt.meterKey.get(r.meterId) as { key: number; kind: string } | undefined;
        if (!meter || meter.kind !== 'meter') throw new StoreInputError(`no meter '${r.meterId}' in the registry`);
        const existing = this.#stmt.replacementAt.get(meter.key, r.atMs) as ReplacementRow | undefined;
        if (existing) return { replacement: toReplacement(r.meterId, existing), created: false };
        const seq = (this.#stmt.lastArrival.get() as { seq: number }).seq + 1;
        this.#stmt.insertReplacement.run(seq, meter.key, r.atMs, r.oldFinalL, r.newInitialL, r.note ?? null, r.recordedAtMs, r.recordedBy ?? null);
        return { replacement: { ...r, seq, note: r.note ?? null, recordedBy: r.recordedBy ?? null }, created: true };
      })
      .immediate();
  }

  replacementsOf(meterIds: readonly string[], asOf: number | undefined): StoredReplacement[] {
    if (meterIds.length === 0) return [];
    checkAsOf(asOf);
    const rows = this.#stmt.replacementsOf.all(JSON.stringify(meterIds), asOf ?? ALL_ARRIVALS) as (ReplacementRow & { meter_id: string })[];
    return rows.map((row) => toReplacement(row.meter_id, row));
  }

  listBillingMeters(q: Omit<DeviceQuery, 'kind'>): BillingMeterRecord[] {
    const params = { district: q.district ?? null, after: q.afterId ?? '', limit: q.limit };
    const stmt = q.district === undefined ? this.#stmt.billingMeters : this.#stmt.billingMetersOfDistrict;
    return (stmt.all(params) as { id: string; register_max_l: number | null }[]).map((r) => ({ id: r.id, registerMaxL: r.register_max_l }));
  }

  countDevices(q: DeviceQuery): DeviceCount {
    const stmt = q.district === undefined ? this.#stmt.countDevices : this.#stmt.countDevicesOfDistrict;
    const params = { kind: q.kind ?? null, district: q.district ?? null };
    const page = stmt.get({ ...params, after: q.afterId ?? '', limit: q.limit }) as { n: number; last: string | null };
    const lastId = page.last ?? undefined;
    const more = page.n === q.limit && lastId !== undefined && (stmt.get({ ...params, after: lastId, limit: 1 }) as { n: number }).n > 0;
    return { count: page.n, lastId, more };
  }
}

function prepare(db: Database.Database) {
  return {
    // Each side: a descent to the read's ts, then its row by primary key
    // (plain columns: packing them as JSON cost more in building and parsing).
    brackets: db.prepare(
      `SELECT q.i, b.ts AS b_ts, b.register_l AS b_reg, b.flags AS b_flags, b.received_at AS b_recv,
         a.ts AS a_ts, a.register_l AS a_reg, a.flags AS a_flags, a.received_at AS a_recv
       FROM (SELECT j.key AS i, json_extract(j.value, '$[0]') AS id, json_extract(j.value, '$[1]') AS at FROM json_each(:queries) j) q
       JOIN devices d ON d.id = q.id
       LEFT JOIN meter_reads b ON b.meter_key = d.key AND b.ts =
         (SELECT r.ts FROM meter_reads r WHERE r.meter_key = d.key AND r.ts <= q.at AND r.arrival <= :asOf ORDER BY r.ts DESC LIMIT 1)
       LEFT JOIN meter_reads a ON a.meter_key = d.key AND a.ts =
         (SELECT r.ts FROM meter_reads r WHERE r.meter_key = d.key AND r.ts >= q.at AND r.arrival <= :asOf ORDER BY r.ts LIMIT 1)`,
    ),
    // Registry pages: a range of the id index (or of (district, id)) from the cursor on. Ids are never
    // empty, so '' stands for "from the start"; an `:after IS NULL OR` would make SQLite scan from the start each page.
    billingMeters: db.prepare(
      `SELECT d.id, d.register_max_l FROM devices d WHERE d.id > :after AND d.kind = 'meter' ORDER BY d.id LIMIT :limit`,
    ),
    billingMetersOfDistrict: db.prepare(
      `SELECT d.id, d.register_max_l FROM devices d WHERE d.district = :district AND d.id > :after AND d.kind = 'meter' ORDER BY d.id LIMIT :limit`,
    ),
    readMark: db.prepare(
      `SELECT a.seq, (SELECT r.received_at FROM meter_reads r WHERE r.meter_key = a.meter_key AND r.ts = a.first_ts) AS at
       FROM read_arrivals a WHERE a.seq <= ? ORDER BY a.seq DESC LIMIT 1`,
    ),
    replacementMark: db.prepare('SELECT seq, recorded_at AS at FROM meter_replacements WHERE seq <= ? ORDER BY seq DESC LIMIT 1'),
    lastArrival: db.prepare(LAST_ARRIVAL_SQL),
    meterKey: db.prepare('SELECT key, kind FROM devices WHERE id = ?'),
    replacementAt: db.prepare('SELECT seq, at, old_final_l, new_initial_l, note, recorded_at, recorded_by FROM meter_replacements WHERE meter_key = ? AND at = ?'),
    insertReplacement: db.prepare(
      'INSERT INTO meter_replacements (seq, meter_key, at, old_final_l, new_initial_l, note, recorded_at, recorded_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    replacementsOf: db.prepare(
      `SELECT d.id AS meter_id, m.seq, m.at, m.old_final_l, m.new_initial_l, m.note, m.recorded_at, m.recorded_by
       FROM devices d JOIN meter_replacements m ON m.meter_key = d.key
       WHERE d.id IN (SELECT value FROM json_each(?)) AND m.seq <= ? ORDER BY d.id, m.at`,
    ),
    countDevices: db.prepare(
      `SELECT count(*) AS n, max(id) AS last FROM (
         SELECT d.id FROM devices d WHERE d.id > :after AND (:kind IS NULL OR d.kind = :kind) ORDER BY d.id LIMIT :limit)`,
    ),
    countDevicesOfDistrict: db.prepare(
      `SELECT count(*) AS n, max(id) AS last FROM (
         SELECT d.id FROM devices d WHERE d.district = :district AND d.id > :after AND (:kind IS NULL OR d.kind = :kind) ORDER BY d.id LIMIT :limit)`,
    ),
  };
}

