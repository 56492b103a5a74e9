import { setTimeout as sleepFor } from 'node:timers/promises';

export interface SimClockOptions {
  /** Simulated time at the start, ms since the epoch; not after the wall clock. */
  readonly startMs: number;
  /** Simulated milliseconds per wall millisecond until caught up; at least 1. */
  readonly speed: number;
  /** The real clock; injectable so tests control time. */
  readonly wallClock?: () => number;
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/**
 * Simulated time that runs `speed` times faster than the wall clock but never
 * ahead of it: the server refuses timestamps from the future, so once the
 * simulation catches up with the present it runs in real time.
 *
 *   sim(wall) = min(wall, start + (wall - wallAtStart) * speed)
 */
export class SimClock {
  readonly startMs: number;
  readonly speed: number;
  readonly wallStartMs: number;
  /** The instant (simulated and real alike) at which the clock catches up; Infinity at speed 1 from the past. */
  readonly caughtUpAtMs: number;
  private readonly wall: () => number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;

  constructor(opts: SimClockOptions) {
    if (!(opts.speed >= 1) || !Number.isFinite(opts.speed)) throw new RangeError(`clock speed must be a finite number >= 1, got ${opts.speed}`);
    this.wall = opts.wallClock ?? Date.now;
    this.sleep = opts.sleep ?? ((ms, signal) => sleepFor(ms, undefined, { signal }));
    this.wallStartMs = this.wall();
    if (opts.startMs > this.wallStartMs) {
      throw new RangeError(`clock start ${new Date(opts.startMs).toISOString()} is in the future; the server would refuse its timestamps`);
    }
    this.startMs = opts.startMs;
    this.speed = opts.speed;
    const behind = this.wallStartMs - this.startMs;
    if (behind === 0) this.caughtUpAtMs = this.wallStartMs;
    else if (this.speed === 1) this.caughtUpAtMs = Infinity;
    else this.caughtUpAtMs = this.wallStartMs + behind / (this.speed - 1);
  }

  now(): number {
    const w = this.wall();
    return Math.min(w, this.startMs + (w - this.wallStartMs) * this.speed);
  }

  isCaughtUp(): boolean {
    return this.wall() >= this.caughtUpAtMs;
  }

  /** The wall instant at which the simulated clock reads `simMs`. */
  wallTimeFor(simMs: number): number {
    return Math.max(this.wallStartMs + (simMs - this.startMs) / this.speed, simMs);
  }

  /** Resolves once simulated time has reached `simMs`; rejects with an AbortError when `signal` aborts. */
  async until(simMs: number, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    // Timers may fire a little early, and a long real-time wait is better
    // re-checked against the clock than trusted in one piece.
    for (;;) {
      const wait = this.wallTimeFor(simMs) - this.wall();
      if (wait <= 0) return;
      await this.sleep(Math.min(Math.ceil(wait), 60_000), signal);
    }
  }
}
