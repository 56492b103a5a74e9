import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acceptsConnections, freePort } from './loopback-ports.ts';

export interface PostgresOptions {
  /**
   * Directory holding `initdb` and `postgres`; default: `PG_BIN` from the
   * environment, then the newest /usr/lib/postgresql/<version>/bin (Debian
   * keeps them off PATH), then `pg_config --bindir`.
   */
  readonly binDir?: string;
  /** How long to wait for the server to accept connections (initdb not counted). */
  readonly startTimeoutMs?: number;
  /** Extra `-c name=value` server settings, after the test defaults. */
  readonly settings?: Readonly<Record<string, string | number>>;
}

/** A throw-away PostgreSQL server on loopback, for tests and benchmarks. */
export interface RunningPostgres {
  /** Superuser `suido`, no password (trust on loopback), database `postgres`. */
  readonly url: string;
  readonly port: number;
  /** Its data directory and socket live here; removed by stop(). */
  readonly dir: string;
  readonly pid: number;
  /** The URL of another database of this server (create it first). */
  databaseUrl(database: string): string;
  /** What postgres logged (warnings and errors), for a failing test's message. */
  output(): string;
  /** Fast shutdown (SIGINT: open transactions roll back), SIGKILL after 5 s; removes its directory. */
  stop(): Promise<void>;
}

/** Thrown when there is no PostgreSQL server to run: tests must fail, not skip, without it. */
export class PostgresMissingError extends Error {
  readonly code = 'POSTGRES_MISSING';
  constructor(where: string) {
    super(`no PostgreSQL server binaries (${where}): the PostgreSQL store's tests need PostgreSQL 15 or newer (Debian/Ubuntu: apt-get install postgresql; .ci/run installs it)`);
    this.name = 'PostgresMissingError';
  }
}

class PortTakenError extends Error {}

/**
 * Starts a new cluster: `initdb` into a new temporary directory (superuser
 * `suido`, trust authentication, C locale, no fsync), then `postgres`
 * listening on 127.0.0.1 at a free port with its socket in that directory.
 * Durability is off (fsync, synchronous_commit, full_page_writes): the tests
 * check behaviour, not crash safety, and a shared CPU should not wait on
 * disks. Resolves once the server accepts TCP connections.
 *
 * PostgreSQL refuses to run as root. When the tests run as root (CI
 * containers), both programs run as the `postgres` system user: spawned with
 * its uid and gid directly rather than through `runuser`, so that the pid
 * held here is the postmaster's own and a SIGKILL on exit reaches it (runuser
 * forks and would be the one killed).
 */
export async function startPostgres(opts: PostgresOptions = {}): Promise<RunningPostgres> {
  const bin = opts.binDir ?? findBinDir();
  if (!existsSync(join(bin, 'postgres')) || !existsSync(join(bin, 'initdb'))) throw new PostgresMissingError(`looked in ${bin}`);
  const user = serverUser();
  const dir = await mkdtemp(join(tmpdir(), 'suido-postgres-'));
  try {
    if (user) await chown(dir, user.uid, user.gid);
    const data = join(dir, 'data');
    await run(join(bin, 'initdb'), ['-D', data, '-U', 'suido', '--auth=trust', '--locale=C', '--encoding=UTF8', '--no-sync', '--no-instructions'], dir, user);
    // Two tries: a port found free here can be taken before postgres binds it.
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      try {
        return await spawnServer(bin, data, dir, port, user, opts);
      } catch (err) {
        if (attempt >= 2 || !(err instanceof PortTakenError)) throw err;
      }
    }
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

interface ServerUser {
  readonly uid: number;
  readonly gid: number;
}

function serverUser(): ServerUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
  const uid = id('-u');
  const gid = id('-g');
  if (uid.status !== 0 || gid.status !== 0) {
    throw new Error("running as root, and there is no 'postgres' user to run PostgreSQL as (it refuses root); Debian's postgresql package creates it");
  }
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

function findBinDir(): string {
  if (process.env.PG_BIN) return process.env.PG_BIN;
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    const versions = spawnSync('ls', [debian], { encoding: 'utf8' })
      .stdout.split('\n')
      .filter((v) => /^\d+$/.test(v) && existsSync(join(debian, v, 'bin', 'postgres')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return join(debian, versions[0], 'bin');
  }
  const config = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  if (config.status === 0 && config.stdout.trim() !== '') return config.stdout.trim();
  throw new PostgresMissingError(`no PG_BIN, no ${debian}/<version>/bin, no pg_config on PATH`);
}

function spawnAs(binary: string, args: readonly string[], cwd: string, user: ServerUser | undefined): ChildProcess {
  return spawn(binary, args, {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    // Locale from the cluster, not from the caller's environment; HOME for the server user.
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C', LC_ALL: 'C', HOME: cwd },
    ...(user && { uid: user.uid, gid: user.gid }),
  });
}

async function run(binary: string, args: readonly string[], cwd: string, user: ServerUser | undefined): Promise<void> {
  const child = spawnAs(binary, args, cwd, user);
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (c) => resolve(c));
  });
  if (code !== 0) throw new Error(`${binary} ${args[0] ?? ''} failed (exit ${code}):\n${output}`);
}

async function spawnServer(bin: string, data: string, dir: string, port: number, user: ServerUser | undefined, opts: PostgresOptions): Promise<RunningPostgres> {
  const settings: Record<string, string | number> = {
    listen_addresses: '127.0.0.1',
    port,
    unix_socket_directories: dir,
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    max_connections: 200,
    shared_buffers: '64MB',
    log_min_messages: 'warning',
    logging_collector: 'off',
    ...opts.settings,
  };
  const args = ['-D', data, ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
  const child = spawnAs(join(bin, 'postgres'), args, dir, user);
  let output = '';
  let exited = false;
  let spawnError: Error | undefined;
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exit = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      resolve();
    });
    child.once('error', (err) => {
      spawnError = err;
      exited = true;
      resolve();
    });
  });
  // A test runner that dies must not leave a server behind.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const halt = async () => {
    process.removeListener('exit', killOnExit);
    if (exited) return;
    child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exit;
    clearTimeout(timer);
  };

  const timeoutMs = opts.startTimeoutMs ?? 20_000;
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      if (spawnError) throw spawnError;
      if (exited) {
        if (/could not bind|address already in use/i.test(output)) throw new PortTakenError(output);
        throw new Error(`postgres exited before accepting connections on port ${port}:\n${output}`);
      }
      // The postmaster accepts TCP before recovery ends; the log line says it is ready for queries.
      if (/ready to accept connections/.test(output) && (await acceptsConnections(port))) break;
      if (Date.now() > deadline) throw new Error(`postgres did not accept connections on port ${port} within ${timeoutMs} ms:\n${output}`);
      await new Promise((r) => setTimeout(r, 30));
    }
  } catch (err) {
    await halt();
    throw err;
  }

  let stopping: Promise<void> | undefined;
  const databaseUrl = (database: string) => `postgresql://suido@127.0.0.1:${port}/${encodeURIComponent(database)}`;
  return {
    url: databaseUrl('postgres'),
    port,
    dir,
    pid: child.pid!,
    databaseUrl,
    output: () => output,
    stop: () =>
      (stopping ??= (async () => {
        await halt();
        await rm(dir, { recursive: true, force: true });
      })()),
  };
}

