import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore, type LeakScore } from '@suido/ingest';
import { BAND_COUNT } from '../model/feature-spec.ts';
import { LEVEL_FEATURES, LOW_BANDS, VERDICT_INPUTS, VERDICT_INPUTS_EVERY_NIGHT, verdictInputCount, type LevelVerdict } from '../model/level-history.ts';
import { BASELINE_NIGHTS, EMPTY_LEVELS, NIGHT_SAMPLES, nightOf, notePeak, observeLevels, parseLevelBaseline } from './level-baseline.ts';
import { LeakAlertEngine } from './leak-alert-engine.ts';

const log = pino({ level: 'silent' });
/** 02:00 in Hiroshima, night 0 of the fixture. */
const T0 = Date.parse('2026-11-20T02:00:00+09:00');
const DAY = 86_400_000;
const STEP = 10 * 60_000;

/**
 * A verdict that raises when the low bands rose a few dB over the high ones
 * (weight 1 on that feature, bias -4): the K-of-N night score's margin
 * counts too, so a quiet night (no rise, scores far under the threshold)
 * never raises.
 */
function verdict(): LevelVerdict {
  const d = verdictInputCount(0);
  const weights = Array<number>(d).fill(0);
  weights[0] = 1;
  weights[LEVEL_FEATURES] = 1; // the low bands' rise over the rise's level (the last level feature)
  return { inputs: VERDICT_INPUTS, sites: [], inputMean: Array(d).fill(0), inputStd: Array(d).fill(1), weights, bias: -4, threshold: 0.5 };
}

/** Twelve frames a night, 02:00–04:00: scores, and band levels with the low bands `lowRiseDb` up. */
function nightOfScores(sensorId: string, night: number, score: number, lowRiseDb: number | undefined): LeakScore[] {
  return Array.from({ length: 12 }, (_, i) => {
    const windowStartMs = T0 + night * DAY + i * STEP;
    const levels = lowRiseDb === undefined ? undefined : Array.from({ length: BAND_COUNT }, (_, b) => -70 + (b < LOW_BANDS ? lowRiseDb : 0) + 0.2 * Math.sin(i + b));
    return { sensorId, windowStartMs, windowEndMs: windowStartMs + 1000, score, modelVersion: 'm', ...(levels && { bandLevelsDb: levels }) };
  });
}

describe('leak alerts with the night verdict on level history', () => {
  const open: SqliteStore[] = [];
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
  });

  async function alertsFor(scores: LeakScore[], withVerdict: boolean | LevelVerdict, batchSize = 1000) {
    const store = new SqliteStore({ path: ':memory:' });
    open.push(store);
    await store.appendScores(scores);
    const levelVerdict = withVerdict === true ? verdict() : withVerdict || undefined;
    const config = { threshold: 0.7, clearThreshold: 0.4, k: 8, n: 12, m: 6, ...(levelVerdict && { levelVerdict }) };
    await new LeakAlertEngine({ store, log, config, batchSize }).drain();
    return store.listAlerts({ limit: 10 });
  }

  it('raises a leak that began while the sensor listened, which K of N misses, on the night it began; quiet nights and a first night without history stay K of N', async () => {
    // S-1: two quiet nights, then a leak the model scores at 0.62 (under 0.7) that lifts the low bands 6 dB.
    // S-2: the same scores, no rise. S-3: leak-like scores from its first night: K of N (no earlier night).
    const scores = [
      ...nightOfScores('S-1', 0, 0.2, 0), ...nightOfScores('S-1', 1, 0.25, 0), ...nightOfScores('S-1', 2, 0.62, 6),
      ...nightOfScores('S-2', 0, 0.2, 0), ...nightOfScores('S-2', 1, 0.25, 0), ...nightOfScores('S-2', 2, 0.62, 0),
      ...nightOfScores('S-3', 0, 0.9, 0),
    ];
    const without = await alertsFor(scores, false);
    expect(without.map((a) => a.sourceId)).toEqual(['S-3']);
    const alerts = await alertsFor(scores, true);
    expect(alerts.map((a) => a.sourceId).sort()).toEqual(['S-1', 'S-3']);
    const s1 = alerts.find((a) => a.sourceId === 'S-1')!;
    // On night 2, once the night has K windows: the verdict judges a night by its own windows, as in training.
    expect(s1.raisedAtMs).toBe(T0 + 2 * DAY + 7 * STEP + 1000);
    expect(s1.details).toMatchObject({ windowsAbove: 0, levelVerdict: { threshold: 0.5 } });
    expect((s1.details as { levelVerdict: { peakRiseDb: number } }).levelVerdict.peakRiseDb).toBeCloseTo(6, 0);
    expect((alerts.find((a) => a.sourceId === 'S-3')!.details as { levelVerdict?: unknown }).levelVerdict).toBeUndefined();
    // Page by page (a restart between pages reads the persisted levels back) decides the same.
    const paged = await alertsFor(scores, true, 5);
    expect(paged.map((a) => [a.sourceId, a.raisedAtMs]).sort()).toEqual(alerts.map((a) => [a.sourceId, a.raisedAtMs]).sort());
  });

  it("with a verdict that judges first nights, raises a sensor's first night on record by the verdict, which the rule leaves", async () => {
    // Weight on the margin and on "an earlier night" (the last input): a first night is believed at a lower
    // margin than a later one, as a context model's first night scores lower (model/level-history.ts).
    const d = verdictInputCount(0, VERDICT_INPUTS_EVERY_NIGHT);
    const weights = Array<number>(d).fill(0);
    weights[0] = 4;
    weights[d - 1] = -2;
    const every: LevelVerdict = { inputs: VERDICT_INPUTS_EVERY_NIGHT, sites: [], inputMean: Array(d).fill(0), inputStd: Array(d).fill(1), weights, bias: 2, threshold: 0.5 };
    // S-4 scores 0.6 (under the rule's 0.7) on its first night; S-5 is quiet. Margin logit(0.6) - logit(0.7) = -0.44:
    // 2 + 4 x -0.44 > 0 on a first night; on a second night at 0.6 the earlier night's -2 holds it.
    const scores = [...nightOfScores('S-4', 0, 0.6, 0), ...nightOfScores('S-5', 0, 0.2, 0), ...nightOfScores('S-5', 1, 0.2, 0)];
    expect(await alertsFor(scores, false)).toEqual([]);
    expect(await alertsFor(scores, true)).toEqual([]);
    const alerts = await alertsFor(scores, every);
    expect(alerts.map((a) => a.sourceId)).toEqual(['S-4']);
    const details = alerts[0]!.details as { levelVerdict: { probability: number; peakRiseDb?: number } };
    expect(details.levelVerdict.probability).toBeGreaterThan(0.5);
    // No earlier night: no rise to report.
    expect(details.levelVerdict.peakRiseDb).toBeUndefined();
    // A second night at the same scores, after a first night the verdict judged, is judged told there was one.
    const twoNights = await alertsFor([...nightOfScores('S-6', 0, 0.2, 0), ...nightOfScores('S-6', 1, 0.6, 0)], every);
    expect(twoNights).toEqual([]);
  });

  it("judges a streaming sensor's night by its listening hours, not by its louder day", async () => {
    // Every 10 minutes, day and night, for four days. By day (07:00–22:00) traffic lifts the low bands 10 dB, and the
    // model scores 0.2; on night 3 a leak lifts them 6 dB over the nights before and scores 0.62 (under K of N's 0.7).
    const scores: LeakScore[] = [];
    const midnight = T0 - 2 * 3_600_000;
    for (let i = 0; i < 4 * 144; i++) {
      const windowStartMs = midnight + i * STEP;
      const hour = (i % 144) / 6;
      const day = hour >= 7 && hour < 22;
      const leak = windowStartMs >= midnight + 3 * DAY;
      const lowRise = (day ? 10 : 0) + (leak ? 6 : 0);
      const bandLevelsDb = Array.from({ length: BAND_COUNT }, (_, b) => -70 + (b < LOW_BANDS ? lowRise : 0) + 0.2 * Math.sin(i + b));
      scores.push({ sensorId: 'S-9', windowStartMs, windowEndMs: windowStartMs + 1000, score: leak ? 0.62 : 0.2, modelVersion: 'm', bandLevelsDb });
    }
    const alerts = await alertsFor(scores, true);
    expect(alerts.map((a) => a.sourceId)).toEqual(['S-9']);
    // The leak began at midnight, but the verdict judges from 02:00, once the listening hours hold K (8) windows.
    expect(alerts[0]!.raisedAtMs).toBe(midnight + 3 * DAY + 2 * 3_600_000 + 7 * STEP + 1000);
    expect((alerts[0]!.details as { levelVerdict: { peakRiseDb: number } }).levelVerdict.peakRiseDb).toBeCloseTo(6, 0);
  });

  it('raises at the confirmed threshold only on the second of two nights in a row that reach it', async () => {
    // The verdict gives both sensors' loud nights ~0.84: under 0.9 alone, over the confirmed 0.5.
    const confirming = { ...verdict(), threshold: 0.9, confirmedThreshold: 0.5 };
    // S-1: a leak from night 2, heard on nights 2 and 3. S-2: one loud night (2) between quiet ones.
    const scores = [
      ...nightOfScores('S-1', 0, 0.2, 0), ...nightOfScores('S-1', 1, 0.25, 0), ...nightOfScores('S-1', 2, 0.62, 6), ...nightOfScores('S-1', 3, 0.62, 6),
      ...nightOfScores('S-2', 0, 0.2, 0), ...nightOfScores('S-2', 1, 0.25, 0), ...nightOfScores('S-2', 2, 0.62, 6), ...nightOfScores('S-2', 3, 0.25, 0),
    ];
    const alerts = await alertsFor(scores, confirming);
    expect(alerts.map((a) => a.sourceId)).toEqual(['S-1']);
    expect(alerts[0]!.raisedAtMs).toBe(T0 + 3 * DAY + 7 * STEP + 1000);
    const judged = (alerts[0]!.details as { levelVerdict: { probability: number; threshold: number; confirmedThreshold: number; nightBefore: number } }).levelVerdict;
    expect(judged).toMatchObject({ threshold: 0.9, confirmedThreshold: 0.5 });
    expect(judged.probability).toBeGreaterThanOrEqual(0.5);
    expect(judged.probability).toBeLessThan(0.9);
    expect(judged.nightBefore).toBeGreaterThanOrEqual(0.5);
    // Judged alone, each loud night is under 0.9: neither sensor is raised.
    expect(await alertsFor(scores, { ...confirming, confirmedThreshold: undefined })).toEqual([]);
    // A restart between pages keeps the night before's peak.
    const paged = await alertsFor(scores, confirming, 5);
    expect(paged.map((a) => [a.sourceId, a.raisedAtMs])).toEqual([['S-1', alerts[0]!.raisedAtMs]]);
  });

  it('judges scores without band levels (an older model) by K of N alone', async () => {
    const scores = [...nightOfScores('S-1', 0, 0.2, undefined), ...nightOfScores('S-1', 1, 0.25, undefined), ...nightOfScores('S-1', 2, 0.62, undefined)];
    expect(await alertsFor(scores, true)).toEqual([]);
  });
});

describe("a sensor's level baseline", () => {
  it("keeps each earlier night's median, at most BASELINE_NIGHTS of them, and thins a streaming sensor's night", () => {
    let state = EMPTY_LEVELS;
    for (let night = 0; night < BASELINE_NIGHTS + 3; night++) {
      for (let i = 0; i < 12; i++) state = observeLevels(state, T0 + night * DAY + i * STEP, [night, night + i], 12);
    }
    expect(state.nights.map((x) => x.night - nightOf(T0))).toEqual(Array.from({ length: BASELINE_NIGHTS }, (_, i) => i + 2));
    expect(state.nights[0]!.median).toEqual([2, 7]); // lower median of 2 + 0 … 11
    expect(state.tonight?.levels).toHaveLength(12);
    let busy = EMPTY_LEVELS;
    for (let i = 0; i < 500; i++) busy = observeLevels(busy, T0 + i * 1000, [i], 12);
    expect(busy.tonight!.levels.length).toBeLessThanOrEqual(NIGHT_SAMPLES);
    // Evenly: the first hour weighs as much as the last.
    const kept = busy.tonight!.levels.map(([v]) => v!);
    expect(kept[0]).toBe(0);
    expect(new Set(kept.slice(1).map((v, i) => v - kept[i]!))).toEqual(new Set([busy.tonight!.stride]));
    expect(kept[kept.length - 1]).toBeGreaterThan(500 - 2 * busy.tonight!.stride!);
    expect(busy.recent).toHaveLength(12);
    // A day window (15:00) is in the recent levels, but not in the night's.
    const afternoon = observeLevels(state, T0 + 13 * 3_600_000, [99, 99], 12);
    expect(afternoon.tonight).toEqual(state.tonight);
    expect(afternoon.recent.at(-1)).toEqual([99, 99]);
    expect(parseLevelBaseline(JSON.parse(JSON.stringify(state)))).toEqual(state);
    expect(parseLevelBaseline({ ...state, nights: [{ night: 'x', median: [] }] })).toBeUndefined();
    // Each night's verdict peak, for the next night to confirm with: the two newest nights.
    let peaks = notePeak(notePeak(notePeak(state, 5, 0.3), 5, 0.6), 5, 0.4);
    peaks = notePeak(notePeak(peaks, 6, 0.2), 7, 0.1);
    expect(peaks.peaks).toEqual([{ night: 6, probability: 0.2 }, { night: 7, probability: 0.1 }]);
    expect(notePeak(state, 5, 0.6).peaks).toEqual([{ night: 5, probability: 0.6 }]);
    expect(parseLevelBaseline(JSON.parse(JSON.stringify(peaks)))).toEqual(peaks);
    expect(parseLevelBaseline({ ...state, peaks: [{ night: 1, probability: 2 }] })).toBeUndefined();
  });
});
