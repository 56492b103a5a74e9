import type { Logger } from 'pino';
import type { AlertChange, AlertEvent, ConsumerStatePut, Store, SystemActor } from '@suido/ingest';
import { cursorState, loadFeedPosition, type FeedPosition } from './consumer-cursor.ts';
import { FeedConsumer } from './feed-consumer.ts';

/** What an alert engine over a store feed is given (the leak engine, the meter rules). */
export interface AlertFeedConsumerOptions {
  readonly store: Store;
  readonly log: Logger;
  /** Its consumer state's name (the cursor; per-source states under `{name}/…`). */
  readonly consumerName?: string | undefined;
  /**
   * The cursor's own name when it differs from `consumerName` (a detect
   * worker's partition keeps its own cursor; per-source states stay under
   * `consumerName`, so a source keeps its state whichever partition holds it).
   */
  readonly cursorName?: string | undefined;
  /** The sources this engine decides for (a worker's partition); items of others are passed over. Default: all. */
  readonly owns?: ((sourceId: string) => boolean) | undefined;
  /** Feed items taken per pass (one transaction). */
  readonly batchSize?: number | undefined;
  /** Pause between passes when caught up. */
  readonly pollMs?: number | undefined;
  /** Told the events of each commit, after it (e.g. to nudge the MQTT relay). */
  readonly onEvents?: ((events: readonly AlertEvent[]) => void) | undefined;
}

/** Each engine's own defaults and names. */
export interface AlertFeedConsumerDefaults {
  readonly consumerName: string;
  readonly batchSize: number;
  readonly pollMs: number;
  /** What a pass is, for the failure log. */
  readonly what: string;
  /** Who the alert audit names for this engine's changes. */
  readonly actor: SystemActor;
  /** Logs one committed event (each engine names its source its own way). */
  readonly logEvent: (log: Logger, event: AlertEvent) => void;
}

/**
 * What both alert engines share: options and names, and the commit that makes
 * a pass count — the alert changes, the feed cursor (fenced by its version)
 * and the per-source states in one transaction, then the position moved on
 * and the events told. A crash before the commit loses nothing (the next
 * engine reads the same page from the same cursor and states); a crash after
 * it repeats nothing.
 */
export abstract class AlertFeedConsumer<Pass extends { readonly more: boolean }> extends FeedConsumer<Pass> {
  readonly consumerName: string;
  readonly cursorName: string;
  protected readonly store: Store;
  protected readonly log: Logger;
  protected readonly batchSize: number;
  protected readonly owns: ((sourceId: string) => boolean) | undefined;
  private readonly onEvents: ((events: readonly AlertEvent[]) => void) | undefined;
  private readonly defaults: AlertFeedConsumerDefaults;

  constructor(opts: AlertFeedConsumerOptions, defaults: AlertFeedConsumerDefaults) {
    super({ log: opts.log, idleMs: opts.pollMs ?? defaults.pollMs, what: defaults.what });
    this.consumerName = opts.consumerName ?? defaults.consumerName;
    this.cursorName = opts.cursorName ?? this.consumerName;
    this.owns = opts.owns;
    this.store = opts.store;
    this.log = opts.log;
    this.batchSize = opts.batchSize ?? defaults.batchSize;
    this.onEvents = opts.onEvents;
    this.defaults = defaults;
  }

  /** Where the pass starts: the position kept from the last commit, or the store's. */
  protected async startPosition(): Promise<FeedPosition> {
    return this.position ?? (await loadFeedPosition(this.store, this.cursorName));
  }

  /** Commits a pass that read up to `cursor` from `from`; returns the events it recorded. */
  protected async commitPass(from: FeedPosition, cursor: number, changes: AlertChange[], sourceStates: ConsumerStatePut[]): Promise<readonly AlertEvent[]> {
    const states: ConsumerStatePut[] = [{ name: this.cursorName, value: cursorState(cursor), expectedVersion: from.version }, ...sourceStates];
    const result = await this.store.commitAlertChanges({ actor: this.defaults.actor, changes, states });
    this.position = { cursor, version: result.stateVersions[this.cursorName]! };
    if (result.events.length > 0) {
      for (const e of result.events) this.defaults.logEvent(this.log, e);
      this.onEvents?.(result.events);
    }
    return result.events;
  }
}
