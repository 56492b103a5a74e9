import type { Logger } from 'pino';
import type { Store } from '@suido/ingest';
import type { AlertPublisher } from './alert-publisher.ts';
import { cursorState, loadFeedPosition } from '../feeds/consumer-cursor.ts';
import { FeedConsumer } from '../feeds/feed-consumer.ts';

export interface RelayPass {
  readonly published: number;
  readonly more: boolean;
}

export interface AlertRelayOptions {
  readonly store: Store;
  readonly publisher: AlertPublisher;
  readonly log: Logger;
  /** Its consumer state's name (the cursor over alert events). Default `alert-publisher`. */
  readonly consumerName?: string | undefined;
  /** Events per pass. Default 100. */
  readonly batchSize?: number | undefined;
  /** Pause between passes when caught up; engines nudge it after a commit. Default 1,000 ms. */
  readonly pollMs?: number | undefined;
  /** First pause after a failed publish, doubling up to 30 s. Default 1,000 ms. */
  readonly retryMs?: number | undefined;
  /**
   * The alert sources (sensor or meter ids) whose events this relay publishes
   * (a detect worker's partition: one relay per partition, so no event is
   * published by two workers beyond at-least-once). Default: all.
   */
  readonly owns?: ((sourceId: string) => boolean) | undefined;
}

/**
 * Publishes every alert event the store records, in the order recorded,
 * after its commit (it reads them from the store, so it cannot see one that
 * was not committed). Its cursor over the event table is consumer state in
 * the store, advanced after each event is acknowledged by the broker: an
 * event that could not be published is retried from the table, not lost; a
 * crash between the PUBACK and the cursor write publishes that event again
 * (at least once: subscribers deduplicate by `eventId`). Events are
 * published one at a time, so a subscriber sees each alert's changes in
 * order; one cursor write per event is cheap at alert rates (tens a day) and
 * keeps a replay after a crash to one event.
 */
export class AlertRelay extends FeedConsumer<RelayPass> {
  private readonly opts: AlertRelayOptions;
  private readonly consumerName: string;
  private published = 0;

  constructor(opts: AlertRelayOptions) {
    super({ log: opts.log, idleMs: opts.pollMs ?? 1000, backoffMs: opts.retryMs ?? 1000, what: 'alert publishing' });
    this.opts = opts;
    this.consumerName = opts.consumerName ?? 'alert-publisher';
  }

  /** Events published since this relay started. */
  get publishedCount(): number {
    return this.published;
  }

  /** One page: publish in order, advancing the stored cursor after each PUBACK. */
  protected async pass(): Promise<RelayPass> {
    const { store, publisher } = this.opts;
    const batchSize = this.opts.batchSize ?? 100;
    let position = this.position ?? (await loadFeedPosition(store, this.consumerName));
    const page = await store.alertEventsAfter(position.cursor, batchSize);
    const owns = this.opts.owns;
    let published = 0;
    for (const event of page.events) {
      if (owns && !owns(event.alert.sourceId)) continue;
      await publisher.publish(event);
      const version = await store.putConsumerState(this.consumerName, cursorState(event.id), position.version);
      position = { cursor: event.id, version };
      this.position = position;
      this.published++;
      published++;
    }
    // Events of other partitions are passed over: the cursor moves to the page's end.
    const last = page.events.at(-1);
    if (last && position.cursor < last.id) {
      const version = await store.putConsumerState(this.consumerName, cursorState(last.id), position.version);
      this.position = { cursor: last.id, version };
    }
    return { published, more: page.events.length === batchSize };
  }
}
