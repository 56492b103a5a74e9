import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { freePort } from '../services/loopback-ports.ts';

export { freePort };

/**
 * A Suido service run as its own OS process (node + tsx, as `npm start -w …`
 * runs it): for a benchmark, so that its memory can be measured apart from
 * the load generator's (the child is the node process itself, and Linux
 * keeps its peak resident set, VmHWM, for us); for a fault test, so that it
 * can be SIGKILLed mid-write like a power cut, sharing no memory with the test.
 */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export interface ServiceProcess {
  readonly pid: number;
  /** The last output lines, for an error message. */
  output(): string;
  /** Resident set now, MiB (Linux /proc; undefined elsewhere or after exit). */
  rssMiB(): number | undefined;
  /** Peak resident set since start, MiB: the kernel's high-water mark (VmHWM). */
  peakRssMiB(): number | undefined;
  /** SIGTERM (the service commits what it holds and exits), SIGKILL after 10 s. */
  stop(): Promise<void>;
  /** SIGKILL: no handler runs, nothing is flushed. */
  kill9(): Promise<void>;
}

export interface ServiceProcessOptions {
  /** Entry point relative to the repository root, e.g. ingest/src/main.ts. */
  readonly entry: string;
  readonly env: Readonly<Record<string, string>>;
  /** Resolves true once the service is ready (e.g. its /readyz answers 200). */
  readonly ready: () => Promise<boolean>;
  readonly timeoutMs?: number;
  /** Extra node flags, e.g. ['--cpu-prof', '--cpu-prof-dir=/tmp/prof'] to see where a service's time goes. */
  readonly nodeArgs?: readonly string[];
}

export async function startServiceProcess(opts: ServiceProcessOptions): Promise<ServiceProcess> {
  let output = '';
  let exited = false;
  const child: ChildProcess = spawn(process.execPath, [...(opts.nodeArgs ?? []), '--import', 'tsx', opts.entry], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', LOG_LEVEL: 'warn', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-8000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exit = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
  // A benchmark that dies must not leave a service behind.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const timeoutMs = opts.timeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  while (!(await opts.ready().catch(() => false))) {
    if (exited) throw new Error(`${opts.entry} exited before it was ready:\n${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${opts.entry} was not ready within ${timeoutMs} ms:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const pid = child.pid!;
  return {
    pid,
    output: () => output,
    rssMiB: () => (exited ? undefined : procStatusMiB(pid, 'VmRSS')),
    peakRssMiB: () => (exited ? undefined : procStatusMiB(pid, 'VmHWM')),
    async stop() {
      if (!exited) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exit;
      clearTimeout(timer);
      process.removeListener('exit', killOnExit);
    },
    async kill9() {
      if (!exited) child.kill('SIGKILL');
      await exit;
      process.removeListener('exit', killOnExit);
    },
  };
}

/** A field of /proc/<pid>/status in MiB (the kernel writes kB). */
function procStatusMiB(pid: number, field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Whether GET url answers 2xx within a second. */
export async function httpOk(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

/** Percentile (0–100) of values, nearest rank; NaN for none. */
export function percentile(values: ArrayLike<number>, p: number): number {
  const n = values.length;
  if (n === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(n - 1, Math.max(0, Math.ceil((p / 100) * n) - 1))]!;
}
