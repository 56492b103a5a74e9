import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MeterRead } from '../contracts/index.ts';
import type { FrameToStore, IngestBatch, Store } from './store.ts';

/**
 * The one suite every Store implementation must pass (the aedes-persistence
 * model: one abstract suite, several backends). `open` makes a store over a
 * location; calling it again with the same location must see the same data.
 */
export interface StoreFixture {
  open(): Promise<Store>;
  /** Removes what the fixture created. */
  dispose(): Promise<void>;
}

const T0 = Date.parse('2026-11-01T00:00:00Z');
const HOUR = 3_600_000;

export function batch(patch: Partial<IngestBatch>): IngestBatch {
  return { receivedAtMs: T0 + 100 * HOUR, reads: [], frames: [], statuses: [], deadLetters: [], ...patch };
}

export function hourlyReads(meterId: string, hours: number, startRegister = 1000, from = T0): MeterRead[] {
  return Array.from({ length: hours }, (_, h) => ({ meterId, ts: from + h * HOUR, registerL: startRegister + h * 7, flags: [] }));
}

function frame(sensorId: string, startMs: number, fill = 100): FrameToStore {
  return { sensorId, startMs, sampleRateHz: 8000, gainDb: 20, samples: new Int16Array(80).fill(fill), summary: { rmsDbfs: -50.3, clippedRatio: 0 } };
}

export function describeStoreContract(name: string, makeFixture: () => Promise<StoreFixture>): void {
  describe(`store contract: ${name}`, () => {
    let fixture: StoreFixture;
    let store: Store;

    beforeEach(async () => {
      fixture = await makeFixture();
      store = await fixture.open();
    });
    afterEach(async () => {
      await store.close();
      await fixture.dispose();
    });

    it('stores reads and returns a range oldest first, bounds half-open', async () => {
      const reads = hourlyReads('M-1', 24);
      const result = await store.commit(batch({ reads: [...reads].reverse() }));
      expect(result).toMatchObject({ readsInserted: 24, readsDuplicate: 0, conflicts: [] });
      const got = await store.readsInRange('M-1', T0 + 2 * HOUR, T0 + 5 * HOUR, 100);
      expect(got.map((r) => [r.ts, r.registerL])).toEqual(reads.slice(2, 5).map((r) => [r.ts, r.registerL]));
      expect(await store.readsInRange('M-1', T0, T0 + 24 * HOUR, 3)).toHaveLength(3);
      expect(await store.readsInRange('M-2', T0, T0 + 24 * HOUR, 100)).toEqual([]);
      expect((await store.latestRead('M-1'))?.registerL).toBe(reads[23]!.registerL);
      expect(await store.latestRead('nobody')).toBeUndefined();
    });

    it('keeps flags', async () => {
      await store.commit(batch({ reads: [{ meterId: 'M-1', ts: T0, registerL: 5, flags: ['reverse', 'tamper'] }] }));
      expect((await store.latestRead('M-1'))?.flags).toEqual(['reverse', 'tamper']);
    });

    it('stores a read once however often it is delivered, and reports conflicting registers', async () => {
      const reads = hourlyReads('M-1', 4);
      await store.commit(batch({ reads }));
      const again = await store.commit(batch({ reads: [...reads.slice(0, 2), { ...reads[2]!, registerL: 1 }, ...hourlyReads('M-1', 1, 0, T0 + 10 * HOUR)] }));
      expect(again).toMatchObject({ readsInserted: 1, readsDuplicate: 2, conflicts: [{ index: 2, storedRegisterL: reads[2]!.registerL }] });
      const stored = await store.readsInRange('M-1', T0, T0 + 24 * HOUR, 100);
      expect(stored).toHaveLength(5);
      expect(stored[2]!.registerL).toBe(reads[2]!.registerL);
    });

    it('registers devices on first contact and keeps their last status', async () => {
      await store.commit(
        batch({
          reads: hourlyReads('M-2', 1),
          frames: [frame('S-1', T0)],
          statuses: [
            { deviceId: 'M-2', deviceKind: 'meter', ts: T0, batteryPct: 90 },
            { deviceId: 'M-2', deviceKind: 'meter', ts: T0 + HOUR, batteryPct: 89, firmware: '1.2' },
          ],
        }),
      );
      const m2 = await store.getDevice('M-2');
      expect(m2).toMatchObject({ id: 'M-2', kind: 'meter', district: null, lastSeenMs: T0 + 100 * HOUR });
      expect(m2?.lastStatus).toEqual({ deviceId: 'M-2', deviceKind: 'meter', ts: T0 + HOUR, batteryPct: 89, firmware: '1.2' });
      expect((await store.getDevice('S-1'))?.kind).toBe('sensor');
      expect(await store.getDevice('M-9')).toBeUndefined();
    });

    it('imports the registry and lists it by cursor, kind and district', async () => {
      await store.upsertDevices([
        { id: 'M-3', kind: 'meter', district: 'naka', lat: 34.39, lon: 132.45 },
        { id: 'M-1', kind: 'meter', district: 'minami' },
        { id: 'M-2', kind: 'meter', district: 'naka' },
        { id: 'S-1', kind: 'sensor', district: 'naka', pipeMaterial: 'ductile_iron' },
      ]);
      await store.upsertDevices([{ id: 'M-1', kind: 'meter', district: 'naka' }]);
      const page1 = await store.listDevices({ kind: 'meter', limit: 2 });
      expect(page1.map((d) => d.id)).toEqual(['M-1', 'M-2']);
      const page2 = await store.listDevices({ kind: 'meter', limit: 2, afterId: 'M-2' });
      expect(page2.map((d) => d.id)).toEqual(['M-3']);
      expect(page2[0]).toMatchObject({ lat: 34.39, lon: 132.45, firstSeenMs: null });
      expect((await store.listDevices({ district: 'naka', limit: 10 })).map((d) => d.id)).toEqual(['M-1', 'M-2', 'M-3', 'S-1']);
      expect((await store.getDevice('S-1'))?.pipeMaterial).toBe('ductile_iron');
    });

    it('stores frames once, returns their PCM, and prunes PCM but not summaries', async () => {
      const first = await store.commit(batch({ frames: [frame('S-1', T0), frame('S-1', T0 + HOUR, -3)] }));
      expect(first).toMatchObject({ framesInserted: 2, framesDuplicate: 0 });
      expect(await store.commit(batch({ frames: [frame('S-1', T0)] }))).toMatchObject({ framesInserted: 0, framesDuplicate: 1 });
      const frames = await store.framesInRange('S-1', T0, T0 + 2 * HOUR, 10);
      expect(frames.map((f) => [f.startMs, f.sampleCount, f.samples?.[0]])).toEqual([
        [T0, 80, 100],
        [T0 + HOUR, 80, -3],
      ]);
      expect(await store.prunePcm(T0 + HOUR)).toBe(1);
      const after = await store.framesInRange('S-1', T0, T0 + 2 * HOUR, 10);
      expect(after.map((f) => f.samples === null)).toEqual([true, false]);
      expect(after[0]!.summary).toEqual({ rmsDbfs: -50.3, clippedRatio: 0 });
    });

    it('keeps dead letters with their reason and payload', async () => {
      const payload = Buffer.from('{"reads": oops');
      await store.commit(
        batch({
          deadLetters: [
            { receivedAtMs: T0, clientId: 'c1', topic: 'water/v1/meters/M-1/reads', code: 'READS_JSON_INVALID', message: 'not JSON', payload, payloadBytes: payload.length },
            { receivedAtMs: T0 + 1, clientId: null, topic: 'water/v1/x', code: 'TOPIC_UNKNOWN', message: 'no', payload: new Uint8Array(0), payloadBytes: 0 },
          ],
        }),
      );
      const letters = await store.deadLetters({ code: 'READS_JSON_INVALID', limit: 10 });
      expect(letters).toHaveLength(1);
      expect(letters[0]).toMatchObject({ clientId: 'c1', topic: 'water/v1/meters/M-1/reads', message: 'not JSON', payloadBytes: payload.length });
      expect(Buffer.from(letters[0]!.payload).toString()).toBe('{"reads": oops');
      expect(await store.deadLetters({ sinceMs: T0 + 1, limit: 10 })).toHaveLength(1);
      const [first] = await store.deadLetters({ limit: 1 });
      expect((await store.deadLetters({ afterId: first!.id, limit: 10 })).map((l) => l.code)).toEqual(['TOPIC_UNKNOWN']);
    });

    it('loses nothing across close and reopen', async () => {
      await store.commit(batch({ reads: hourlyReads('M-1', 48), frames: [frame('S-1', T0)] }));
      await store.close();
      store = await fixture.open();
      expect(await store.readsInRange('M-1', T0, T0 + 48 * HOUR, 100)).toHaveLength(48);
      expect(await store.commit(batch({ reads: hourlyReads('M-1', 48) }))).toMatchObject({ readsInserted: 0, readsDuplicate: 48 });
      expect(await store.framesInRange('S-1', T0, T0 + 1, 10)).toHaveLength(1);
    });
  });
}
