import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MeterRead } from '../contracts/index.ts';
import { AlertError, type AlertChange } from './alert-lifecycle.ts';
import { billingContractCases } from './billing-store-contract.ts';
import { ConsumerStateConflictError, type FrameToStore, type IngestBatch, type LeakScore, type Store } from './store.ts';

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

function score(sensorId: string, hour: number, value: number, modelVersion = 'm1'): LeakScore {
  const windowStartMs = T0 + hour * HOUR;
  return { sensorId, windowStartMs, windowEndMs: windowStartMs + 60_000, score: value, modelVersion };
}

function raise(sourceId: string, atMs: number, value: number, details: Record<string, unknown> = {}, kind = 'leak'): AlertChange {
  return { op: 'raise', kind, sourceKind: 'sensor', sourceId, atMs, score: value, details };
}

function refresh(sourceId: string, atMs: number, value: number): AlertChange {
  return { op: 'refresh', kind: 'leak', sourceKind: 'sensor', sourceId, atMs, score: value };
}

function clear(sourceId: string, atMs: number): AlertChange {
  return { op: 'clear', kind: 'leak', sourceKind: 'sensor', sourceId, atMs };
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

    it('counts a read repeated within one commit once, and a different register for it as a conflict', async () => {
      // Two deliveries of one meter's batch in the same commit, side by side: the
      // second copy is a duplicate of the first, not a second insert.
      const day = hourlyReads('M-1', 40);
      const result = await store.commit(batch({ reads: [...day, ...day.slice(0, 3), { ...day[5]!, registerL: day[5]!.registerL + 7 }] }));
      expect(result).toMatchObject({ readsInserted: 40, readsDuplicate: 3, conflicts: [{ index: 43, storedRegisterL: day[5]!.registerL }] });
      const stored = await store.readsInRange('M-1', T0, T0 + 48 * HOUR, 100);
      expect(stored.map((r) => r.registerL)).toEqual(day.map((r) => r.registerL));
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
        { id: 'S-1', kind: 'sensor', district: 'naka', pipeMaterial: 'ductile_iron', site: 'near_prv' },
        { id: 'S-2', kind: 'sensor', district: 'minami', pipeMaterial: 'pvc' },
      ]);
      await store.upsertDevices([{ id: 'M-1', kind: 'meter', district: 'naka' }]);
      const page1 = await store.listDevices({ kind: 'meter', limit: 2 });
      expect(page1.map((d) => d.id)).toEqual(['M-1', 'M-2']);
      const page2 = await store.listDevices({ kind: 'meter', limit: 2, afterId: 'M-2' });
      expect(page2.map((d) => d.id)).toEqual(['M-3']);
      expect(page2[0]).toMatchObject({ lat: 34.39, lon: 132.45, firstSeenMs: null });
      expect((await store.listDevices({ district: 'naka', limit: 10 })).map((d) => d.id)).toEqual(['M-1', 'M-2', 'M-3', 'S-1']);
      expect(await store.getDevice('S-1')).toMatchObject({ pipeMaterial: 'ductile_iron', site: 'near_prv' });
      expect((await store.getDevice('S-2'))?.site).toBeNull();
      // A registration without the site (an older registry file) clears it, as any other column it leaves empty.
      await store.upsertDevices([{ id: 'S-1', kind: 'sensor', district: 'naka', pipeMaterial: 'ductile_iron' }]);
      expect((await store.getDevice('S-1'))?.site).toBeNull();
    });

    it('answers the kind of many ids at once, registered or first seen, and leaves unknown ids out', async () => {
      // First call on a fresh store: it must wait for the schema like every other method.
      expect((await store.deviceKinds(['M-1'])).size).toBe(0);
      await store.upsertDevices([
        { id: 'M-1', kind: 'meter', district: 'naka' },
        { id: 'S-1', kind: 'sensor', district: 'naka', pipeMaterial: 'pvc' },
      ]);
      await store.commit(batch({ reads: hourlyReads('M-9', 1) }));
      // More ids than one lookup takes (5,000), the known ones at both ends.
      const ids = ['S-1', ...Array.from({ length: 6000 }, (_, i) => `X-${i}`), 'M-9', 'M-1'];
      const kinds = await store.deviceKinds(ids);
      expect(Object.fromEntries(kinds)).toEqual({ 'M-1': 'meter', 'M-9': 'meter', 'S-1': 'sensor' });
      expect((await store.deviceKinds([])).size).toBe(0);
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

    it('keeps leak scores once per (sensor, window, model), as a series per sensor', async () => {
      const scores = [score('S-1', 2, 0.2), score('S-1', 0, 0.9), score('S-1', 1, 0.5), score('S-2', 0, 0.1), score('S-1', 1, 0.7, 'm2')];
      expect(await store.appendScores(scores)).toEqual({ inserted: 5, duplicate: 0 });
      expect(await store.appendScores([score('S-1', 1, 0.99), score('S-1', 3, 0.3)])).toEqual({ inserted: 1, duplicate: 1 });
      const got = await store.scoresInRange('S-1', T0, T0 + 3 * HOUR, 100);
      expect(got.map((s) => [s.windowStartMs - T0, s.score, s.modelVersion])).toEqual([
        [0, 0.9, 'm1'],
        [HOUR, 0.5, 'm1'],
        [HOUR, 0.7, 'm2'],
        [2 * HOUR, 0.2, 'm1'],
      ]);
      expect(got[0]).toEqual({ sensorId: 'S-1', windowStartMs: T0, windowEndMs: T0 + 60_000, score: 0.9, modelVersion: 'm1' });
      expect(await store.scoresInRange('S-1', T0, T0 + 3 * HOUR, 2)).toHaveLength(2);
      expect(await store.scoresInRange('S-9', T0, T0 + 3 * HOUR, 10)).toEqual([]);
      await expect(store.appendScores([{ ...score('S-1', 5, 0), score: Number.NaN }])).rejects.toMatchObject({ code: 'STORE_INPUT_INVALID' });
    });

    it("keeps a score's band levels where the model gave them, and refuses malformed ones", async () => {
      const levels = Array.from({ length: 24 }, (_, b) => -80 + b * 1.25 + 0.001);
      await store.appendScores([{ ...score('S-1', 0, 0.4), bandLevelsDb: levels }, score('S-1', 1, 0.5)]);
      const [withLevels, without] = await store.scoresInRange('S-1', T0, T0 + 2 * HOUR, 10);
      expect(withLevels!.bandLevelsDb).toHaveLength(24);
      withLevels!.bandLevelsDb!.forEach((db, b) => expect(db, `band ${b}`).toBeCloseTo(levels[b]!, 3));
      expect(without!.bandLevelsDb).toBeUndefined();
      const fed = (await store.scoresAfter(0, 10)).scores;
      expect(fed.map((s) => s.bandLevelsDb?.length)).toEqual([24, undefined]);
      for (const bad of [[], [Number.NaN], Array(65).fill(-60)]) {
        await expect(store.appendScores([{ ...score('S-1', 3, 0.1), bandLevelsDb: bad }]), JSON.stringify(bad)).rejects.toMatchObject({ code: 'STORE_INPUT_INVALID' });
      }
    });

    it('feeds scores in the order they were stored, behind a cursor', async () => {
      await store.appendScores([score('S-1', 5, 0.1), score('S-2', 0, 0.2)]);
      await store.appendScores([score('S-1', 1, 0.3), score('S-1', 5, 0.9)]);
      const first = await store.scoresAfter(0, 2);
      expect(first.scores.map((s) => [s.sensorId, s.score])).toEqual([
        ['S-1', 0.1],
        ['S-2', 0.2],
      ]);
      const second = await store.scoresAfter(first.cursor, 10);
      expect(second.scores.map((s) => [s.sensorId, s.score])).toEqual([['S-1', 0.3]]);
      expect(await store.scoresAfter(second.cursor, 10)).toEqual({ scores: [], cursor: second.cursor });
    });

    it('feeds frames in arrival order with their sensor and PCM, behind a cursor', async () => {
      await store.commit(batch({ frames: [frame('S-2', T0 + HOUR, 7), frame('S-1', T0, 5)] }));
      await store.commit(batch({ frames: [frame('S-1', T0), frame('S-1', T0 - HOUR, -2)] }));
      const page1 = await store.framesAfter(0, 2);
      expect(page1.frames.map((f) => [f.sensorId, f.startMs - T0, f.samples?.[0]])).toEqual([
        ['S-2', HOUR, 7],
        ['S-1', 0, 5],
      ]);
      const page2 = await store.framesAfter(page1.cursor, 2);
      expect(page2.frames.map((f) => [f.sensorId, f.startMs - T0, f.sampleCount, f.summary.rmsDbfs])).toEqual([['S-1', -HOUR, 80, -50.3]]);
      expect(await store.framesAfter(page2.cursor, 2)).toEqual({ frames: [], cursor: page2.cursor });
      await store.prunePcm(T0 + 2 * HOUR);
      expect((await store.framesAfter(0, 10)).frames.map((f) => f.samples)).toEqual([null, null, null]);
    });

    it('feeds meter reads by arrival, late and out of order ones included, each once', async () => {
      const day1 = hourlyReads('M-1', 24);
      await store.commit(batch({ reads: [...day1.slice(12), ...hourlyReads('M-2', 3)] }));
      // The night before arrives late, with a resend of what is stored.
      await store.commit(batch({ reads: [...day1.slice(20), ...day1.slice(0, 12).reverse()] }));
      const all = await store.readsAfter(0, 1000);
      expect(all.reads.map((r) => `${r.meterId}@${(r.ts - T0) / HOUR}`)).toEqual([
        ...day1.slice(12).map((r) => `M-1@${(r.ts - T0) / HOUR}`),
        'M-2@0',
        'M-2@1',
        'M-2@2',
        ...day1.slice(0, 12).map((r) => `M-1@${(r.ts - T0) / HOUR}`),
      ]);
      expect(all.reads[0]).toMatchObject({ meterId: 'M-1', registerL: day1[12]!.registerL, flags: [] });
      expect(await store.readsAfter(all.cursor, 1000)).toEqual({ reads: [], cursor: all.cursor });
    });

    it('pages the reads feed by whole arrival groups, at least one per page', async () => {
      await store.commit(batch({ reads: [...hourlyReads('M-1', 5), ...hourlyReads('M-2', 2), ...hourlyReads('M-3', 2)] }));
      const p1 = await store.readsAfter(0, 3);
      expect(p1.reads.map((r) => r.meterId)).toEqual(['M-1', 'M-1', 'M-1', 'M-1', 'M-1']);
      const p2 = await store.readsAfter(p1.cursor, 3);
      expect(p2.reads.map((r) => r.meterId)).toEqual(['M-2', 'M-2']);
      const p3 = await store.readsAfter(p2.cursor, 4);
      expect(p3.reads.map((r) => r.meterId)).toEqual(['M-3', 'M-3']);
    });

    it('answers the register at an instant', async () => {
      await store.commit(batch({ reads: hourlyReads('M-1', 3) }));
      expect((await store.readAtOrBefore('M-1', T0 + HOUR + 1))?.ts).toBe(T0 + HOUR);
      expect((await store.readAtOrBefore('M-1', T0 + HOUR))?.ts).toBe(T0 + HOUR);
      expect(await store.readAtOrBefore('M-1', T0 - 1)).toBeUndefined();
      expect((await store.readAtOrAfter('M-1', T0 + HOUR - 1))?.ts).toBe(T0 + HOUR);
      expect((await store.readAtOrAfter('M-1', T0 + HOUR))?.ts).toBe(T0 + HOUR);
      expect(await store.readAtOrAfter('M-1', T0 + 1000 * HOUR)).toBeUndefined();
    });

    it('keeps consumer state with a version that fences a second writer', async () => {
      expect(await store.getConsumerState('engine')).toBeUndefined();
      expect(await store.putConsumerState('engine', { cursor: 5 }, 0)).toBe(1);
      await expect(store.putConsumerState('engine', { cursor: 6 }, 0)).rejects.toBeInstanceOf(ConsumerStateConflictError);
      expect(await store.putConsumerState('engine', { cursor: 7 }, 1)).toBe(2);
      expect(await store.putConsumerState('engine', { cursor: 8 })).toBe(3);
      expect(await store.getConsumerState('engine')).toMatchObject({ name: 'engine', value: { cursor: 8 }, version: 3 });
    });

    it('raises one alert per source and kind, updates it on a re-trigger, clears and reopens it', async () => {
      const r1 = await store.commitAlertChanges({ actor: 'detector', changes: [raise('S-1', 100, 0.8, { k: 3 })], states: [] });
      expect(r1.events.map((e) => e.action)).toEqual(['raised']);
      const id = r1.events[0]!.alertId;
      expect(r1.events[0]).toMatchObject({ actor: 'detector', atMs: 100, alert: { id, state: 'open', peakScore: 0.8, version: 1 } });
      // A lower score only moves lastSeenAt (no event, same version); a higher one is an update.
      const r2 = await store.commitAlertChanges({ actor: 'detector', changes: [raise('S-1', 200, 0.75), raise('S-1', 300, 0.95)], states: [] });
      expect(r2.events.map((e) => [e.action, e.alertId, e.alert.peakScore])).toEqual([['updated', id, 0.95]]);
      expect(await store.openAlertFor('S-1', 'leak')).toMatchObject({ id, state: 'open', raisedAtMs: 100, lastSeenAtMs: 300, peakScore: 0.95, version: 2 });

      const r3 = await store.commitAlertChanges({ actor: 'detector', changes: [clear('S-1', 400), clear('S-1', 500)], states: [] });
      expect(r3.events.map((e) => e.action)).toEqual(['cleared']);
      expect(await store.getAlert(id)).toMatchObject({ state: 'cleared', clearedAtMs: 400, version: 3 });
      // Cleared is still not resolved: a refresh does not reopen it, a raise does (the same alert).
      expect((await store.commitAlertChanges({ actor: 'detector', changes: [refresh('S-1', 450, 0.99)], states: [] })).events).toEqual([]);
      const r4 = await store.commitAlertChanges({ actor: 'detector', changes: [raise('S-1', 600, 0.7)], states: [] });
      expect(r4.events.map((e) => [e.action, e.alertId, e.details.reopened])).toEqual([['raised', id, true]]);
      expect(await store.getAlert(id)).toMatchObject({ state: 'open', clearedAtMs: null, raisedAtMs: 100, lastSeenAtMs: 600, peakScore: 0.95, details: { k: 3 } });
      expect(await store.listAlerts({ limit: 10 })).toHaveLength(1);
      expect((await store.alertEvents(id)).map((e) => e.action)).toEqual(['raised', 'updated', 'cleared', 'raised']);
    });

    it('allows one not-resolved alert per (source, kind): after a resolve the next raise opens a new one', async () => {
      const { events } = await store.commitAlertChanges({ actor: 'detector', changes: [raise('S-1', 100, 0.9), raise('S-1', 100, 0.9, {}, 'other')], states: [] });
      const first = events[0]!.alert;
      await store.resolveAlert({ id: first.id, expectedVersion: 1, by: 'crew-7', atMs: 150, resolution: 'repaired' });
      // A refresh never creates: the crew's resolution stands while the detector still sees the condition.
      expect((await store.commitAlertChanges({ actor: 'detector', changes: [refresh('S-1', 200, 0.99), clear('S-1', 250)], states: [] })).events).toEqual([]);
      const again = await store.commitAlertChanges({ actor: 'detector', changes: [raise('S-1', 300, 0.9)], states: [] });
      const second = again.events[0]!.alert;
      expect(second.id).not.toBe(first.id);
      expect(await store.openAlertFor('S-1', 'leak')).toMatchObject({ id: second.id, state: 'open' });
      expect((await store.listAlerts({ sourceId: 'S-1', kind: 'leak', limit: 10 })).map((a) => [a.id, a.state])).toEqual([
        [first.id, 'resolved'],
        [second.id, 'open'],
      ]);
      expect((await store.listAlerts({ state: ['open', 'acknowledged', 'cleared'], limit: 10 })).map((a) => a.kind)).toEqual(['other', 'leak']);
      expect((await store.listAlerts({ state: 'resolved', limit: 10 })).map((a) => a.id)).toEqual([first.id]);
      expect((await store.listAlerts({ sinceMs: 300, limit: 10 })).map((a) => a.id)).toEqual([second.id]);
      expect((await store.listAlerts({ afterId: first.id, limit: 1 })).map((a) => a.kind)).toEqual(['other']);
    });

    it('acknowledges and resolves with version checks and typed refusals', async () => {
      const { events } = await store.commitAlertChanges({ actor: 'meter-rules', changes: [{ ...raise('M-1', 100, 12), kind: 'continuous_flow', sourceKind: 'meter' }], states: [] });
      const id = events[0]!.alertId;
      const acked = await store.acknowledgeAlert({ id, expectedVersion: 1, by: 'crew-1', atMs: 500, note: 'on my way' });
      expect(acked).toMatchObject({ state: 'acknowledged', acknowledgedBy: 'crew-1', acknowledgedAtMs: 500, version: 2 });
      // A second crew acting on what it saw before: refused, with the alert as it is now.
      const stale = await store.resolveAlert({ id, expectedVersion: 1, by: 'crew-2', atMs: 510, resolution: 'false_alarm' }).catch((e: unknown) => e);
      expect(stale).toBeInstanceOf(AlertError);
      expect(stale).toMatchObject({ code: 'ALERT_VERSION_CONFLICT', current: { version: 2, acknowledgedBy: 'crew-1' } });
      await expect(store.acknowledgeAlert({ id, expectedVersion: 2, by: 'crew-2', atMs: 520 })).rejects.toMatchObject({ code: 'ALERT_TRANSITION_INVALID' });
      await expect(store.acknowledgeAlert({ id: 999, expectedVersion: 1, by: 'crew-2', atMs: 520 })).rejects.toMatchObject({ code: 'ALERT_NOT_FOUND' });

      // Cleared while acknowledged, then back: the crew still owns it.
      await store.commitAlertChanges({ actor: 'meter-rules', changes: [{ ...clear('M-1', 600), kind: 'continuous_flow', sourceKind: 'meter' }], states: [] });
      await expect(store.acknowledgeAlert({ id, expectedVersion: 3, by: 'crew-2', atMs: 620 })).rejects.toMatchObject({ code: 'ALERT_TRANSITION_INVALID' });
      await store.commitAlertChanges({ actor: 'meter-rules', changes: [{ ...raise('M-1', 700, 10), kind: 'continuous_flow', sourceKind: 'meter' }], states: [] });
      expect(await store.getAlert(id)).toMatchObject({ state: 'acknowledged', acknowledgedBy: 'crew-1', version: 4 });

      const resolved = await store.resolveAlert({ id, expectedVersion: 4, by: 'crew-1', atMs: 800, resolution: 'customer_side' });
      expect(resolved).toMatchObject({ state: 'resolved', resolvedBy: 'crew-1', resolution: 'customer_side', version: 5 });
      await expect(store.resolveAlert({ id, expectedVersion: 5, by: 'crew-1', atMs: 900, resolution: 'repaired' })).rejects.toMatchObject({ code: 'ALERT_TRANSITION_INVALID' });
      const trail = await store.alertEvents(id);
      expect(trail.map((e) => [e.action, e.actor])).toEqual([
        ['raised', 'meter-rules'],
        ['acknowledged', 'user:crew-1'],
        ['cleared', 'meter-rules'],
        ['raised', 'meter-rules'],
        ['resolved', 'user:crew-1'],
      ]);
      expect(trail[1]!.details).toEqual({ note: 'on my way' });
      expect(trail[4]!.alert).toEqual(resolved);
    });

    it('commits alert changes and consumer state together, or neither', async () => {
      const ok = await store.commitAlertChanges({ actor: 'detector', changes: [raise('S-1', 100, 0.9)], states: [{ name: 'leak', value: { cursor: 1 }, expectedVersion: 0 }, { name: 'leak/S-1', value: { h: [1] } }] });
      expect(ok.stateVersions).toEqual({ leak: 1, 'leak/S-1': 1 });
      // A second copy of the consumer, still at version 0, is refused and leaves no trace.
      const stale = store.commitAlertChanges({ actor: 'detector', changes: [clear('S-1', 200), raise('S-2', 200, 0.9)], states: [{ name: 'leak', value: { cursor: 2 }, expectedVersion: 0 }] });
      await expect(stale).rejects.toBeInstanceOf(ConsumerStateConflictError);
      expect(await store.openAlertFor('S-1', 'leak')).toMatchObject({ state: 'open' });
      expect(await store.openAlertFor('S-2', 'leak')).toBeUndefined();
      expect(await store.getConsumerState('leak')).toMatchObject({ value: { cursor: 1 }, version: 1 });
      expect((await store.alertEventsAfter(0, 10)).events).toHaveLength(1);
      await expect(store.commitAlertChanges({ actor: 'detector', changes: [{ ...raise('S-1', 1, 1), kind: 'a/b' }], states: [] })).rejects.toMatchObject({ code: 'ALERT_CHANGE_INVALID' });
    });

    it('feeds alert events in the order recorded, behind a cursor', async () => {
      expect(await store.latestAlertEventId()).toBe(0);
      await store.commitAlertChanges({ actor: 'detector', changes: [raise('S-1', 100, 0.9), raise('S-2', 100, 0.8)], states: [] });
      const first = await store.alertEventsAfter(0, 1);
      expect(first.events.map((e) => [e.alert.sourceId, e.action])).toEqual([['S-1', 'raised']]);
      await store.commitAlertChanges({ actor: 'detector', changes: [clear('S-1', 200)], states: [] });
      const rest = await store.alertEventsAfter(first.cursor, 10);
      expect(rest.events.map((e) => [e.alert.sourceId, e.action])).toEqual([
        ['S-2', 'raised'],
        ['S-1', 'cleared'],
      ]);
      expect(await store.alertEventsAfter(rest.cursor, 10)).toEqual({ events: [], cursor: rest.cursor });
      expect(await store.latestAlertEventId()).toBe(rest.events[1]!.id);
    });

    it('keeps feeds, cursors, state and alerts across close and reopen', async () => {
      await store.commit(batch({ reads: hourlyReads('M-1', 3), frames: [frame('S-1', T0)] }));
      await store.appendScores([score('S-1', 0, 0.9)]);
      await store.commitAlertChanges({ actor: 'detector', changes: [raise('S-1', 100, 0.9)], states: [{ name: 'c', value: { cursor: 9 } }] });
      const reads = await store.readsAfter(0, 100);
      const frames = await store.framesAfter(0, 100);
      const scores = await store.scoresAfter(0, 100);
      const events = await store.alertEventsAfter(0, 100);
      await store.close();
      store = await fixture.open();
      await store.commit(batch({ reads: [...hourlyReads('M-1', 4), ...hourlyReads('M-2', 1)], frames: [frame('S-1', T0), frame('S-1', T0 + 1)] }));
      await store.appendScores([score('S-1', 0, 0.9), score('S-1', 1, 0.8)]);
      await store.commitAlertChanges({ actor: 'detector', changes: [clear('S-1', 200)], states: [] });
      expect((await store.readsAfter(reads.cursor, 100)).reads.map((r) => `${r.meterId}@${(r.ts - T0) / HOUR}`)).toEqual(['M-1@3', 'M-2@0']);
      expect((await store.framesAfter(frames.cursor, 100)).frames.map((f) => f.startMs - T0)).toEqual([1]);
      expect((await store.scoresAfter(scores.cursor, 100)).scores.map((s) => s.score)).toEqual([0.8]);
      expect((await store.alertEventsAfter(events.cursor, 100)).events.map((e) => e.action)).toEqual(['cleared']);
      expect((await store.getConsumerState('c'))?.value).toEqual({ cursor: 9 });
      expect((await store.openAlertFor('S-1', 'leak'))?.state).toBe('cleared');
    });

    it('loses nothing across close and reopen', async () => {
      await store.commit(batch({ reads: hourlyReads('M-1', 48), frames: [frame('S-1', T0)] }));
      await store.close();
      store = await fixture.open();
      expect(await store.readsInRange('M-1', T0, T0 + 48 * HOUR, 100)).toHaveLength(48);
      expect(await store.commit(batch({ reads: hourlyReads('M-1', 48) }))).toMatchObject({ readsInserted: 0, readsDuplicate: 48 });
      expect(await store.framesInRange('S-1', T0, T0 + 1, 10)).toHaveLength(1);
    });

    billingContractCases(() => store);
  });
}
