import type { InfluxHttp } from './influx-http.ts';
import { ident, rowsOf } from './influxql.ts';
import { MEASUREMENTS } from './line-protocol.ts';

/** The retention policy downsampled series go to (README: Storage, InfluxDB schema). */
export const DOWNSAMPLED_RP = 'downsampled';

export interface SchemaOptions {
  /** Duration of the raw retention policy, InfluxQL (`INF`, `800d`): reads are billing history. */
  readonly rawRetention: string;
}

/**
 * Continuous queries, by name. Days are local days in Asia/Tokyo: `time(1d,
 * 15h)` starts each interval at 15:00 UTC, which is local midnight (+09:00).
 * RESAMPLE FOR 3d recomputes the last three days every hour, so the daily
 * batch a meter sends after midnight, and reads up to three days late, are
 * counted; later ones are in the raw series only.
 */
export function continuousQueries(db: string, rp: string): { name: string; text: string }[] {
  const from = (m: string) => `${ident(db)}.${ident(rp)}.${ident(m)}`;
  const into = (m: string) => `${ident(db)}.${ident(DOWNSAMPLED_RP)}.${ident(m)}`;
  const cq = (name: string, every: string, select: string) => ({
    name,
    text: `CREATE CONTINUOUS QUERY ${ident(name)} ON ${ident(db)} RESAMPLE EVERY ${every} FOR 3d BEGIN ${select} END`,
  });
  return [
    // Register at the start and end of each local day per meter: daily consumption is the
    // difference of consecutive register_first (a day's first read is its midnight read when the meter sent it).
    cq(
      'meter_daily',
      '1h',
      `SELECT first("register") AS "register_first", last("register") AS "register_last", count("register") AS "reads" ` +
        `INTO ${into('meter_daily')} FROM ${from(MEASUREMENTS.reads)} GROUP BY time(1d, 15h), "meter"`,
    ),
    // Reads stored per hour across the fleet (ingest dashboards); hourly consumption per
    // meter needs no copy: meters send hourly interval reads, so the raw series is hourly.
    cq('reads_hourly', '10m', `SELECT count("register") AS "reads" INTO ${into('reads_hourly')} FROM ${from(MEASUREMENTS.reads)} GROUP BY time(1h)`),
    // The noise logger's measure: each sensor's minimum level and spread per local day.
    cq(
      'sensor_daily',
      '1h',
      `SELECT min("rms_dbfs") AS "min_dbfs", stddev("rms_dbfs") AS "spread_db", count("rms_dbfs") AS "frames" ` +
        `INTO ${into('sensor_daily')} FROM ${from(MEASUREMENTS.frames)} GROUP BY time(1d, 15h), "sensor"`,
    ),
  ];
}

/**
 * Creates what is missing: the database, the raw retention policy (the
 * default, where Suido writes), the downsampled one (kept for ever: one point
 * per meter and day) and the continuous queries. What exists is left as it
 * is, so an operator's changes (a shorter raw retention, another shard
 * duration) survive restarts.
 */
export async function ensureSchema(http: InfluxHttp, opts: SchemaOptions): Promise<void> {
  const { database: db, retentionPolicy: rp } = http.conn;
  await http.query([`CREATE DATABASE ${ident(db)}`], { database: null });
  const [policies, queries] = await http.query([`SHOW RETENTION POLICIES ON ${ident(db)}`, 'SHOW CONTINUOUS QUERIES'], { database: db });
  const existing = new Set(rowsOf(policies!).map((r) => String(r.name)));
  const create: string[] = [];
  if (!existing.has(rp)) create.push(`CREATE RETENTION POLICY ${ident(rp)} ON ${ident(db)} DURATION ${opts.rawRetention} REPLICATION 1 SHARD DURATION 7d DEFAULT`);
  if (!existing.has(DOWNSAMPLED_RP)) create.push(`CREATE RETENTION POLICY ${ident(DOWNSAMPLED_RP)} ON ${ident(db)} DURATION INF REPLICATION 1 SHARD DURATION 52w`);
  // SHOW CONTINUOUS QUERIES answers one series per database.
  const cqs = new Set((queries!.series ?? []).filter((s) => s.name === db).flatMap((s) => (s.values ?? []).map((v) => String(v[0]))));
  for (const q of continuousQueries(db, rp)) if (!cqs.has(q.name)) create.push(q.text);
  if (create.length > 0) await http.query(create, { database: db });
}
