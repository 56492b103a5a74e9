import type { Logger } from 'pino';
import {
  TOPIC_ROOT,
  decodeAcousticFrame,
  decodeDeviceStatus,
  decodeMeterReads,
  parseTopic,
  type DecodeLimits,
  type DeviceStatus,
  type MeterRead,
  type Rejection,
  type RejectionCode,
} from '../contracts/index.ts';
import type { DeadLetter, FrameToStore, IngestBatch, Store } from '../store/store.ts';
import { summariseFrame } from './frame-summary.ts';
import type { IngestMetrics } from './ingest-metrics.ts';

export interface IngestMessage {
  readonly topic: string;
  readonly payload: Uint8Array;
  /** MQTT client id of the sender, recorded with dead letters. */
  readonly clientId: string | null;
}

export type IngestOutcome = { readonly status: 'stored' } | { readonly status: 'rejected'; readonly code: RejectionCode };

/** The store could not commit: the message is not stored and must not be acknowledged. */
export class StoreUnavailableError extends Error {
  readonly code = 'STORE_UNAVAILABLE';
  constructor(cause: unknown) {
    super(`store commit failed: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = 'StoreUnavailableError';
  }
}

export interface IngestorOptions {
  readonly store: Store;
  readonly limits: DecodeLimits;
  /** A batch is committed when it holds this many items, or after maxDelayMs. */
  readonly batch: { readonly maxItems: number; readonly maxDelayMs: number };
  /** Dead letters keep at most this many bytes of the raw payload. */
  readonly deadLetterMaxBytes: number;
  readonly metrics: IngestMetrics;
  readonly log: Logger;
  readonly clock?: () => number;
  /**
   * Back-pressure: once this many items are received and not yet committed
   * (a slow or failing store), new messages wait undecoded and unacknowledged.
   * The broker reads nothing more from a connection whose message waits, so
   * memory stays bounded by this plus one read per connection.
   */
  readonly maxBacklogItems?: number | undefined;
}

interface Waiter {
  readonly topicKind: string;
  readonly outcome: IngestOutcome;
  readonly message: IngestMessage;
  resolve(outcome: IngestOutcome): void;
  reject(err: Error): void;
}

interface Pending {
  reads: MeterRead[];
  /** For each read, the index of the waiter whose message carried it. */
  readOwners: number[];
  frames: FrameToStore[];
  statuses: DeviceStatus[];
  deadLetters: DeadLetter[];
  repeatedInBatch: number;
  waiters: Waiter[];
  items: number;
}

const emptyPending = (): Pending => ({ reads: [], readOwners: [], frames: [], statuses: [], deadLetters: [], repeatedInBatch: 0, waiters: [], items: 0 });

const DEVICE_TOPIC_PREFIXES = [`${TOPIC_ROOT}/meters/`, `${TOPIC_ROOT}/sensors/`];

/**
 * decode → validate → batch → store. `submit` resolves once the message's
 * data (or its dead letter) is durably committed, which is when a broker may
 * acknowledge it. Deduplication is the store's job: (meter, ts) and
 * (sensor, start) are its keys, so redeliveries across restarts are caught too.
 */
export class Ingestor {
  private pending = emptyPending();
  private timer: NodeJS.Timeout | undefined;
  private committing: Promise<void> = Promise.resolve();
  private closed = false;
  /** Items submitted and not yet committed (or failed): pending plus queued batches. */
  private backlog = 0;
  /** Messages waiting for the backlog to drain, first come first served. */
  private readonly held: (() => void)[] = [];
  private readonly clock: () => number;
  private readonly opts: IngestorOptions;

  constructor(opts: IngestorOptions) {
    this.opts = opts;
    this.clock = opts.clock ?? Date.now;
  }

  /** Device topics are ingest's business; anything else passes through the broker untouched. */
  static handles(topic: string): boolean {
    return DEVICE_TOPIC_PREFIXES.some((p) => topic.startsWith(p));
  }

  submit(message: IngestMessage): Promise<IngestOutcome> {
    if (this.closed) return Promise.reject(new Error('ingestor is closed'));
    const max = this.opts.maxBacklogItems;
    if (max !== undefined && (this.backlog >= max || this.held.length > 0)) {
      this.opts.metrics.waitingMessages.set(this.held.length + 1);
      return new Promise<void>((resolve) => this.held.push(resolve)).then(() => this.submitNow(message));
    }
    return this.submitNow(message);
  }

  private submitNow(message: IngestMessage): Promise<IngestOutcome> {
    if (this.closed) return Promise.reject(new Error('ingestor is closed'));
    const p = this.pending;
    const itemsBefore = p.items;
    const waiterIndex = p.waiters.length;
    let decoded: { topicKind: string; rejection?: Rejection };
    try {
      decoded = this.decodeInto(p, message, waiterIndex);
    } catch (err) {
      // A decoder must return a rejection, never throw (the fuzz tests hold
      // them to it); if one still does, fail this message — no PUBACK, the
      // connection drops — instead of throwing into the broker's publish hook.
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    const { topicKind, rejection } = decoded;
    const outcome: IngestOutcome = rejection ? { status: 'rejected', code: rejection.code } : { status: 'stored' };
    if (rejection) {
      p.deadLetters.push(this.deadLetter(message, rejection));
      p.items++;
    }
    const done = new Promise<IngestOutcome>((resolve, reject) => p.waiters.push({ topicKind, outcome, message, resolve, reject }));
    this.opts.metrics.pendingItems.set(p.items);
    this.backlog += p.items - itemsBefore;
    this.opts.metrics.backlogItems.set(this.backlog);
    if (p.items >= this.opts.batch.maxItems) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.opts.batch.maxDelayMs);
    return done;
  }

  private decodeInto(p: Pending, message: IngestMessage, waiterIndex: number): { topicKind: string; rejection?: Rejection } {
    const topic = parseTopic(message.topic);
    if (!topic.ok) return { topicKind: 'unknown', rejection: topic.rejection };
    const { kind, deviceId, deviceKind } = topic.value;
    const now = this.clock();
    const limits = this.opts.limits;
    switch (kind) {
      case 'meter-reads': {
        const r = decodeMeterReads(message.payload, deviceId, now, limits);
        if (!r.ok) return { topicKind: kind, rejection: r.rejection };
        for (const read of r.value.reads) {
          p.reads.push(read);
          p.readOwners.push(waiterIndex);
        }
        p.repeatedInBatch += r.value.repeatedInBatch;
        p.items += r.value.reads.length;
        return { topicKind: kind };
      }
      case 'sensor-acoustic': {
        const r = decodeAcousticFrame(message.payload, deviceId, now, limits);
        if (!r.ok) return { topicKind: kind, rejection: r.rejection };
        p.frames.push({ ...r.value, summary: summariseFrame(r.value.samples) });
        // A frame weighs like many reads in a commit; count it by its size.
        p.items += Math.ceil(r.value.samples.length / 256);
        return { topicKind: kind };
      }
      case 'meter-status':
      case 'sensor-status': {
        const r = decodeDeviceStatus(message.payload, deviceKind, deviceId, now, limits);
        if (!r.ok) return { topicKind: kind, rejection: r.rejection };
        p.statuses.push(r.value);
        p.items++;
        return { topicKind: kind };
      }
    }
  }

  private deadLetter(message: IngestMessage, rejection: Rejection, payload = message.payload): DeadLetter {
    return {
      receivedAtMs: this.clock(),
      clientId: message.clientId,
      topic: message.topic,
      code: rejection.code,
      message: rejection.message,
      payload: payload.subarray(0, this.opts.deadLetterMaxBytes),
      payloadBytes: payload.byteLength,
    };
  }

  /** Commits what is pending; resolves when it (and every earlier batch) is durable. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = emptyPending();
    this.opts.metrics.pendingItems.set(0);
    if (batch.waiters.length > 0) this.committing = this.committing.then(() => this.commit(batch));
    return this.committing;
  }

  private async commit(p: Pending): Promise<void> {
    const { store, metrics, log } = this.opts;
    const stopTimer = metrics.commitSeconds.startTimer();
    try {
      const batch: IngestBatch = { receivedAtMs: this.clock(), reads: p.reads, frames: p.frames, statuses: p.statuses, deadLetters: p.deadLetters };
      const result = await store.commit(batch);
      if (result.conflicts.length > 0) {
        // The first stored register stands (billing may already have used it);
        // the contradicting one is kept as a dead letter for an operator.
        const letters = result.conflicts.map((c) => {
          const read = p.reads[c.index]!;
          const owner = p.waiters[p.readOwners[c.index]!]!.message;
          const body = Buffer.from(JSON.stringify({ ts: new Date(read.ts).toISOString(), registerL: read.registerL, storedRegisterL: c.storedRegisterL }));
          const msg = `read at ${new Date(read.ts).toISOString()} has register ${read.registerL} L, stored earlier as ${c.storedRegisterL} L`;
          return this.deadLetter(owner, { code: 'READ_CONFLICT', message: msg }, body);
        });
        await store.commit({ receivedAtMs: batch.receivedAtMs, reads: [], frames: [], statuses: [], deadLetters: letters });
        for (const l of letters) metrics.rejections.inc({ code: 'READ_CONFLICT' });
        metrics.totals.rejectedByCode.READ_CONFLICT = (metrics.totals.rejectedByCode.READ_CONFLICT ?? 0) + letters.length;
        log.warn({ conflicts: letters.length }, 'reads conflict with stored registers; kept as dead letters');
      }
      metrics.committed({
        readsInserted: result.readsInserted,
        readsDuplicate: result.readsDuplicate + p.repeatedInBatch,
        conflicts: result.conflicts.length,
        framesInserted: result.framesInserted,
        framesDuplicate: result.framesDuplicate,
      });
      for (const w of p.waiters) {
        if (w.outcome.status === 'rejected') metrics.rejected(w.topicKind, w.outcome.code);
        else metrics.accepted(w.topicKind);
        w.resolve(w.outcome);
      }
    } catch (err) {
      metrics.storeErrors.inc();
      log.error({ err, messages: p.waiters.length }, 'store commit failed; messages not acknowledged');
      const failure = new StoreUnavailableError(err);
      for (const w of p.waiters) w.reject(failure);
    } finally {
      stopTimer();
      this.backlog -= p.items;
      metrics.backlogItems.set(this.backlog);
      this.releaseHeld();
    }
  }

  /** Lets held messages in, oldest first, while the backlog is under its limit. */
  private releaseHeld(): void {
    const max = this.opts.maxBacklogItems ?? Infinity;
    while (this.held.length > 0 && this.backlog < max) {
      this.held.shift()!();
      // A released message adds its items synchronously in submitNow, before the next check.
    }
    this.opts.metrics.waitingMessages.set(this.held.length);
  }

  /** Commits what is pending and refuses further messages. */
  async close(): Promise<void> {
    this.closed = true;
    // Held messages were never acknowledged: fail them so their devices resend.
    for (const release of this.held.splice(0)) release();
    await this.flush();
  }
}
