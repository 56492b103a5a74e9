import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConsumerStateConflictError, SqliteStore, type AlertEvent, type LeakScore, type Store } from '@suido/ingest';
import { LeakAlertEngine } from './leak-alert-engine.ts';

const log = pino({ level: 'silent' });
const T0 = Date.parse('2026-11-24T02:00:00+09:00');
const STEP = 10 * 60_000;

function series(sensorId: string, scores: readonly number[], from = 0, modelVersion = 'm1'): LeakScore[] {
  return scores.map((score, i) => {
    const windowStartMs = T0 + (from + i) * STEP;
    return { sensorId, windowStartMs, windowEndMs: windowStartMs + 60_000, score, modelVersion };
  });
}

const times = (n: number, s: number): number[] => Array<number>(n).fill(s);

/**
 * Three sensors over one night, interleaved as a detector would store them:
 * S-1 hears a leak that a repair ends, S-2 flaps around the threshold (one
 * alert, never a second), S-3 is quiet.
 */
function night(): LeakScore[] {
  const s1 = series('S-1', [...times(4, 0.1), ...times(12, 0.92), 0.97, ...times(10, 0.05)]);
  const s2 = series('S-2', Array.from({ length: 27 }, (_, i) => (i % 2 === 0 ? 0.85 : 0.3)));
  const s3 = series('S-3', times(27, 0.2));
  return s1.flatMap((s, i) => [s, s2[i]!, s3[i]!]);
}

/**
 * What an observer sees, per sensor: its alerts and their audit trails. Ids
 * and the interleaving of sensors depend on how the feed was paged, so they
 * are left out; every alert and every event must be there, once.
 */
async function outcome(store: Store) {
  const alerts = (await store.listAlerts({ limit: 100 })).map(({ id: _id, ...a }) => a).sort((a, b) => a.sourceId.localeCompare(b.sourceId));
  const events = (await store.alertEventsAfter(0, 1000)).events
    .map((e) => `${e.alert.sourceId} ${e.action} at ${e.atMs} peak ${e.alert.peakScore} v${e.alert.version}`)
    .sort();
  return { alerts, events };
}

describe('leak alert engine', () => {
  let dir: string;
  let stores: Store[];

  async function open(name = 'suido.db'): Promise<Store> {
    const s = new SqliteStore({ path: join(dir, name) });
    stores.push(s);
    return s;
  }

  async function reference(scores: readonly LeakScore[]) {
    const store = await open('reference.db');
    await store.appendScores(scores);
    await new LeakAlertEngine({ store, log }).drain();
    return outcome(store);
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'suido-leak-alerts-'));
    stores = [];
  });
  afterEach(async () => {
    for (const s of stores) await s.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('raises once for a persistent leak and clears it once; a flapping sensor gets one alert; a quiet one none', async () => {
    const store = await open();
    await store.appendScores(night());
    await new LeakAlertEngine({ store, log }).drain();
    const alerts = await store.listAlerts({ limit: 10 });
    expect(alerts.map((a) => [a.sourceId, a.kind, a.state])).toEqual([
      ['S-1', 'leak', 'cleared'],
      ['S-2', 'leak', 'open'],
    ]);
    const s1 = alerts[0]!;
    // Raised at the end of the third window above 0.7, since the first one; cleared after 6 quiet windows.
    expect(s1).toMatchObject({ raisedAtMs: T0 + 6 * STEP + 60_000, peakScore: 0.97, clearedAtMs: T0 + 22 * STEP + 60_000, lastSeenAtMs: T0 + 16 * STEP + 60_000 });
    expect(s1.details).toMatchObject({ firstAboveAtMs: T0 + 4 * STEP + 60_000, windowsAbove: 3, threshold: 0.7, modelVersion: 'm1' });
    expect((await store.alertEvents(s1.id)).map((e) => e.action)).toEqual(['raised', 'updated', 'cleared']);
    expect((await store.alertEvents(alerts[1]!.id)).map((e) => e.action)).toEqual(['raised']);
  });

  it('continues after a restart on the same file without losing or repeating an alert', async () => {
    const scores = night();
    const expected = await reference(scores);

    let store = await open();
    // Scores arrive while the engine runs; it is stopped mid-night.
    await store.appendScores(scores.slice(0, 20));
    let engine = new LeakAlertEngine({ store, log, batchSize: 7 });
    await engine.runOnce();
    await store.appendScores(scores.slice(20, 45));
    await engine.runOnce();
    await engine.runOnce();
    await engine.stop();
    await store.close();

    store = await open();
    await store.appendScores(scores.slice(45));
    engine = new LeakAlertEngine({ store, log, batchSize: 7 });
    await engine.drain();
    expect(await outcome(store)).toEqual(expected);
  });

  it('loses nothing when it dies before its commit, and repeats nothing when it dies just after', async () => {
    const scores = night();
    const expected = await reference(scores);
    for (const when of ['before', 'after'] as const) {
      const store = await open(`crash-${when}.db`);
      await store.appendScores(scores);
      let calls = 0;
      const crashing = new Proxy(store, {
        get(target, prop, receiver) {
          if (prop !== 'commitAlertChanges') return Reflect.get(target, prop, receiver) as unknown;
          return async (...args: Parameters<Store['commitAlertChanges']>) => {
            if (++calls !== 4) return target.commitAlertChanges(...args);
            if (when === 'after') await target.commitAlertChanges(...args);
            throw new Error(`crash ${when} the commit`);
          };
        },
      });
      const dying = new LeakAlertEngine({ store: crashing, log, batchSize: 5 });
      await expect(dying.drain()).rejects.toThrow(`crash ${when} the commit`);
      await new LeakAlertEngine({ store, log, batchSize: 5 }).drain();
      expect(await outcome(store)).toEqual(expected);
    }
  });

  it('fences a second copy of the engine on the same store', async () => {
    const scores = night();
    const expected = await reference(scores);
    const store = await open();
    await store.appendScores(scores);
    const a = new LeakAlertEngine({ store, log, batchSize: 10 });
    const b = new LeakAlertEngine({ store, log, batchSize: 10 });
    const results = await Promise.allSettled([a.runOnce(), b.runOnce()]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(results.find((r) => r.status === 'rejected')).toMatchObject({ reason: expect.any(ConsumerStateConflictError) });
    // The refused copy reloads and carries on from where the other one got;
    // then the other is the stale one, and is refused in turn.
    const [winner, loser] = results[0]!.status === 'fulfilled' ? [a, b] : [b, a];
    await loser.drain();
    await expect(winner.runOnce()).rejects.toBeInstanceOf(ConsumerStateConflictError);
    expect(await winner.drain()).toEqual([{ scores: 0, lateWindows: 0, events: [], more: false }]);
    expect(await outcome(store)).toEqual(expected);
  });

  it('takes a sensor window by window in time order and skips windows older than the newest taken', async () => {
    const store = await open();
    const engine = new LeakAlertEngine({ store, log });
    const s = series('S-1', times(3, 0.9));
    await store.appendScores([s[2]!, s[0]!, s[1]!]);
    const first = await engine.runOnce();
    expect(first.events.map((e) => [e.action, e.atMs])).toEqual([['raised', s[2]!.windowEndMs]]);
    // A window from before the newest one, stored late: skipped, it cannot rewrite the decision.
    await store.appendScores(series('S-1', [0.1], -1));
    expect(await engine.runOnce()).toMatchObject({ scores: 1, lateWindows: 1, events: [] });
  });

  it('counts only the configured model version', async () => {
    const store = await open();
    await store.appendScores([...series('S-1', times(5, 0.9), 0, 'm-old'), ...series('S-1', times(5, 0.1), 0, 'm-new')]);
    await new LeakAlertEngine({ store, log, config: { modelVersion: 'm-new' } }).drain();
    expect(await store.listAlerts({ limit: 10 })).toEqual([]);
  });

  it('judges a sensor at its site’s thresholds where the model has them, read from the registry, and any other at the default', async () => {
    const store = await open();
    await store.upsertDevices([
      { id: 'S-1', kind: 'sensor', district: 'naka', pipeMaterial: 'pvc', site: 'near_prv' },
      { id: 'S-2', kind: 'sensor', district: 'naka', pipeMaterial: 'pvc', site: 'quiet_residential' },
    ]);
    // The same steady 0.85 at a PRV (its own 0.9), on a quiet street, and at a sensor the registry does not know.
    await store.appendScores([...series('S-1', times(5, 0.85)), ...series('S-2', times(5, 0.85)), ...series('S-3', times(5, 0.85))]);
    const config = { threshold: 0.8, clearThreshold: 0.5, bySite: { near_prv: { threshold: 0.9, clearThreshold: 0.55 } } };
    const engine = new LeakAlertEngine({ store, log, config, placeTtlMs: 0 });
    await engine.drain();
    const raised = await store.listAlerts({ limit: 10 });
    expect(raised.map((a) => a.sourceId)).toEqual(['S-2', 'S-3']);
    expect(raised[0]!.details).toMatchObject({ threshold: 0.8 });
    expect(raised[0]!.details).not.toHaveProperty('site');
    // Louder at the PRV: raised at its own threshold, which the alert names.
    await store.appendScores(series('S-1', times(3, 0.95), 5));
    await engine.drain();
    const prv = (await store.listAlerts({ sourceId: 'S-1', limit: 10 }))[0];
    expect(prv?.details).toMatchObject({ threshold: 0.9, site: 'near_prv' });
    // The registry moves S-2 next to a PRV: its next windows are judged at 0.9 and 0.55, so 0.52 clears it where 0.5 would not.
    await store.upsertDevices([{ id: 'S-2', kind: 'sensor', district: 'naka', pipeMaterial: 'pvc', site: 'near_prv' }]);
    await store.appendScores(series('S-2', times(6, 0.52), 5));
    await engine.drain();
    expect((await store.listAlerts({ sourceId: 'S-2', limit: 10 }))[0]?.state).toBe('cleared');
    expect(() => new LeakAlertEngine({ store, log, config: { bySite: { near_river: { threshold: 0.9, clearThreshold: 0.5 } } as never } })).toThrow(/near_river/);
    expect(() => new LeakAlertEngine({ store, log, config: { byMaterial: { pvc: { threshold: 0.4, clearThreshold: 0.5 } } } })).toThrow(/byMaterial pvc/);
  });

  it('judges a sensor on a main of a material with its own threshold at it, unless its site has one', async () => {
    const store = await open();
    await store.upsertDevices([
      { id: 'S-1', kind: 'sensor', district: 'naka', pipeMaterial: 'pvc', site: 'quiet_residential' },
      { id: 'S-2', kind: 'sensor', district: 'naka', pipeMaterial: 'pvc', site: 'near_prv' },
      { id: 'S-3', kind: 'sensor', district: 'naka', pipeMaterial: 'steel', site: 'quiet_residential' },
    ]);
    await store.appendScores([...series('S-1', times(5, 0.5)), ...series('S-2', times(5, 0.5)), ...series('S-3', times(5, 0.5))]);
    const config = {
      threshold: 0.8,
      clearThreshold: 0.5,
      bySite: { near_prv: { threshold: 0.9, clearThreshold: 0.55 } },
      byMaterial: { pvc: { threshold: 0.45, clearThreshold: 0.27 } },
    };
    await new LeakAlertEngine({ store, log, config }).drain();
    const raised = await store.listAlerts({ limit: 10 });
    expect(raised.map((a) => [a.sourceId, a.details])).toEqual([['S-1', expect.objectContaining({ threshold: 0.45, pipeMaterial: 'pvc' })]]);
  });

  it('runs as a loop and tells each commit’s events', async () => {
    const store = await open();
    const seen: AlertEvent[] = [];
    let told!: () => void;
    const raised = new Promise<void>((resolve) => (told = resolve));
    const engine = new LeakAlertEngine({ store, log, pollMs: 10, onEvents: (events) => (seen.push(...events), told()) });
    engine.start();
    try {
      await store.appendScores(series('S-9', times(3, 0.99)));
      engine.nudge();
      await raised;
      expect(seen.map((e) => [e.action, e.alert.sourceId])).toEqual([['raised', 'S-9']]);
    } finally {
      await engine.stop();
    }
  });
});
