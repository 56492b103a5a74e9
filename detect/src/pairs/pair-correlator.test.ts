import { SqliteStore, type DeviceRecord, type DeviceRegistration, type FrameToStore } from '@suido/ingest';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { noiseStream } from './noise.fixtures.ts';
import { CORRELATED_LEAK_KIND, PairCorrelator } from './pair-correlator.ts';
import { NOMINAL_WAVE_SPEED_MS } from './pair-verdict.ts';
import { pairsOnMains } from './registry-pairs.ts';

const log = pino({ level: 'silent' });
const HOUR = 3_600_000;
/** 02:00 Japan time on 2026-11-21: night 0's listening hours begin. */
const NIGHT0 = Date.parse('2026-11-21T02:00:00+09:00');
const FS = 8000;

const noise = noiseStream;

const REGISTRY: DeviceRegistration[] = [
  // P-1: iron, S-1 and S-2 180 m apart; S-3 far down the same main, too far from S-2 to pair.
  { id: 'S-1', kind: 'sensor', district: 'Naka', lat: 34.39, lon: 132.45, pipeId: 'P-1', pipeMaterial: 'ductile_iron', chainageM: 100 },
  { id: 'S-2', kind: 'sensor', district: 'Naka', lat: 34.3916, lon: 132.45, pipeId: 'P-1', pipeMaterial: 'ductile_iron', chainageM: 280 },
  { id: 'S-3', kind: 'sensor', district: 'Naka', pipeId: 'P-1', pipeMaterial: 'ductile_iron', chainageM: 2000 },
  // P-3: a quiet iron pair.
  { id: 'S-5', kind: 'sensor', district: 'Naka', pipeId: 'P-3', pipeMaterial: 'ductile_iron', chainageM: 0 },
  { id: 'S-6', kind: 'sensor', district: 'Naka', pipeId: 'P-3', pipeMaterial: 'ductile_iron', chainageM: 150 },
];

/** A sound on a pair's main, `fromFirstM` along it from the first of two sensors `spacingM` apart, on some nights. */
interface SharedSound {
  readonly first: string;
  readonly second: string;
  readonly fromFirstM: number;
  readonly spacingM: number;
  readonly nights: ReadonlySet<number>;
}

/** P-1's leak: 50 m from S-1 (130 m from S-2). */
const leakOnP1 = (nights: readonly number[]): SharedSound => ({ first: 'S-1', second: 'S-2', fromFirstM: 50, spacingM: 180, nights: new Set(nights) });

/**
 * One night of 1 s frames every 10 minutes from 02:00 (12 a night) for the
 * sensors given; each shared sound on its nights is one sound both of its
 * sensors hear, the farther one (d_far − d_near) / c later, under each
 * sensor's own noise three times as loud.
 */
function night(n: number, sounds: readonly SharedSound[], sensors = ['S-1', 'S-2', 'S-3', 'S-5', 'S-6']): FrameToStore[] {
  const out: FrameToStore[] = [];
  for (let i = 0; i < 12; i++) {
    const startMs = NIGHT0 + n * 24 * HOUR + i * 600_000;
    const playing = sounds.filter((x) => x.nights.has(n)).map((x, j) => {
      const lag = Math.round(((x.spacingM - 2 * x.fromFirstM) / NOMINAL_WAVE_SPEED_MS.ductile_iron) * FS);
      return { ...x, lag, source: Float64Array.from({ length: FS + Math.abs(lag) }, noise(1000 * n + 100 * i + j)) };
    });
    for (const [k, sensorId] of sensors.entries()) {
      const own = noise(100_000 + 1000 * n + 100 * i + k);
      const heard = playing.filter((x) => x.first === sensorId || x.second === sensorId);
      // The second hears it `lag` samples after the first (lag < 0: before): second[t] = first[t − lag].
      const at = (x: (typeof playing)[number], t: number) => x.source[t + Math.max(0, x.lag) - (x.first === sensorId ? 0 : x.lag)]!;
      const samples = Int16Array.from({ length: FS }, (_, t) => Math.round(2000 * (heard.reduce((sum, x) => sum + at(x, t), 0) + 3 * own())));
      out.push({ sensorId, startMs, sampleRateHz: FS, gainDb: 0, samples, summary: { rmsDbfs: -30, clippedRatio: 0 } });
    }
  }
  return out;
}

const commit = (store: SqliteStore, frames: FrameToStore[]) => store.commit({ receivedAtMs: Date.now(), reads: [], frames, statuses: [], deadLetters: [] });

describe('pairs on mains, from the registry', () => {
  const sensor = (id: string, pipeId: string | null, chainageM: number | null, pipeMaterial: DeviceRecord['pipeMaterial'] = 'steel', sourceChainageM: number | null = null): DeviceRecord => ({
    id, kind: 'sensor', district: null, lat: null, lon: null, pipeMaterial, site: null, registerMaxL: null, pipeId, chainageM, sourceChainageM, gatewayId: null, firstSeenMs: null, lastSeenMs: null, lastStatus: null,
  });

  it('pairs neighbours along a main in chainage order, of one material and a correlator\'s spacing', () => {
    const pairs = pairsOnMains([
      sensor('S-c', 'P-1', 400),
      sensor('S-a', 'P-1', 0),
      sensor('S-b', 'P-1', 150, 'steel', 120), // its PRV, 30 m back towards S-a
      sensor('S-d', 'P-1', 1200), // 800 m on: too far for steel
      sensor('S-e', 'P-2', 0, 'pvc'),
      sensor('S-f', 'P-2', 250, 'pvc'), // 250 m on plastic: too far
      sensor('S-g', 'P-3', 0),
      sensor('S-h', 'P-3', 15), // closer than a sensor's own known-source margin
      sensor('S-i', 'P-4', 0, 'pe'),
      sensor('S-j', 'P-4', 100, 'pvc'), // materials recorded differently
      sensor('S-k', 'P-5', null),
      sensor('S-l', null, 10),
    ]);
    expect(pairs.map((p) => [p.key, p.spacingM, p.material, p.sourcesM])).toEqual([
      ['S-a~S-b', 150, 'steel', [120]],
      ['S-b~S-c', 250, 'steel', [-30]],
    ]);
  });
});

describe('the pair correlator', () => {
  const open: SqliteStore[] = [];
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
  });
  const storeWith = async () => {
    const store = new SqliteStore({ path: ':memory:' });
    open.push(store);
    await store.upsertDevices(REGISTRY);
    return store;
  };

  it('raises one alert the night a leak between two sensors is heard, placed along the main, and clears it after a quiet night', async () => {
    const store = await storeWith();
    for (const n of [0, 1, 2, 3, 4]) await commit(store, night(n, [leakOnP1([1, 2])]));
    const correlator = new PairCorrelator({ store, log, batchSize: 40 });
    await correlator.drain();

    const alerts = await store.listAlerts({ kind: CORRELATED_LEAK_KIND, limit: 10 });
    expect(alerts.map((a) => `${a.sourceId}:${a.state}`)).toEqual(['S-1:cleared']);
    const [alert] = alerts;
    // Raised in night 1's listening hours, as soon as it had 10 s in step; cleared when night 4 showed night 3 quiet.
    expect(alert!.raisedAtMs).toBeGreaterThan(NIGHT0 + 24 * HOUR);
    expect(alert!.raisedAtMs).toBeLessThan(NIGHT0 + 26 * HOUR);
    expect(alert!.clearedAtMs).toBe(NIGHT0 + 3 * 24 * HOUR + 2 * HOUR);
    const d = alert!.details as Record<string, number | string>;
    // The details are the latest night's (the leak heard again on night 2); the raise was night 1's.
    expect(d).toMatchObject({ partnerId: 'S-2', pipeId: 'P-1', spacingM: 180, night: '2026-11-23', scoreUnit: 'GCC-PHAT peak over mean' });
    const events = await store.alertEvents(alert!.id);
    expect(events[0]!.details).toMatchObject({ night: '2026-11-22' });
    expect(Math.abs((d.fromFirstM as number) - 50)).toBeLessThanOrEqual(d.withinM as number);
    expect(Math.abs((d.leakChainageM as number) - 150)).toBeLessThanOrEqual(d.withinM as number);
    // On the map, between the two sensors by the same share.
    expect(d.leakLat).toBeCloseTo(34.39 + (0.0016 * (d.fromFirstM as number)) / 180, 5);
    expect(alert!.peakScore).toBeGreaterThan(correlator.threshold);
    const life = events.map((e) => e.action).filter((a) => a !== 'updated');
    expect(life).toEqual(['raised', 'cleared']);
    // The quiet pair, and the sensor too far down the main, raise nothing.
    expect((await store.listAlerts({ limit: 10 })).length).toBe(1);
  });

  it('stopped in the middle and started again, neither loses nor repeats the alert', async () => {
    const store = await storeWith();
    const sounds = [leakOnP1([1, 2])];
    await commit(store, [...night(0, sounds), ...night(1, sounds)]);
    await new PairCorrelator({ store, log, batchSize: 40 }).drain();
    expect((await store.listAlerts({ kind: CORRELATED_LEAK_KIND, limit: 10 })).map((a) => a.state)).toEqual(['open']);

    // A second correlator (a restart) takes the cursor and the pairs' states from the store.
    for (const n of [2, 3, 4]) await commit(store, night(n, sounds));
    await new PairCorrelator({ store, log, batchSize: 40 }).drain();
    const alerts = await store.listAlerts({ kind: CORRELATED_LEAK_KIND, limit: 10 });
    expect(alerts.map((a) => `${a.sourceId}:${a.state}`)).toEqual(['S-1:cleared']);
    expect((await store.alertEvents(alerts[0]!.id)).map((e) => e.action).filter((a) => a !== 'updated')).toEqual(['raised', 'cleared']);
  });

  it("takes a peak at a PRV the registry maps beside a sensor for the valve, and one that is not mapped for a leak", async () => {
    // A PRV's hiss on P-3, 60 m from S-5 (90 m from S-6), every night.
    const valve: SharedSound = { first: 'S-5', second: 'S-6', fromFirstM: 60, spacingM: 150, nights: new Set([0, 1]) };
    const judged = async (mapped: boolean) => {
      const store = await storeWith();
      if (mapped) await store.upsertDevices([{ ...REGISTRY[3]!, site: 'near_prv', sourceChainageM: 60 }]);
      for (const n of [0, 1]) await commit(store, night(n, [valve]));
      await new PairCorrelator({ store, log, batchSize: 100 }).drain();
      return (await store.listAlerts({ limit: 10 })).map((a) => `${a.kind}:${a.sourceId}`);
    };
    expect(await judged(false)).toEqual([`${CORRELATED_LEAK_KIND}:S-5`]);
    expect(await judged(true)).toEqual([]);
  });

  it("does not raise a repaired leak again from a logger's late frames of an old night", async () => {
    const store = await storeWith();
    for (const n of [0, 1, 2, 3]) await commit(store, night(n, [leakOnP1([1])]));
    await new PairCorrelator({ store, log, batchSize: 100 }).drain();
    const [alert] = await store.listAlerts({ kind: CORRELATED_LEAK_KIND, limit: 10 });
    expect(alert!.state).toBe('cleared');
    await store.resolveAlert({ id: alert!.id, expectedVersion: alert!.version, by: 'crew-1', atMs: Date.now(), resolution: 'repaired' });
    // Night 1's frames again, 5 minutes later in each slot: a buffer emptied days late.
    const late = night(1, [leakOnP1([1])], ['S-1', 'S-2']).map((f) => ({ ...f, startMs: f.startMs + 300_000 }));
    await commit(store, late);
    await new PairCorrelator({ store, log, batchSize: 100 }).drain();
    expect((await store.listAlerts({ kind: CORRELATED_LEAK_KIND, limit: 10 })).map((a) => a.state)).toEqual(['resolved']);
  });

  it("clears the first sensor's alert after a quiet night whatever the pair's own state remembers, and one pair's bad frames hold up no other", async () => {
    const store = await storeWith();
    // An alert this pair's state knows nothing of (raised with another partner, or a state lost).
    await store.commitAlertChanges({ actor: 'detector', changes: [{ op: 'raise', kind: CORRELATED_LEAK_KIND, sourceKind: 'sensor', sourceId: 'S-5', atMs: NIGHT0 - HOUR, score: 40 }], states: [] });
    const tiny = ['S-1', 'S-2'].map((sensorId) => ({ sensorId, startMs: NIGHT0 + 24 * HOUR + 30_000, sampleRateHz: FS, gainDb: 0, samples: Int16Array.of(7), summary: { rmsDbfs: -30, clippedRatio: 0 } }));
    for (const n of [0, 1, 2]) await commit(store, night(n, [leakOnP1([1, 2])]));
    await commit(store, tiny);
    await new PairCorrelator({ store, log, batchSize: 100 }).drain();
    const alerts = await store.listAlerts({ kind: CORRELATED_LEAK_KIND, limit: 10 });
    expect(alerts.map((a) => `${a.sourceId}:${a.state}`).sort()).toEqual(['S-1:open', 'S-5:cleared']);
  });

  it('judges a night of short frames by their seconds in step, not their count', async () => {
    const store = await storeWith();
    // Each 1 s frame of a leak night cut in three (a logger recording a third of a second at a time): 36 frames, 12 s.
    const thirds = night(1, [leakOnP1([1])], ['S-1', 'S-2']).flatMap((f) =>
      [0, 1, 2].map((k) => ({ ...f, startMs: f.startMs + k * 334, samples: f.samples.slice(k * 2666, (k + 1) * 2666) })),
    );
    await commit(store, thirds);
    await new PairCorrelator({ store, log, batchSize: 200 }).drain();
    const [alert] = await store.listAlerts({ kind: CORRELATED_LEAK_KIND, limit: 10 });
    expect(alert?.sourceId).toBe('S-1');
    expect((alert!.details as { framesInStep: number }).framesInStep).toBe(36);
  });

  it('judges nothing on too little audio in step, or on frames whose partner did not record at the same instant', async () => {
    const store = await storeWith();
    // Night 1 leaks, but S-2 recorded only 6 of its frames (6 s in step: under MIN_NIGHT_SECONDS), the others 5 s late.
    const frames = night(1, [leakOnP1([1])], ['S-1', 'S-2']).map((f, i) => (f.sensorId === 'S-2' && i % 4 >= 2 ? { ...f, startMs: f.startMs + 5000 } : f));
    await commit(store, frames);
    const [pass] = await new PairCorrelator({ store, log, batchSize: 100 }).drain();
    expect(pass!.nights).toBe(1);
    expect(await store.listAlerts({ limit: 10 })).toEqual([]);
  });
});
