import { SqliteStore, type FrameToStore } from '@suido/ingest';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { LeakModel } from '../src/model/leak-model.ts';
import { buildLeakModelGraph } from '../src/model/onnx-graph.ts';
import { contextWindow, randomContextWeights } from '../src/model/sensor-context.fixtures.ts';
import { LeakScorer } from '../src/stream/leak-scorer.ts';

const log = pino({ level: 'silent' });
const T0 = Date.parse('2026-11-20T17:00:00Z');

/** 1 s frames at 8 kHz from two sensors: a logger's, ten minutes apart, or a streaming sensor's, back to back. */
function frames(stepMs = 600_000, count = 16): FrameToStore[] {
  const out: FrameToStore[] = [];
  for (let i = 0; i < count; i++) {
    for (const [s, sensorId] of ['S-0001', 'S-0002'].entries()) {
      const at4k = contextWindow(1000 * (s + 1) + i);
      // Each 4 kHz sample twice: an 8 kHz recording whose low band is the fixture's.
      const samples = Int16Array.from({ length: 8000 }, (_, n) => Math.round(at4k[n >> 1]! * 32767));
      out.push({ sensorId, startMs: T0 + i * stepMs, sampleRateHz: 8000, gainDb: 0, samples, summary: { rmsDbfs: -30, clippedRatio: 0 } });
    }
  }
  return out;
}

async function storeWithFrames(stepMs?: number, count?: number): Promise<SqliteStore> {
  const store = new SqliteStore({ path: ':memory:' });
  await store.commit({ receivedAtMs: Date.now(), reads: [], frames: frames(stepMs, count), statuses: [], deadLetters: [] });
  return store;
}

async function scoresOf(store: SqliteStore): Promise<string[]> {
  const out: string[] = [];
  for (const id of ['S-0001', 'S-0002']) for (const s of await store.scoresInRange(id, 0, Number.MAX_SAFE_INTEGER, 100)) out.push(`${id}@${s.windowStartMs}=${s.score.toFixed(5)}`);
  return out;
}

describe('the streaming detector with a context model', () => {
  const open: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const x of open.splice(0)) await x.close();
  });

  it('rebuilds each sensor\'s history from the store after a restart, so every window scores as without one', async () => {
    const model = await LeakModel.load(buildLeakModelGraph(randomContextWeights(41), { version: 'ctx-scorer', threshold: '0.5', sample_rate_hz: '4000', window_samples: '4000' }));
    open.push(model);

    const steady = await storeWithFrames();
    open.push(steady);
    await new LeakScorer({ store: steady, model, log, batchFrames: 6 }).drain();
    const expected = await scoresOf(steady);
    expect(expected).toHaveLength(32);
    expect(new Set(expected.map((e) => e.split('=')[1])).size, 'windows must score apart').toBeGreaterThan(16);
    // Each score carries its window's band levels in dB: louder windows of the fixture, higher levels.
    const stored = await steady.scoresInRange('S-0001', 0, Number.MAX_SAFE_INTEGER, 100);
    expect(stored.every((s) => s.bandLevelsDb?.length === 24 && s.bandLevelsDb.every((db) => db > -200 && db < 40))).toBe(true);
    const mean = (s: (typeof stored)[number]) => s.bandLevelsDb!.reduce((a, b) => a + b, 0) / 24;
    expect(Math.max(...stored.map(mean)) - Math.min(...stored.map(mean)), 'the fixture windows differ in level').toBeGreaterThan(3);

    // The same frames; the first scorer stops after two passes (12 frames), a new one (a restart) goes on.
    const restarted = await storeWithFrames();
    open.push(restarted);
    const first = new LeakScorer({ store: restarted, model, log, batchFrames: 6 });
    await first.runOnce();
    await first.runOnce();
    await new LeakScorer({ store: restarted, model, log, batchFrames: 6 }).drain();
    expect(await scoresOf(restarted)).toEqual(expected);
  });

  it("rebuilds a streaming sensor's history of spaced windows, not its last eleven seconds", async () => {
    const model = await LeakModel.load(buildLeakModelGraph(randomContextWeights(42), { version: 'ctx-stream', threshold: '0.5', sample_rate_hz: '4000', window_samples: '4000' }));
    open.push(model);
    // 50 frames of 1 s back to back: the history holds every third window (CONTEXT_SPACING_MS).
    const steady = await storeWithFrames(1000, 50);
    open.push(steady);
    await new LeakScorer({ store: steady, model, log, batchFrames: 20 }).drain();
    const expected = await scoresOf(steady);
    expect(expected).toHaveLength(100);

    // Stopped after 31 frames a sensor (windows 0, 3, …, 30 joined): the restart puts back those eleven.
    const restarted = await storeWithFrames(1000, 50);
    open.push(restarted);
    await new LeakScorer({ store: restarted, model, log, batchFrames: 62 }).runOnce();
    await new LeakScorer({ store: restarted, model, log, batchFrames: 20 }).drain();
    expect(await scoresOf(restarted)).toEqual(expected);
  });
});
