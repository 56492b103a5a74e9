import pg from 'pg';
import type { PoolClient, QueryResultRow } from 'pg';

export interface PostgresConnection {
  /** postgres://user:password@host:port/database[?sslmode=…]; the password is never logged. */
  readonly url: string;
  /** The schema that holds Suido's tables (created by the first migration); default `public`. */
  readonly schema?: string | undefined;
  /** Connections per process, at most (the pool grows to it under load). */
  readonly poolMax?: number | undefined;
}

export const POSTGRES_DEFAULTS = { schema: 'public', poolMax: 10 } as const;

/** Schema names Suido accepts (quoted in every statement anyway). */
export const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * int8 (ids, milliseconds, counts) as a JS number, not pg's default string:
 * every such value Suido stores is a safe integer (milliseconds until the
 * year 285,616; ids far below 2^53). A larger one is a bug: fail loudly.
 */
function parseInt8(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new Error(`int8 value ${text} is beyond 2^53: not a Suido id, time or count`);
  return n;
}

const TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8 ? parseInt8 : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/** The URL without its password or query (which may hold one), for logs and /readyz. */
export function redactedUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.username ? `${u.username}@` : ''}${u.host}${u.pathname}`;
  } catch {
    return 'postgresql://(unparsable URL)';
  }
}

export function newPool(c: PostgresConnection): pg.Pool {
  const schema = c.schema ?? POSTGRES_DEFAULTS.schema;
  if (!SCHEMA_NAME.test(schema)) throw new Error(`schema '${schema}' must match ${SCHEMA_NAME}`);
  const pool = new pg.Pool({
    connectionString: c.url,
    max: c.poolMax ?? POSTGRES_DEFAULTS.poolMax,
    application_name: 'suido',
    // Every connection resolves Suido's tables in its schema.
    options: `-c search_path=${schema}`,
    types: TYPES,
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
  });
  // An idle connection that the server drops (restart, failover) is an 'error' event on the pool:
  // without a listener Node would crash. The next query takes a new connection.
  pool.on('error', () => {});
  return pool;
}

/** SQLSTATEs after which the whole transaction may simply run again. */
const RETRYABLE = new Set(['40001', '40P01']); // serialization_failure, deadlock_detected

/**
 * Runs `fn` in one transaction (READ COMMITTED) on one pooled connection.
 * A deadlock or serialization failure rolls everything back and runs `fn`
 * again (it must not keep state between attempts); any other error rolls
 * back and is thrown. A COMMIT whose answer is lost (connection dropped) is
 * reported as a failure although it may have committed: callers are
 * idempotent (reads and frames by key, a device resends; an alert commit is
 * fenced by its consumer's version).
 */
export async function transaction<T>(pool: pg.Pool, fn: (c: PoolClient) => Promise<T>, onRollback?: () => void): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const c = await pool.connect();
    let broken: Error | undefined;
    try {
      await c.query('BEGIN');
      const out = await fn(c);
      await c.query('COMMIT');
      return out;
    } catch (err) {
      onRollback?.();
      await c.query('ROLLBACK').catch((e: unknown) => {
        broken = e instanceof Error ? e : new Error(String(e));
      });
      if (attempt < 3 && RETRYABLE.has(sqlState(err) ?? '')) continue;
      throw err;
    } finally {
      // A connection that could not roll back is destroyed, never reused.
      c.release(broken);
    }
  }
}

export function sqlState(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

/** A named statement: parsed and planned once per connection. */
export async function q<R extends QueryResultRow>(c: pg.Pool | PoolClient, name: string, text: string, values: readonly unknown[] = []): Promise<R[]> {
  return (await c.query<R>({ name, text, values: values as unknown[] })).rows;
}
