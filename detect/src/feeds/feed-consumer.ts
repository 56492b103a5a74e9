import type { Logger } from 'pino';
import type { FeedPosition } from './consumer-cursor.ts';
import { PollLoop } from './poll-loop.ts';

export interface FeedConsumerLoop {
  readonly log: Logger;
  /** Pause between passes when caught up. */
  readonly idleMs: number;
  /** First pause after a failure, doubling up to 30 s. Default 1,000 ms. */
  readonly backoffMs?: number | undefined;
  /** What a pass is, for the failure log. */
  readonly what: string;
}

/**
 * What every consumer of a store feed shares (the scorer, the alert engines,
 * the alert relay): a poll loop that runs passes at once while there is a
 * backlog and idles when caught up, and a position (cursor and its stored
 * version) that is dropped after any failure, so the next pass reloads it
 * from the store instead of trusting what a failed commit may have left.
 */
export abstract class FeedConsumer<Pass extends { readonly more: boolean }> {
  protected position: FeedPosition | undefined;
  private readonly loop: PollLoop;

  constructor(loop: FeedConsumerLoop) {
    this.loop = new PollLoop({
      pass: async () => (await this.runOnce()).more,
      idleMs: loop.idleMs,
      backoffMs: loop.backoffMs ?? 1000,
      maxBackoffMs: 30_000,
      log: loop.log,
      what: loop.what,
    });
  }

  /** Runs passes until stopped. */
  start(): void {
    this.loop.start();
  }

  /** Run a pass soon: new data was stored. */
  nudge(): void {
    this.loop.nudge();
  }

  /** Waits for the pass in flight; what it did not commit, the next consumer does. */
  async stop(): Promise<void> {
    await this.loop.stop();
  }

  /** Passes until the feed is drained (tests, batch jobs). */
  async drain(): Promise<Pass[]> {
    const passes: Pass[] = [];
    for (;;) {
      const pass = await this.runOnce();
      passes.push(pass);
      if (!pass.more) return passes;
    }
  }

  async runOnce(): Promise<Pass> {
    try {
      return await this.pass();
    } catch (err) {
      this.position = undefined;
      throw err;
    }
  }

  /** One page of the feed: decide, commit, advance the position. */
  protected abstract pass(): Promise<Pass>;
}
