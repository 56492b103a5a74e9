import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts } from './loopback-ports.ts';

export interface InfluxdOptions {
  /** The influxd binary; default `influxd` on PATH (Debian's `influxdb` package, 1.x). */
  readonly binary?: string;
  /** How long to wait for /ping to answer. */
  readonly startTimeoutMs?: number;
  /**
   * `tsi1` keeps the series index on disk (what 600,000 meters need, README:
   * Storage); `inmem` starts faster and is enough for tests.
   */
  readonly indexVersion?: 'inmem' | 'tsi1';
  /** 1.x refuses new series beyond this per database; 0 lifts the limit. */
  readonly maxSeriesPerDatabase?: number;
  /** 1.x refuses a tag's new values beyond this (default 100,000: fewer than a city's meters); 0 lifts it. */
  readonly maxValuesPerTag?: number;
}

/** A throw-away InfluxDB 1.x server on loopback, for tests and benchmarks. */
export interface RunningInfluxd {
  /** Base URL of its HTTP API, e.g. http://127.0.0.1:41234. */
  readonly url: string;
  /** Its data, meta and WAL directories live here; removed by stop(). */
  readonly dir: string;
  /** The current server process (it changes when bringUp() starts a new one). */
  readonly pid: number;
  /** What influxd printed (its log level is warn), for a failing test's message. */
  output(): string;
  /** Stops the server (SIGTERM, then SIGKILL after 5 s) and removes its directory. */
  stop(): Promise<void>;
  /** A fault: stops the server but keeps its directory and port for bringUp(). */
  takeDown(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Starts the server again on the same directory and port; resolves once /ping answers. */
  bringUp(): Promise<void>;
}

/** Thrown when there is no influxd to run: tests must fail, not skip, without it. */
export class InfluxdMissingError extends Error {
  readonly code = 'INFLUXD_MISSING';
  constructor(binary: string) {
    super(`'${binary}' was not found: the InfluxDB store's tests need InfluxDB 1.x (Debian/Ubuntu: apt-get install influxdb; .ci/run installs it)`);
    this.name = 'InfluxdMissingError';
  }
}

/**
 * Starts influxd with a generated configuration: HTTP on a free loopback
 * port, the RPC service (8088 by default, it cannot be turned off) moved to
 * another free loopback port, usage reporting and the _internal monitor
 * database off, everything under a new temporary directory. Resolves once
 * /ping answers 204.
 */
export async function startInfluxd(opts: InfluxdOptions = {}): Promise<RunningInfluxd> {
  const binary = opts.binary ?? 'influxd';
  // Two tries: a free port found here can be taken by another process before influxd binds it.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(binary, opts);
    } catch (err) {
      if (attempt >= 2 || !(err instanceof PortTakenError)) throw err;
    }
  }
}

class PortTakenError extends Error {}

interface ServerProcess {
  readonly child: ChildProcess;
  readonly exit: Promise<void>;
  exited(): { code: number | null; signal: NodeJS.Signals | null } | undefined;
  spawnError(): NodeJS.ErrnoException | undefined;
}

function spawnServer(binary: string, config: string, keep: (chunk: Buffer) => void): ServerProcess {
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let spawnError: NodeJS.ErrnoException | undefined;
  const child = spawn(binary, ['-config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exit = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      resolve();
    });
    child.once('error', (err: NodeJS.ErrnoException) => {
      spawnError = err;
      exited ??= { code: null, signal: null };
      resolve();
    });
  });
  return { child, exit, exited: () => exited, spawnError: () => spawnError };
}

async function waitForPing(binary: string, server: ServerProcess, url: string, timeoutMs: number, output: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const spawnError = server.spawnError();
    if (spawnError?.code === 'ENOENT') throw new InfluxdMissingError(binary);
    if (spawnError) throw spawnError;
    const exited = server.exited();
    if (exited) {
      if (/address already in use/i.test(output())) throw new PortTakenError(output());
      throw new Error(`influxd exited (code ${exited.code}, signal ${exited.signal}) before answering /ping:\n${output()}`);
    }
    if (await pings(url)) return;
    if (Date.now() > deadline) throw new Error(`influxd did not answer ${url}/ping within ${timeoutMs} ms:\n${output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function startOnce(binary: string, opts: InfluxdOptions): Promise<RunningInfluxd> {
  const dir = await mkdtemp(join(tmpdir(), 'suido-influxd-'));
  const [httpPort, rpcPort] = (await freePorts(2)) as [number, number];
  const config = join(dir, 'influxdb.conf');
  await writeFile(config, configText(dir, httpPort, rpcPort, opts));
  const url = `http://127.0.0.1:${httpPort}`;
  const timeoutMs = opts.startTimeoutMs ?? 20_000;

  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  let server = spawnServer(binary, config, keep);
  // A test runner that dies must not leave a server behind.
  const killOnExit = () => server.child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const cleanup = async () => {
    process.removeListener('exit', killOnExit);
    await stopChild(server.child, server.exit, () => server.exited() !== undefined);
    await rm(dir, { recursive: true, force: true });
  };

  try {
    await waitForPing(binary, server, url, timeoutMs, () => output);
  } catch (err) {
    await cleanup();
    throw err;
  }

  let stopping: Promise<void> | undefined;
  return {
    url,
    dir,
    get pid() {
      return server.child.pid!;
    },
    output: () => output,
    stop: () => (stopping ??= cleanup()),
    takeDown: async (signal = 'SIGTERM') => {
      if (server.exited()) return;
      if (signal === 'SIGKILL') server.child.kill('SIGKILL');
      await stopChild(server.child, server.exit, () => server.exited() !== undefined);
    },
    bringUp: async () => {
      if (!server.exited()) return;
      server = spawnServer(binary, config, keep);
      await waitForPing(binary, server, url, timeoutMs, () => output);
    },
  };
}

async function stopChild(child: ChildProcess, exit: Promise<void>, hasExited: () => boolean): Promise<void> {
  if (hasExited()) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exit;
  clearTimeout(timer);
}

async function pings(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return res.status === 204;
  } catch {
    return false;
  }
}

/**
 * influxd 1.x configuration (TOML). Only what differs from the defaults: the
 * listeners, the directories, and the quiet settings a test wants. Both
 * spellings of the reporting switch are written: upstream 1.x reads
 * `reporting-disabled`, Debian's build prints `reporting-enabled`; influxd
 * ignores the one it does not know.
 */
function configText(dir: string, httpPort: number, rpcPort: number, opts: InfluxdOptions): string {
  const q = (s: string) => JSON.stringify(s);
  return `reporting-disabled = true
reporting-enabled = false
bind-address = ${q(`127.0.0.1:${rpcPort}`)}

[meta]
  dir = ${q(join(dir, 'meta'))}
  logging-enabled = false

[data]
  dir = ${q(join(dir, 'data'))}
  wal-dir = ${q(join(dir, 'wal'))}
  index-version = ${q(opts.indexVersion ?? 'inmem')}
  max-series-per-database = ${opts.maxSeriesPerDatabase ?? 1_000_000}
  max-values-per-tag = ${opts.maxValuesPerTag ?? 100_000}
  query-log-enabled = false

[http]
  bind-address = ${q(`127.0.0.1:${httpPort}`)}
  log-enabled = false
  pprof-enabled = false

[monitor]
  store-enabled = false

[subscriber]
  enabled = false

[continuous_queries]
  log-enabled = false

[logging]
  level = "warn"
  suppress-logo = true
`;
}
