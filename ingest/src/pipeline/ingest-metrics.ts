import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { RejectionCode } from '../contracts/index.ts';

/** Prometheus metrics of the ingest pipeline, registered on the caller's registry. */
export class IngestMetrics {
  readonly messages: Counter<'topic_kind' | 'outcome'>;
  readonly reads: Counter<'outcome'>;
  readonly frames: Counter<'outcome'>;
  readonly rejections: Counter<'code'>;
  readonly storeErrors: Counter;
  readonly commitSeconds: Histogram;
  readonly pendingItems: Gauge;
  readonly backlogItems: Gauge;
  readonly waitingMessages: Gauge;

  /** The same figures as plain numbers, for logs, tests and the launcher's summary. */
  readonly totals = {
    messagesAccepted: 0,
    messagesRejected: 0,
    readsStored: 0,
    readsDuplicate: 0,
    readsConflict: 0,
    framesStored: 0,
    framesDuplicate: 0,
    rejectedByCode: {} as Partial<Record<RejectionCode, number>>,
  };

  constructor(registry: Registry) {
    const registers = [registry];
    this.messages = new Counter({
      name: 'suido_ingest_messages_total',
      help: 'Device messages handled, by topic kind and outcome (accepted, rejected)',
      labelNames: ['topic_kind', 'outcome'],
      registers,
    });
    this.reads = new Counter({
      name: 'suido_ingest_reads_total',
      help: 'Meter reads by outcome: stored (new), duplicate (already stored), conflict (stored earlier with another register)',
      labelNames: ['outcome'],
      registers,
    });
    this.frames = new Counter({
      name: 'suido_ingest_frames_total',
      help: 'Acoustic frames by outcome: stored or duplicate',
      labelNames: ['outcome'],
      registers,
    });
    this.rejections = new Counter({
      name: 'suido_ingest_rejections_total',
      help: 'Messages sent to the dead-letter table, by rejection code',
      labelNames: ['code'],
      registers,
    });
    this.storeErrors = new Counter({
      name: 'suido_ingest_store_errors_total',
      help: 'Batches the store failed to commit; their devices were not acknowledged',
      registers,
    });
    this.commitSeconds = new Histogram({
      name: 'suido_ingest_commit_seconds',
      help: 'Time to commit one batch durably',
      buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.pendingItems = new Gauge({
      name: 'suido_ingest_pending_items',
      help: 'Decoded items waiting for the next commit',
      registers,
    });
    this.backlogItems = new Gauge({
      name: 'suido_ingest_backlog_items',
      help: 'Items received and not yet committed: pending plus batches waiting for the store (back-pressure starts at INGEST_MAX_BACKLOG_ITEMS)',
      registers,
    });
    this.waitingMessages = new Gauge({
      name: 'suido_ingest_held_messages',
      help: 'Messages held undecoded and unacknowledged because the backlog is full (their connections are not read meanwhile)',
      registers,
    });
    for (const outcome of ['stored', 'duplicate', 'conflict']) this.reads.inc({ outcome }, 0);
    for (const outcome of ['stored', 'duplicate']) this.frames.inc({ outcome }, 0);
  }

  rejected(topicKind: string, code: RejectionCode): void {
    this.messages.inc({ topic_kind: topicKind, outcome: 'rejected' });
    this.rejections.inc({ code });
    this.totals.messagesRejected++;
    this.totals.rejectedByCode[code] = (this.totals.rejectedByCode[code] ?? 0) + 1;
  }

  accepted(topicKind: string): void {
    this.messages.inc({ topic_kind: topicKind, outcome: 'accepted' });
    this.totals.messagesAccepted++;
  }

  committed(r: { readsInserted: number; readsDuplicate: number; conflicts: number; framesInserted: number; framesDuplicate: number }): void {
    this.reads.inc({ outcome: 'stored' }, r.readsInserted);
    this.reads.inc({ outcome: 'duplicate' }, r.readsDuplicate);
    this.reads.inc({ outcome: 'conflict' }, r.conflicts);
    this.frames.inc({ outcome: 'stored' }, r.framesInserted);
    this.frames.inc({ outcome: 'duplicate' }, r.framesDuplicate);
    const t = this.totals;
    t.readsStored += r.readsInserted;
    t.readsDuplicate += r.readsDuplicate;
    t.readsConflict += r.conflicts;
    t.framesStored += r.framesInserted;
    t.framesDuplicate += r.framesDuplicate;
  }
}
