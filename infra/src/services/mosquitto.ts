import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { acceptsConnections, freePort } from './loopback-ports.ts';

/** The broker behaviour production uses (persistence, queues, windows); tests include it unchanged. */
export const SUIDO_MOSQUITTO_CONF_D = fileURLToPath(new URL('../../mosquitto/conf.d', import.meta.url));

export interface MosquittoOptions {
  /** The broker binary; default `mosquitto` on PATH, then Debian's /usr/sbin/mosquitto. */
  readonly binary?: string;
  /** `mosquitto_passwd`, to hash `users` into a password file. */
  readonly passwdBinary?: string;
  /** Username → password. When given, anonymous clients are refused. */
  readonly users?: Readonly<Record<string, string>>;
  /** An ACL file (Mosquitto's format); default: none, every client may use every topic. */
  readonly aclFile?: string;
  /** Directory of `*.conf` included after the generated lines; default the production one. null: none. */
  readonly includeDir?: string | null;
  /** How long to wait for the listener to accept connections. */
  readonly startTimeoutMs?: number;
}

/** A throw-away Mosquitto on loopback, for tests and benchmarks. */
export interface RunningMosquitto {
  /** e.g. mqtt://127.0.0.1:41234 */
  readonly url: string;
  readonly port: number;
  /** Its configuration and persistence live here; removed by stop(). */
  readonly dir: string;
  /** The process now running (changes on restart). */
  pid(): number;
  /** What mosquitto logged (errors, warnings, notices), for a failing test's message. */
  output(): string;
  /**
   * Stops the broker (SIGTERM: Mosquitto writes its persistence snapshot)
   * and starts it again on the same port and directory, as after a
   * maintenance restart. With `crash`, SIGKILL instead: no snapshot.
   */
  restart(opts?: { readonly crash?: boolean }): Promise<void>;
  /** Stops the broker (SIGTERM, then SIGKILL after 5 s) and removes its directory. */
  stop(): Promise<void>;
}

/** Thrown when there is no mosquitto to run: tests must fail, not skip, without it. */
export class MosquittoMissingError extends Error {
  readonly code = 'MOSQUITTO_MISSING';
  constructor(binary: string) {
    super(`'${binary}' was not found: the external-broker tests need Mosquitto 2 (Debian/Ubuntu: apt-get install mosquitto)`);
    this.name = 'MosquittoMissingError';
  }
}

class PortTakenError extends Error {}

/**
 * Starts mosquitto with a generated configuration: one listener on a free
 * loopback port, persistence in a new temporary directory, logs to stderr,
 * then the production behaviour from infra/mosquitto/conf.d. Resolves once
 * the listener accepts TCP connections.
 */
export async function startMosquitto(opts: MosquittoOptions = {}): Promise<RunningMosquitto> {
  const binary = opts.binary ?? findMosquitto();
  const dir = await mkdtemp(join(tmpdir(), 'suido-mosquitto-'));
  try {
    await mkdir(join(dir, 'data'));
    if (opts.users) writePasswordFile(opts.passwdBinary ?? 'mosquitto_passwd', join(dir, 'passwd'), opts.users);
    // Two tries: a port found free here can be taken before mosquitto binds it.
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const config = join(dir, 'mosquitto.conf');
      await writeFile(config, configText(dir, port, opts));
      try {
        const proc = await spawnBroker(binary, config, port, opts.startTimeoutMs ?? 10_000);
        return running(binary, config, dir, port, proc, opts.startTimeoutMs ?? 10_000);
      } catch (err) {
        if (attempt >= 2 || !(err instanceof PortTakenError)) throw err;
      }
    }
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

function findMosquitto(): string {
  const onPath = spawnSync('sh', ['-c', 'command -v mosquitto'], { encoding: 'utf8' });
  if (onPath.status === 0 && onPath.stdout.trim() !== '') return onPath.stdout.trim();
  // Debian installs the broker in /usr/sbin, which is not on every user's PATH.
  return '/usr/sbin/mosquitto';
}

function writePasswordFile(passwdBinary: string, file: string, users: Readonly<Record<string, string>>): void {
  let first = true;
  for (const [user, password] of Object.entries(users)) {
    // -b takes the password as an argument: fine for throw-away test users.
    const args = first ? ['-c', '-b', file, user, password] : ['-b', file, user, password];
    const r = spawnSync(passwdBinary, args, { encoding: 'utf8' });
    if (r.error) throw r.error;
    if (r.status !== 0) throw new Error(`${passwdBinary} failed for user '${user}': ${r.stderr}`);
    first = false;
  }
}

interface BrokerProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  hasExited(): boolean;
  output(): string;
}

async function spawnBroker(binary: string, config: string, port: number, startTimeoutMs: number, carried = ''): Promise<BrokerProcess> {
  let output = carried;
  let exited = false;
  let spawnError: NodeJS.ErrnoException | undefined;
  const child = spawn(binary, ['-c', config], { stdio: ['ignore', 'pipe', 'pipe'] });
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
    child.once('error', (err: NodeJS.ErrnoException) => {
      spawnError = err;
      exited = true;
      resolve();
    });
  });
  const proc: BrokerProcess = { child, exited: exit, hasExited: () => exited, output: () => output };
  const deadline = Date.now() + startTimeoutMs;
  for (;;) {
    if (spawnError?.code === 'ENOENT') throw new MosquittoMissingError(binary);
    if (spawnError) throw spawnError;
    if (exited) {
      if (/address already in use/i.test(output)) throw new PortTakenError(output);
      throw new Error(`mosquitto exited before listening on port ${port}:\n${output}`);
    }
    if (await acceptsConnections(port)) return proc;
    if (Date.now() > deadline) {
      await stopChild(proc, 'SIGKILL');
      throw new Error(`mosquitto did not listen on port ${port} within ${startTimeoutMs} ms:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 30));
  }
}

function running(binary: string, config: string, dir: string, port: number, first: BrokerProcess, startTimeoutMs: number): RunningMosquitto {
  let proc = first;
  // A test runner that dies must not leave a broker behind.
  const killOnExit = () => proc.child.kill('SIGKILL');
  process.once('exit', killOnExit);
  let stopping: Promise<void> | undefined;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    dir,
    pid: () => proc.child.pid!,
    output: () => proc.output(),
    async restart(o = {}) {
      await stopChild(proc, o.crash ? 'SIGKILL' : 'SIGTERM');
      proc = await spawnBroker(binary, config, port, startTimeoutMs, proc.output());
    },
    stop: () =>
      (stopping ??= (async () => {
        process.removeListener('exit', killOnExit);
        await stopChild(proc, 'SIGTERM');
        await rm(dir, { recursive: true, force: true });
      })()),
  };
}

async function stopChild(proc: BrokerProcess, signal: NodeJS.Signals): Promise<void> {
  if (proc.hasExited()) return;
  proc.child.kill(signal);
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), 5000);
  await proc.exited;
  clearTimeout(timer);
}

/**
 * Only what a throw-away broker needs on top of the production behaviour:
 * where it listens and keeps its files, who may connect, where it logs.
 * Mosquitto run as root drops to the `mosquitto` user, which could not write
 * a root-owned temporary directory; `user` keeps it as whoever runs the test.
 */
function configText(dir: string, port: number, opts: MosquittoOptions): string {
  const includeDir = opts.includeDir === undefined ? SUIDO_MOSQUITTO_CONF_D : opts.includeDir;
  const lines = [
    '# Generated by @suido/infra/services (startMosquitto) for a test.',
    `user ${userInfo().username}`,
    `listener ${port} 127.0.0.1`,
    // Trailing slash required: Mosquitto appends the file name to this string.
    `persistence_location ${join(dir, 'data')}/`,
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    'log_type notice',
    opts.users ? `password_file ${join(dir, 'passwd')}` : '',
    `allow_anonymous ${opts.users ? 'false' : 'true'}`,
    opts.aclFile ? `acl_file ${opts.aclFile}` : '',
    includeDir ? `include_dir ${includeDir}` : '',
  ];
  return `${lines.filter((l) => l !== '').join('\n')}\n`;
}
