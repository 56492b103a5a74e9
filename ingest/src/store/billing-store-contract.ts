import { expect, it } from 'vitest';
import { StoreInputError, type IngestBatch, type Store } from './store.ts';

const T0 = Date.parse('2026-11-01T00:00:00Z');
const HOUR = 3_600_000;

const batch = (receivedAtMs: number, reads: IngestBatch['reads']): IngestBatch => ({ receivedAtMs, reads, frames: [], statuses: [], deadLetters: [] });
const read = (meterId: string, hour: number, registerL: number) => ({ meterId, ts: T0 + hour * HOUR, registerL, flags: [] });

/**
 * Billing's cases of the store contract, run inside describeStoreContract
 * (so on every implementation) against its current store.
 */
export function billingContractCases(current: () => Store): void {
  it('billing: brackets many (meter, instant) pairs in one call, in the order asked', async () => {
    const store = current();
    await store.commit(batch(T0 + 50 * HOUR, [read('M-1', 0, 100), read('M-1', 10, 170), read('M-1', 20, 240), read('M-2', 5, 9)]));
    const got = await store.readBrackets([
      { meterId: 'M-1', atMs: T0 + 4 * HOUR },
      { meterId: 'M-2', atMs: T0 + 5 * HOUR },
      { meterId: 'M-1', atMs: T0 + 10 * HOUR },
      { meterId: 'M-9', atMs: T0 },
      { meterId: 'M-1', atMs: T0 + 30 * HOUR },
      { meterId: 'M-1', atMs: T0 - HOUR },
    ]);
    const brief = got.map((b) => [b.before?.registerL ?? null, b.after?.registerL ?? null]);
    expect(brief).toEqual([
      [100, 170],
      [9, 9],
      [170, 170],
      [null, null],
      [240, null],
      [null, 100],
    ]);
    expect(got[0]!.before).toEqual({ meterId: 'M-1', ts: T0, registerL: 100, flags: [], receivedAtMs: T0 + 50 * HOUR });
    expect(await store.readBrackets([])).toEqual([]);
  });

  it('billing: numbers arrivals, and answers as of an earlier arrival by ignoring later reads', async () => {
    const store = current();
    expect(await store.arrivalMark()).toEqual({ seq: 0, atMs: null });
    await store.commit(batch(T0 + 30 * HOUR, [read('M-1', 0, 100), read('M-1', 24, 340)]));
    const first = await store.arrivalMark();
    expect(first).toMatchObject({ atMs: T0 + 30 * HOUR });
    expect(first.seq).toBeGreaterThan(0);
    // A late read inside the gap: the newest answer uses it, the old one does not.
    await store.commit(batch(T0 + 40 * HOUR, [read('M-1', 12, 220)]));
    const second = await store.arrivalMark();
    expect(second.seq).toBeGreaterThan(first.seq);
    expect(second.atMs).toBe(T0 + 40 * HOUR);
    expect(await store.arrivalMark(first.seq)).toEqual(first);
    expect(await store.arrivalMark(second.seq + 100)).toEqual(second);
    const q = [{ meterId: 'M-1', atMs: T0 + 6 * HOUR }];
    expect((await store.readBrackets(q, first.seq)).map((b) => [b.before?.ts, b.after?.ts])).toEqual([[T0, T0 + 24 * HOUR]]);
    expect((await store.readBrackets(q, second.seq)).map((b) => [b.before?.ts, b.after?.ts])).toEqual([[T0, T0 + 12 * HOUR]]);
    expect((await store.readBrackets(q)).map((b) => [b.before?.ts, b.after?.ts])).toEqual([[T0, T0 + 12 * HOUR]]);
    // A resend of stored reads is no arrival.
    await store.commit(batch(T0 + 41 * HOUR, [read('M-1', 12, 220)]));
    expect(await store.arrivalMark()).toEqual(second);
    await expect(store.readBrackets(q, -1)).rejects.toBeInstanceOf(StoreInputError);
  });

  it('billing: records replacements in the arrival sequence, the first per instant standing', async () => {
    const store = current();
    await store.upsertDevices([
      { id: 'M-1', kind: 'meter', registerMaxL: 9_999_999 },
      { id: 'M-2', kind: 'meter' },
      { id: 'S-1', kind: 'sensor' },
    ]);
    expect(await store.getDevice('M-1')).toMatchObject({ registerMaxL: 9_999_999 });
    expect(await store.getDevice('M-2')).toMatchObject({ registerMaxL: null });
    await store.commit(batch(T0 + 30 * HOUR, [read('M-1', 0, 100)]));
    const beforeIt = await store.arrivalMark();
    const r = { meterId: 'M-1', atMs: T0 + 5 * HOUR, oldFinalL: 150, newInitialL: 3, note: 'dial cracked', recordedAtMs: T0 + 31 * HOUR, recordedBy: 'key:3:ops' };
    const first = await store.recordReplacement(r);
    expect(first.created).toBe(true);
    expect(first.replacement).toMatchObject({ ...r, note: 'dial cracked' });
    expect(first.replacement.seq).toBeGreaterThan(beforeIt.seq);
    expect(await store.arrivalMark()).toEqual({ seq: first.replacement.seq, atMs: T0 + 31 * HOUR });
    const again = await store.recordReplacement({ ...r, newInitialL: 4, recordedAtMs: T0 + 32 * HOUR });
    expect(again).toEqual({ replacement: first.replacement, created: false });
    // Reads stored afterwards are numbered after it.
    await store.commit(batch(T0 + 33 * HOUR, [read('M-1', 6, 10)]));
    expect((await store.arrivalMark()).seq).toBeGreaterThan(first.replacement.seq);
    const later = await store.recordReplacement({ meterId: 'M-1', atMs: T0 + 2 * HOUR, oldFinalL: 120, newInitialL: 0, recordedAtMs: T0 + 34 * HOUR });
    await store.recordReplacement({ meterId: 'M-2', atMs: T0, oldFinalL: 1, newInitialL: 0, recordedAtMs: T0 + 34 * HOUR });
    const all = await store.replacementsOf(['M-2', 'M-1', 'M-9']);
    expect(all.map((x) => [x.meterId, (x.atMs - T0) / HOUR])).toEqual([
      ['M-1', 2],
      ['M-1', 5],
      ['M-2', 0],
    ]);
    expect(all[0]).toMatchObject({ note: null, recordedBy: null, seq: later.replacement.seq });
    expect((await store.replacementsOf(['M-1'], first.replacement.seq)).map((x) => x.seq)).toEqual([first.replacement.seq]);
    expect(await store.replacementsOf([])).toEqual([]);
    await expect(store.recordReplacement({ ...r, meterId: 'S-1' })).rejects.toBeInstanceOf(StoreInputError);
    await expect(store.recordReplacement({ ...r, meterId: 'nobody' })).rejects.toBeInstanceOf(StoreInputError);
    await expect(store.recordReplacement({ ...r, atMs: T0 + 9 * HOUR, oldFinalL: -1 })).rejects.toBeInstanceOf(StoreInputError);
  });

  it('billing: counts a registry page without fetching it, and lists meters with what billing needs', async () => {
    const store = current();
    await store.upsertDevices([
      { id: 'M-3', kind: 'meter', district: 'naka', registerMaxL: 999_999 },
      { id: 'M-1', kind: 'meter', district: 'minami' },
      { id: 'M-2', kind: 'meter', district: 'naka' },
      { id: 'S-1', kind: 'sensor', district: 'naka' },
    ]);
    expect(await store.countDevices({ kind: 'meter', limit: 2 })).toEqual({ count: 2, lastId: 'M-2', more: true });
    expect(await store.countDevices({ kind: 'meter', limit: 3 })).toEqual({ count: 3, lastId: 'M-3', more: false });
    expect(await store.countDevices({ kind: 'meter', afterId: 'M-1', limit: 10 })).toEqual({ count: 2, lastId: 'M-3', more: false });
    expect(await store.countDevices({ kind: 'meter', district: 'naka', limit: 1 })).toEqual({ count: 1, lastId: 'M-2', more: true });
    expect(await store.countDevices({ kind: 'meter', afterId: 'M-3', limit: 10 })).toEqual({ count: 0, lastId: undefined, more: false });
    expect(await store.listBillingMeters({ afterId: 'M-1', limit: 10 })).toEqual([
      { id: 'M-2', registerMaxL: null },
      { id: 'M-3', registerMaxL: 999_999 },
    ]);
    expect(await store.listBillingMeters({ district: 'naka', limit: 1 })).toEqual([{ id: 'M-2', registerMaxL: null }]);
  });
}
