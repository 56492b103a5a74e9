import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

/**
 * A Suido service as a separate OS process (node + tsx, as `npm start -w …`
 * runs it), so that a fault test can SIGKILL it mid-write like a power cut
 * and start it again on the same data. Nothing in the test process shares
 * memory with it.
 */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export interface SuidoProcess {
  readonly pid: number;
  /** The last output lines, for a failing test's message. */
  output(): string;
  /** SIGKILL: no handler runs, nothing is flushed. */
  kill9(): Promise<void>;
  /** SIGTERM and wait (the service commits what it has, then exits). */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Entry point relative to the repository root, e.g. ingest/src/main.ts. */
  readonly entry: string;
  readonly env: Readonly<Record<string, string>>;
  /** Resolves true when the service is ready (e.g. its /readyz answers 200). */
  readonly ready: () => Promise<boolean>;
  readonly timeoutMs?: number;
}

export async function startSuidoProcess(opts: StartOptions): Promise<SuidoProcess> {
  let output = '';
  let exited = false;
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', opts.entry], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', LOG_LEVEL: 'warn', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-8000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exit = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  while (!(await opts.ready().catch(() => false))) {
    if (exited) throw new Error(`${opts.entry} exited before it was ready:\n${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${opts.entry} was not ready within ${opts.timeoutMs ?? 30_000} ms:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const end = async (signal: NodeJS.Signals) => {
    if (!exited) child.kill(signal);
    await exit;
    process.removeListener('exit', killOnExit);
  };
  return { pid: child.pid!, output: () => output, kill9: () => end('SIGKILL'), stop: () => end('SIGTERM') };
}

export async function httpOk(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The line every fault scenario prints, so the note can quote it. */
export interface FaultTally {
  readonly scenario: string;
  readonly kills: number;
  readonly restarts: number;
  readonly sent: number;
  readonly acked: number;
  readonly stored: number;
  readonly duplicates: number;
  readonly lost: number;
}

export function printTally(t: FaultTally): void {
  console.log(
    `fault scenario "${t.scenario}": kills ${t.kills}, restarts ${t.restarts} — sent ${t.sent}, acked ${t.acked}, stored ${t.stored}, duplicates ${t.duplicates}, lost ${t.lost}`,
  );
}
