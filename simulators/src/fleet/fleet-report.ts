import { MESSAGE_KINDS, type LedgerRead, type MessageKind, type OutMessage, type Session } from './messages.ts';

export interface KindCounts {
  /** Messages handed to MQTT (a duplicate is its own message; a retry is not). */
  readonly published: number;
  /** Messages whose QoS 1 PUBACK came. */
  readonly acked: number;
}

/** What a run sent so far; the simulator reports it every few seconds. */
export interface FleetProgress {
  /** The simulated clock now, ms since the epoch. */
  readonly simNowMs: number;
  readonly simStartMs: number;
  /** When the simulated clock meets the wall clock; Infinity at speed 1 from the past. */
  readonly caughtUpAtMs: number;
  readonly messages: Readonly<Record<MessageKind, KindCounts>>;
  readonly published: number;
  readonly acked: number;
  /** Sessions handed to a publisher and not yet fully acknowledged. */
  readonly inFlightSessions: number;
  readonly errors: number;
  readonly retries: number;
}

export interface FleetReport extends FleetProgress {
  /** The run reached the present with `stopWhenCaughtUp` set. */
  readonly caughtUp: boolean;
  /** The run ended by `stop()`. */
  readonly stopped: boolean;
  readonly wallMs: number;
  /** Valid hourly reads sent, each counted once (duplicates and retries excluded). */
  readonly readsPublished: number;
  /** Of those, the reads whose message was acknowledged. */
  readonly readsAcked: number;
  /** Second sends of a message. */
  readonly duplicatesSent: number;
  /** Messages corrupted on purpose; none of their reads is in `readsPublished` or the ledger. */
  readonly malformedSent: number;
  readonly malformedByVariant: Readonly<Record<string, number>>;
  /** Read batches sent days late by store-and-forward. */
  readonly lateBatches: number;
  /** Read batches shuffled, or sent after a newer batch. */
  readonly outOfOrderBatches: number;
  /** Batches meters still held (offline) when the run ended: never sent. */
  readonly heldBatches: number;
  /** Messages given up at stop without a PUBACK. */
  readonly unacked: number;
  readonly lastError: string | undefined;
  /** With `recordLedger`: every valid read acknowledged, per meter, oldest first. */
  readonly ledger: Map<string, LedgerRead[]> | undefined;
}

const emptyKinds = (): Record<MessageKind, { published: number; acked: number }> =>
  Object.fromEntries(MESSAGE_KINDS.map((k) => [k, { published: 0, acked: 0 }])) as Record<MessageKind, { published: number; acked: number }>;

/** The counters behind progress and the report; the one place that decides what counts as what. */
export class FleetTally {
  readonly messages = emptyKinds();
  published = 0;
  acked = 0;
  errors = 0;
  retries = 0;
  readsPublished = 0;
  readsAcked = 0;
  duplicatesSent = 0;
  malformedSent = 0;
  readonly malformedByVariant: Record<string, number> = {};
  lateBatches = 0;
  outOfOrderBatches = 0;
  lastError: string | undefined;
  private readonly ledger: Map<string, Map<number, number>> | undefined;

  constructor(recordLedger: boolean) {
    this.ledger = recordLedger ? new Map() : undefined;
  }

  sent(session: Session): void {
    for (const m of session.messages) {
      this.messages[m.kind].published++;
      this.published++;
      if (m.duplicate) this.duplicatesSent++;
      else this.readsPublished += m.reads.length;
      if (m.malformed !== undefined) {
        this.malformedSent++;
        const key = `${m.kind}:${m.malformed}`;
        this.malformedByVariant[key] = (this.malformedByVariant[key] ?? 0) + 1;
      }
      if (m.kind === 'reads' && !m.duplicate && m.malformed === undefined) {
        if (m.late) this.lateBatches++;
        if (m.outOfOrder) this.outOfOrderBatches++;
      }
    }
  }

  acknowledged(m: OutMessage): void {
    this.messages[m.kind].acked++;
    this.acked++;
    if (!m.duplicate) this.readsAcked += m.reads.length;
    if (this.ledger && m.reads.length > 0) {
      let byTs = this.ledger.get(m.deviceId);
      if (!byTs) this.ledger.set(m.deviceId, (byTs = new Map()));
      for (const r of m.reads) byTs.set(r.ts, r.registerL);
    }
  }

  failed(err: Error): void {
    this.errors++;
    this.lastError = err.message;
  }

  ledgerSnapshot(): Map<string, LedgerRead[]> | undefined {
    if (!this.ledger) return undefined;
    const out = new Map<string, LedgerRead[]>();
    for (const id of [...this.ledger.keys()].sort()) {
      const reads = [...this.ledger.get(id)!].map(([ts, registerL]) => ({ ts, registerL }));
      out.set(id, reads.sort((a, b) => a.ts - b.ts));
    }
    return out;
  }
}
