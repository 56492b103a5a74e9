import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { ConsumerStateConflictError, type Store } from '@suido/ingest';

/**
 * Scaling the detector out (README: Scaling out). Sensors and meters are
 * split into DETECT_WORKER_COUNT partitions by a stable hash of their id;
 * worker i is the home of partition i. A worker holds a partition by a
 * lease, a consumer-state row in the shared store renewed every third of
 * its TTL by a compare-and-set on the row's version, so two workers can
 * never both believe the write that gave them the lease succeeded. While it
 * holds a lease it runs that partition's scorer, alert engines and relay,
 * each with its own cursor; a partition's window histories and rule states
 * are consumer state too, so whichever worker takes a partition next
 * carries on from them.
 *
 * - A dead worker's lease runs out; after a further grace period (so that
 *   its own home worker, if it comes back at once, gets it first) another
 *   worker takes the partition over.
 * - A home worker that finds its partition held by another asks for it back
 *   (`wantedBy`); the holder stops that partition's stages (waiting for the
 *   pass in flight) and only then releases the lease.
 * - A holder that cannot renew (the store is away) stops the partition once
 *   its own lease has run out, a grace period before anyone may take it.
 *
 * Leases rest on wall clocks (NTP keeps skew far under the TTL), but no
 * decision does: every stage's cursor is written with its expected version
 * (the alert engines in the same transaction as their alert changes), so
 * even two workers running one partition at once (a worker paused past its
 * lease) cannot both commit a page: the second is refused and reloads.
 */

/** FNV-1a of the id's UTF-16 code units: the same partition in every process and every release. */
export function partitionOf(id: string, count: number): number {
  if (count <= 1) return 0;
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % count;
}

/** A partition's suffix in consumer-state names: `p0of2`. */
export function partitionTag(index: number, count: number): string {
  return `p${index}of${count}`;
}

export interface LeaseRecord {
  readonly v: 1;
  /** The holding worker's id, null when released. */
  readonly owner: string | null;
  /** Wall-clock end of the lease (for a released one, when it was released). */
  readonly expiresAtMs: number;
  /** The partition's home worker asked for it back. */
  readonly wantedBy: number | null;
}

export function parseLease(value: unknown): LeaseRecord | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (v.v !== 1 || (v.owner !== null && typeof v.owner !== 'string') || typeof v.expiresAtMs !== 'number') return undefined;
  if (v.wantedBy !== null && typeof v.wantedBy !== 'number') return undefined;
  return { v: 1, owner: v.owner, expiresAtMs: v.expiresAtMs, wantedBy: v.wantedBy };
}

export interface PartitionLeasesOptions {
  readonly store: Store;
  readonly log: Logger;
  /** This worker's home partition. */
  readonly index: number;
  readonly count: number;
  /** How long a lease lasts unrenewed. Renewed every third of it. */
  readonly ttlMs: number;
  /** Start a partition's stages (the lease is held). */
  readonly start: (partition: number) => Promise<void>;
  /** Stop them, waiting for the passes in flight. */
  readonly stop: (partition: number) => Promise<void>;
  readonly now?: () => number;
}

/** The lease loop of one detect worker. */
export class PartitionLeases {
  readonly workerId: string;
  private readonly opts: PartitionLeasesOptions;
  private readonly now: () => number;
  /** Partition → the lease's end as we last wrote it. */
  private readonly held = new Map<number, number>();
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private stopped = false;
  /** Takeovers and handbacks, for the logs and tests. */
  readonly history: { atMs: number; partition: number; op: 'acquire' | 'release' | 'lost' }[] = [];

  constructor(opts: PartitionLeasesOptions) {
    if (!(opts.index >= 0 && opts.index < opts.count)) throw new RangeError(`worker index ${opts.index} is not below the worker count ${opts.count}`);
    this.opts = opts;
    this.now = opts.now ?? Date.now;
    this.workerId = `detect-${opts.index}-${process.pid}-${randomBytes(4).toString('hex')}`;
  }

  /** Partitions this worker runs now. */
  get partitions(): number[] {
    return [...this.held.keys()].sort((a, b) => a - b);
  }

  private leaseName(partition: number): string {
    return `detect-lease/${partitionTag(partition, this.opts.count)}`;
  }

  /** First pass at once (so a sole worker starts its home partition before it answers /readyz), then every ttl/3. */
  async start(): Promise<void> {
    await this.tick();
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.ticking = this.tick().finally(() => {
        this.ticking = undefined;
        this.schedule();
      });
    }, Math.max(50, Math.floor(this.opts.ttlMs / 3)));
  }

  /** Stops every partition held, then releases their leases (others take them after the grace period). */
  async close(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.ticking;
    for (const partition of this.partitions) {
      await this.opts.stop(partition);
      this.held.delete(partition);
      await this.write(partition, (lease) => (lease?.owner === this.workerId ? { v: 1, owner: null, expiresAtMs: this.now(), wantedBy: lease.wantedBy } : undefined)).catch(
        (err: unknown) => this.opts.log.warn({ err, partition }, 'lease not released; it runs out by itself'),
      );
    }
  }

  /** One round over every partition's lease. Failures are logged; the next round retries. */
  async tick(): Promise<void> {
    for (let p = 0; p < this.opts.count && !this.stopped; p++) {
      try {
        await this.step(p);
      } catch (err) {
        this.opts.log.warn({ err, partition: p }, 'lease round failed');
        const until = this.held.get(p);
        // Could not renew: stop before anyone may take it (they wait a further grace period).
        if (until !== undefined && this.now() >= until) await this.lose(p);
      }
    }
  }

  private async step(p: number): Promise<void> {
    const { store, index, ttlMs } = this.opts;
    const name = this.leaseName(p);
    const state = await store.getConsumerState(name);
    const lease = state ? parseLease(state.value) : undefined;
    const version = state?.version ?? 0;
    const now = this.now();
    const home = p === index;

    if (lease?.owner === this.workerId) {
      if (!home && lease.wantedBy !== null) {
        // Hand back: stop first, so the home worker never overlaps with us.
        await this.opts.stop(p);
        this.held.delete(p);
        this.history.push({ atMs: now, partition: p, op: 'release' });
        this.opts.log.info({ partition: p }, 'partition handed back to its home worker');
        await this.cas(name, { v: 1, owner: null, expiresAtMs: now, wantedBy: lease.wantedBy }, version);
        return;
      }
      if (await this.cas(name, { ...lease, expiresAtMs: now + ttlMs }, version)) this.held.set(p, now + ttlMs);
      else await this.lose(p);
      return;
    }
    // Held by us in memory but not in the store: someone took it.
    if (this.held.has(p)) await this.lose(p);

    if (!lease) {
      // No lease yet: the home worker takes it; another writes a released one so that the grace period counts from now.
      const record: LeaseRecord = home ? { v: 1, owner: this.workerId, expiresAtMs: now + ttlMs, wantedBy: null } : { v: 1, owner: null, expiresAtMs: now, wantedBy: null };
      if ((await this.cas(name, record, version)) && home) await this.acquire(p, now + ttlMs);
      return;
    }
    // Home takes a released or run-out lease at once; another worker waits a further TTL, so that a home coming back gets it first.
    const free = home ? lease.owner === null || lease.expiresAtMs < now : lease.expiresAtMs + ttlMs < now;
    if (free) {
      if (await this.cas(name, { v: 1, owner: this.workerId, expiresAtMs: now + ttlMs, wantedBy: null }, version)) await this.acquire(p, now + ttlMs);
      return;
    }
    if (home && lease.owner !== null && lease.wantedBy !== index) await this.cas(name, { ...lease, wantedBy: index }, version);
  }

  private async acquire(p: number, until: number): Promise<void> {
    this.held.set(p, until);
    this.history.push({ atMs: this.now(), partition: p, op: 'acquire' });
    this.opts.log.info({ partition: p, home: p === this.opts.index }, 'partition lease acquired');
    try {
      await this.opts.start(p);
    } catch (err) {
      this.held.delete(p);
      throw err;
    }
  }

  private async lose(p: number): Promise<void> {
    if (!this.held.has(p)) return;
    this.held.delete(p);
    this.history.push({ atMs: this.now(), partition: p, op: 'lost' });
    this.opts.log.warn({ partition: p }, 'partition lease lost; its stages stop');
    await this.opts.stop(p);
  }

  /** Compare-and-set on the lease row; false when another worker wrote it first. */
  private async cas(name: string, value: LeaseRecord, version: number): Promise<boolean> {
    try {
      await this.opts.store.putConsumerState(name, value, version);
      return true;
    } catch (err) {
      if (err instanceof ConsumerStateConflictError) return false;
      throw err;
    }
  }

  private async write(p: number, next: (lease: LeaseRecord | undefined) => LeaseRecord | undefined): Promise<void> {
    const name = this.leaseName(p);
    const state = await this.opts.store.getConsumerState(name);
    const value = next(state ? parseLease(state.value) : undefined);
    if (value) await this.cas(name, value, state?.version ?? 0);
  }
}
