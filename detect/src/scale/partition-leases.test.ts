import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '@suido/ingest';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PartitionLeases, partitionOf } from './partition-leases.ts';

const log = pino({ level: 'silent' });
const TTL = 3000;

describe('partitionOf', () => {
  it('is stable and spreads ids', () => {
    expect(partitionOf('S-0001', 2)).toBe(partitionOf('S-0001', 2));
    expect(partitionOf('anything', 1)).toBe(0);
    const counts = [0, 0, 0];
    for (let i = 0; i < 3000; i++) counts[partitionOf(`M-${String(i).padStart(6, '0')}`, 3)]!++;
    for (const c of counts) expect(c).toBeGreaterThan(800);
  });
});

describe('PartitionLeases on one store', () => {
  let dir: string;
  let store: SqliteStore;
  let now = 1_000_000;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'suido-leases-'));
    store = new SqliteStore({ path: join(dir, 'suido.db') });
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  function worker(index: number, running: Map<number, number>) {
    return new PartitionLeases({
      store,
      log,
      index,
      count: 2,
      ttlMs: TTL,
      now: () => now,
      start: async (p) => void running.set(p, (running.get(p) ?? 0) + 1),
      stop: async (p) => void running.set(p, (running.get(p) ?? 0) - 1),
    });
  }

  it('each worker holds its home; a dead worker’s partition is taken over after the lease and a grace period, and handed back when it returns', async () => {
    const running = new Map<number, number>();
    const a = worker(0, running);
    let b = worker(1, running);
    await a.tick();
    await b.tick();
    expect([a.partitions, b.partitions]).toEqual([[0], [1]]);

    // b dies (no close, no more ticks): a waits for its lease to run out, then a grace period.
    now += TTL;
    await a.tick();
    expect(a.partitions).toEqual([0]);
    now += TTL + 1;
    await a.tick();
    expect(a.partitions).toEqual([0, 1]);
    expect(running.get(1)).toBe(2); // started by b, then by a (b died without stopping)

    // b comes back as a new process: asks for its home back; a stops it first, then releases; b takes it.
    b = worker(1, running);
    await b.tick();
    expect(b.partitions).toEqual([]);
    await a.tick();
    expect(a.partitions).toEqual([0]);
    await b.tick();
    expect(b.partitions).toEqual([1]);
    expect(running.get(1)).toBe(2); // a stopped it before b started it: one running beside the dead b's
    expect(a.history.map((h) => `${h.op}:${h.partition}`)).toEqual(['acquire:0', 'acquire:1', 'release:1']);

    // A clean stop releases at once; the other worker still waits its grace period.
    await b.close();
    await a.tick();
    expect(a.partitions).toEqual([0]);
    now += TTL + 1;
    await a.tick();
    expect(a.partitions).toEqual([0, 1]);
    await a.close();
  });

  it('two workers racing for one free partition: one wins', async () => {
    const running = new Map<number, number>();
    const a = worker(0, running);
    const c = worker(0, running); // a second process configured with the same index by mistake
    await Promise.all([a.tick(), c.tick()]);
    expect([...a.partitions, ...c.partitions].filter((p) => p === 0)).toHaveLength(1);
  });
});
