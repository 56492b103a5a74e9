/** InfluxQL text and the /query API's JSON, for the few statements the store runs. */

/** A string literal: 'it\'s'. Device ids are restricted, but model versions and names are not. */
export const str = (s: string): string => `'${s.replace(/[\\']/g, (c) => `\\${c}`)}'`;

/** An identifier: "raw"."meter_reads". */
export const ident = (s: string): string => `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;

/** A time literal in epoch milliseconds (InfluxQL reads `1793491200000ms` as an instant). */
export const ms = (t: number): string => `${Math.trunc(t)}ms`;

export interface Series {
  readonly name: string;
  readonly tags?: Readonly<Record<string, string>>;
  readonly columns: readonly string[];
  /** Absent for a series with no rows (SHOW CONTINUOUS QUERIES on a database without any). */
  readonly values?: readonly (readonly unknown[])[];
}

export interface StatementResult {
  readonly statement_id: number;
  readonly series?: readonly Series[];
  readonly error?: string;
}

export interface QueryResponse {
  readonly results?: readonly StatementResult[];
  readonly error?: string;
}

/** Rows of one statement as objects keyed by column, series after series. */
export function rowsOf(result: StatementResult): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = [];
  for (const s of result.series ?? []) {
    for (const v of s.values ?? []) {
      const row: Record<string, unknown> = { ...s.tags };
      s.columns.forEach((c, i) => (row[c] = v[i]));
      rows.push(row);
    }
  }
  return rows;
}

/** InfluxDB answered a query with an error: the statement was wrong, or the database is not there. */
export class InfluxQueryError extends Error {
  readonly code = 'INFLUX_QUERY_FAILED';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InfluxQueryError';
  }
}

/** The statements' results in order; any statement's error fails the whole call. */
export function checkResponse(body: QueryResponse | undefined, statements: readonly string[]): StatementResult[] {
  if (!body || body.error) throw new InfluxQueryError(`InfluxDB query failed: ${body?.error ?? 'empty answer'}`);
  const results = body.results ?? [];
  for (const r of results) {
    if (r.error) throw new InfluxQueryError(`InfluxDB refused '${statements[r.statement_id] ?? '?'}': ${r.error}`);
  }
  if (results.length !== statements.length) throw new InfluxQueryError(`InfluxDB answered ${results.length} of ${statements.length} statements`);
  return [...results].sort((a, b) => a.statement_id - b.statement_id);
}
