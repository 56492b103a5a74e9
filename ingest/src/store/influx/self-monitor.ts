import type { Logger } from 'pino';
import type { InfluxHttp } from './influx-http.ts';

/** At most this many self-monitoring lines wait for InfluxDB; past it the oldest are dropped (and counted). */
export const SELF_MONITOR_MAX_LINES = 50_000;

/**
 * Writes the store's self-monitoring points (ingest_batches,
 * ingest_rejections) off the commit path: a commit only queues its lines, and
 * one write at a time carries everything queued since the last, so under
 * load the points go out in batches. They are never part of a commit's own
 * write, so InfluxDB refusing or losing one can never hold back a PUBACK;
 * a failed write is logged and its lines dropped (a gap in a dashboard, not
 * in the data). The queue is bounded (SELF_MONITOR_MAX_LINES).
 */
export class SelfMonitor {
  private queue: string[] = [];
  private flushing: Promise<void> | undefined;
  private dropped = 0;
  private lastAtMs = 0;
  private readonly http: InfluxHttp;
  private readonly log: Logger | undefined;

  constructor(http: InfluxHttp, log?: Logger) {
    this.http = http;
    this.log = log;
  }

  /**
   * A time for the next point, strictly after the previous one: points with
   * the same time and tags overwrite each other in InfluxDB, and two commits
   * can share a millisecond (the ingestor commits a batch's read conflicts
   * with the batch's own receive time).
   */
  nextTime(atMs: number): number {
    this.lastAtMs = Math.max(Math.trunc(atMs), this.lastAtMs + 1);
    return this.lastAtMs;
  }

  record(lines: readonly string[]): void {
    if (lines.length === 0) return;
    this.queue.push(...lines);
    const over = this.queue.length - SELF_MONITOR_MAX_LINES;
    if (over > 0) {
      this.queue.splice(0, over);
      this.dropped += over;
    }
    this.flushing ??= this.drain();
  }

  /** Resolves when everything queued so far has been written or given up (close() awaits it). */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const lines = this.queue;
        this.queue = [];
        try {
          await this.http.write(lines);
        } catch (err) {
          this.dropped += lines.length;
          this.log?.warn({ err, lines: lines.length, droppedTotal: this.dropped }, 'self-monitoring points not written to InfluxDB; dropped');
        }
      }
    } finally {
      this.flushing = undefined;
    }
  }
}
