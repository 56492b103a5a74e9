import type { Logger } from 'pino';

export interface PollLoopOptions {
  /** One unit of work; resolves true when there is more to do at once (a full page). */
  readonly pass: () => Promise<boolean>;
  /** Pause when caught up. */
  readonly idleMs: number;
  /** First pause after a failure; doubles up to `maxBackoffMs`. */
  readonly backoffMs: number;
  readonly maxBackoffMs: number;
  readonly log: Logger;
  /** What the loop is, for the failure log. */
  readonly what: string;
}

/**
 * Runs a consumer's pass again and again: at once while it has a backlog,
 * every `idleMs` when caught up, with a growing pause after failures (the
 * store or the broker is away; the pass resumes from its durable cursor).
 * One pass at a time; `nudge` wakes an idle loop; `stop` waits for the pass
 * in flight.
 */
export class PollLoop {
  private readonly opts: PollLoopOptions;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;
  private failures = 0;
  /** A nudge arrived during a pass: run again at once after it. */
  private nudged = false;

  constructor(opts: PollLoopOptions) {
    this.opts = opts;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  /** Run a pass soon: new work was committed. A loop backing off after a failure keeps its pause. */
  nudge(): void {
    if (this.stopped || this.failures > 0) return;
    if (this.running) this.nudged = true;
    else this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.runPass().finally(() => {
        this.running = undefined;
      });
    }, delayMs);
  }

  private async runPass(): Promise<void> {
    let next: number;
    this.nudged = false;
    try {
      const more = await this.opts.pass();
      this.failures = 0;
      next = more || this.nudged ? 0 : this.opts.idleMs;
    } catch (err) {
      this.failures++;
      next = Math.min(this.opts.maxBackoffMs, this.opts.backoffMs * 2 ** (this.failures - 1));
      this.opts.log.warn({ err, failures: this.failures, retryInMs: next }, `${this.opts.what} failed; retrying from its stored cursor`);
    }
    if (!this.stopped) this.schedule(next);
  }
}
