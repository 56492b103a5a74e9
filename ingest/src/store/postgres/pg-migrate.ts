import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import pg from 'pg';
import type { Logger } from 'pino';
import { POSTGRES_DEFAULTS, type PostgresConnection } from './pg-pool.ts';

/** The versioned migrations, one SQL file each, named `<13-digit ms timestamp>_<what>.sql`, applied in name order. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations', import.meta.url));

/** node-pg-migrate's record of what ran, in Suido's schema. */
export const MIGRATIONS_TABLE = 'suido_migrations';

export interface MigrateOptions {
  readonly log?: Logger | undefined;
  /** How long to wait for another process's migration to finish. */
  readonly lockWaitMs?: number | undefined;
}

/**
 * Brings the schema up to date with node-pg-migrate: the migrations not yet
 * recorded in `suido_migrations` run in ONE transaction (all or none), in
 * name order; one run after another is refused (checkOrder).
 *
 * Several processes may start at once (ingest workers, the API, the
 * detector). node-pg-migrate serialises them with a session advisory lock,
 * but takes it with pg_try_advisory_lock and throws "Another migration is
 * already running" rather than waiting (runner.js, node-pg-migrate 8). So a
 * process that loses the race waits and runs again; by then the winner has
 * committed, and the second run finds nothing to do. Returns the names of
 * the migrations this call applied.
 */
export async function migrate(c: PostgresConnection, opts: MigrateOptions = {}): Promise<string[]> {
  const schema = c.schema ?? POSTGRES_DEFAULTS.schema;
  const deadline = Date.now() + (opts.lockWaitMs ?? 120_000);
  const log = opts.log;
  for (let wait = 50; ; wait = Math.min(wait * 2, 1000)) {
    const client = new pg.Client({ connectionString: c.url, application_name: 'suido-migrate', connectionTimeoutMillis: 10_000 });
    await client.connect();
    try {
      const applied = await runner({
        dbClient: client,
        dir: MIGRATIONS_DIR,
        direction: 'up',
        migrationsTable: MIGRATIONS_TABLE,
        schema,
        createSchema: true,
        singleTransaction: true,
        checkOrder: true,
        // Only .sql files: a .ts migration would need a TypeScript loader in node-pg-migrate's import().
        ignorePattern: '(\\..*|.*(?<!\\.sql))',
        logger: {
          debug: () => {},
          info: () => {},
          warn: (msg: string) => log?.warn({ schema }, `postgres migration: ${msg}`),
          error: (msg: string) => log?.error({ schema }, `postgres migration: ${msg}`),
        },
      });
      for (const m of applied) log?.info({ schema, migration: m.name }, 'postgres migration applied');
      return applied.map((m) => m.name);
    } catch (err) {
      if (!(err instanceof Error && /Another migration is already running/.test(err.message)) || Date.now() > deadline) throw err;
    } finally {
      await client.end().catch(() => {});
    }
    await new Promise((r) => setTimeout(r, wait * (0.5 + Math.random())));
  }
}
