import type pg from 'pg';
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
} from '../store.ts';
import { q, transaction } from './pg-pool.ts';
import { checkAsOf, toBracket, toReplacement, type BracketRow, type ReplacementRow } from '../store-rows.ts';

/** No arrival filter: every number is at or below it. */
const ALL_ARRIVALS = Number.MAX_SAFE_INTEGER;

/**
 * Billing's part of the Store in PostgreSQL (the embedded one is
 * sqlite-billing.ts). Replacements take their number from arrival_seq, the
 * reads feed's sequence, under the same feed lock (the insert's trigger),
 * so one integer says what the store knew.
 */
export class PgBilling {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  /**
   * One statement for the whole list: for each (meter, instant), two
   * descents of the (meter_key, ts) primary key, stepping back over reads
   * that arrived after `asOf` (rare: late reads newer than the answer).
   */
  async readBrackets(queries: readonly BracketQuery[], asOf: number | undefined): Promise<ReadBracket[]> {
    if (queries.length === 0) return [];
    checkAsOf(asOf);
    const rows = await q<BracketRow>(
      this.#pool,
      'pg-brackets',
      `SELECT q.i, b.ts AS b_ts, b.register_l AS b_reg, b.flags AS b_flags, b.received_at AS b_recv,
         a.ts AS a_ts, a.register_l AS a_reg, a.flags AS a_flags, a.received_at AS a_recv
       FROM unnest($1::text[], $2::bigint[]) WITH ORDINALITY AS q(id, at, i)
       JOIN devices d ON d.id = q.id
       LEFT JOIN LATERAL (SELECT r.ts, r.register_l, r.flags, r.received_at FROM meter_reads r
         WHERE r.meter_key = d.key AND r.ts <= q.at AND r.arrival <= $3 ORDER BY r.ts DESC LIMIT 1) b ON true
       LEFT JOIN LATERAL (SELECT r.ts, r.register_l, r.flags, r.received_at FROM meter_reads r
         WHERE r.meter_key = d.key AND r.ts >= q.at AND r.arrival <= $3 ORDER BY r.ts LIMIT 1) a ON true`,
      [queries.map((x) => x.meterId), queries.map((x) => x.atMs), asOf ?? ALL_ARRIVALS],
    );
    const out: ReadBracket[] = queries.map(() => ({ before: undefined, after: undefined }));
    // ORDINALITY counts from 1.
    for (const r of rows) out[r.i - 1] = toBracket(queries[r.i - 1]!.meterId, r);
    return out;
  }

  async arrivalMark(atOrBelow: number | undefined): Promise<ArrivalMark> {
    checkAsOf(atOrBelow);
    const [best] = await q<{ seq: number; at: number }>(
      this.#pool,
      'pg-arrival-mark',
      `SELECT seq, at FROM (
         (SELECT a.seq, (SELECT r.received_at FROM meter_reads r WHERE r.meter_key = a.meter_key AND r.ts = a.first_ts) AS at
          FROM read_arrivals a WHERE a.seq <= $1 ORDER BY a.seq DESC LIMIT 1)
         UNION ALL
         (SELECT seq, recorded_at AS at FROM meter_replacements WHERE seq <= $1 ORDER BY seq DESC LIMIT 1)
       ) m ORDER BY seq DESC LIMIT 1`,
      [atOrBelow ?? ALL_ARRIVALS],
    );
    return best ? { seq: best.seq, atMs: best.at } : { seq: 0, atMs: null };
  }

  /**
   * The first record of a (meter, instant) stands: the unique key decides,
   * so of two concurrent records one inserts and the other returns it.
   */
  async recordReplacement(r: MeterReplacement): Promise<{ replacement: StoredReplacement; created: boolean }> {
    for (const [name, v] of [['atMs', r.atMs], ['oldFinalL', r.oldFinalL], ['newInitialL', r.newInitialL], ['recordedAtMs', r.recordedAtMs]] as const) {
      if (!Number.isSafeInteger(v) || (name !== 'atMs' && v < 0)) throw new StoreInputError(`replacement of ${r.meterId}: ${name} must be a non-negative integer`);
    }
    return transaction(this.#pool, async (c) => {
      const [meter] = await q<{ key: number; kind: string }>(c, 'pg-meter-key', 'SELECT key, kind FROM devices WHERE id = $1', [r.meterId]);
      if (!meter || meter.kind !== 'meter') throw new StoreInputError(`no meter '${r.meterId}' in the registry`);
      const existing = await replacementAt(c, meter.key, r.atMs);
      if (existing) return { replacement: toReplacement(r.meterId, existing), created: false };
      // nextval runs after the statement's trigger took the arrivals feed lock.
      const [row] = await q<{ seq: number }>(
        c,
        'pg-insert-replacement',
        `INSERT INTO meter_replacements (seq, meter_key, at, old_final_l, new_initial_l, note, recorded_at, recorded_by)
         VALUES (nextval('arrival_seq'), $1, $2, $3, $4, $5, $6, $7) ON CONFLICT (meter_key, at) DO NOTHING RETURNING seq`,
        [meter.key, r.atMs, r.oldFinalL, r.newInitialL, r.note ?? null, r.recordedAtMs, r.recordedBy ?? null],
      );
      if (!row) return { replacement: toReplacement(r.meterId, (await replacementAt(c, meter.key, r.atMs))!), created: false };
      return { replacement: { ...r, seq: row.seq, note: r.note ?? null, recordedBy: r.recordedBy ?? null }, created: true };
    });
  }

  async replacementsOf(meterIds: readonly string[], asOf: number | undefined): Promise<StoredReplacement[]> {
    if (meterIds.length === 0) return [];
    checkAsOf(asOf);
    const rows = await q<ReplacementRow & { meter_id: string }>(
      this.#pool,
      'pg-replacements-of',
      `SELECT d.id AS meter_id, m.seq, m.at, m.old_final_l, m.new_initial_l, m.note, m.recorded_at, m.recorded_by
       FROM devices d JOIN meter_replacements m ON m.meter_key = d.key
       WHERE d.id = ANY($1::text[]) AND m.seq <= $2 ORDER BY d.id, m.at`,
      [[...meterIds], asOf ?? ALL_ARRIVALS],
    );
    return rows.map((row) => toReplacement(row.meter_id, row));
  }

  /** A range of the id index (or of (district, id)) from the cursor on; ids are never empty, so '' is the start. */
  async listBillingMeters(query: Omit<DeviceQuery, 'kind'>): Promise<BillingMeterRecord[]> {
    const rows =
      query.district === undefined
        ? await q<{ id: string; register_max_l: number | null }>(
            this.#pool,
            'pg-billing-meters',
            `SELECT id, register_max_l FROM devices WHERE id > $1 AND kind = 'meter' ORDER BY id LIMIT $2`,
            [query.afterId ?? '', query.limit],
          )
        : await q<{ id: string; register_max_l: number | null }>(
            this.#pool,
            'pg-billing-meters-of-district',
            `SELECT id, register_max_l FROM devices WHERE district = $3 AND id > $1 AND kind = 'meter' ORDER BY id LIMIT $2`,
            [query.afterId ?? '', query.limit, query.district],
          );
    return rows.map((r) => ({ id: r.id, registerMaxL: r.register_max_l }));
  }

  async countDevices(query: DeviceQuery): Promise<DeviceCount> {
    const page = async (after: string, limit: number) => {
      const where = ['d.id > $1'];
      const values: unknown[] = [after, limit];
      if (query.kind !== undefined) where.push(`d.kind = $${values.push(query.kind)}`);
      if (query.district !== undefined) where.push(`d.district = $${values.push(query.district)}`);
      const { rows } = await this.#pool.query<{ n: number; last: string | null }>(
        `SELECT count(*) AS n, max(id) AS last FROM (SELECT d.id FROM devices d WHERE ${where.join(' AND ')} ORDER BY d.id LIMIT $2) p`,
        values,
      );
      return rows[0]!;
    };
    const first = await page(query.afterId ?? '', query.limit);
    const lastId = first.last ?? undefined;
    const more = first.n === query.limit && lastId !== undefined && (await page(lastId, 1)).n > 0;
    return { count: first.n, lastId, more };
  }
}

async function replacementAt(c: pg.PoolClient, meterKey: number, atMs: number): Promise<ReplacementRow | undefined> {
  const [row] = await q<ReplacementRow>(
    c,
    'pg-replacement-at',
    'SELECT seq, at, old_final_l, new_initial_l, note, recorded_at, recorded_by FROM meter_replacements WHERE meter_key = $1 AND at = $2',
    [meterKey, atMs],
  );
  return row;
}

