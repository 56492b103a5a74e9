import { describe, expect, it } from 'vitest';
import type { FrameMeta } from './dataset.ts';
import { CONTEXT_SETTLED_MS } from '../model/sensor-context.ts';
import { chooseOperatingPoint, chooseRecordingThreshold, chooseThreshold, nightReport, nights, onsetSensors, persistenceScore, verdictSubset, windowReport, withLeaksOf } from './evaluation.ts';
import type { Example } from './examples.ts';

/** One sensor-night of windows, 10 minutes apart. */
function night(sensorId: string, leak: boolean, scores: number[], index = 0, environment = 'quiet_residential', material = 'pvc'): { examples: Example[]; scores: number[] } {
  const meta = {
    id: `${sensorId}/n${index}`,
    sensorId,
    night: index,
    daytime: false,
    leak,
    audible: leak ? true : null,
    sensorAudible: leak ? true : null,
    material,
    environment,
    leakSizeLps: leak ? 0.5 : null,
  } as unknown as FrameMeta;
  return { examples: scores.map((_, i) => ({ meta, windowStartMs: index * 86_400_000 + i * 600_000 })), scores };
}

describe('operating point on validation nights', () => {
  it('a threshold above every score when even the highest-scoring night is a false alert too many', () => {
    const { examples, scores } = [night('S-1', false, [0.9]), night('S-2', true, [0.8]), night('S-3', true, [0.7])].reduce(
      (a, b) => ({ examples: [...a.examples, ...b.examples], scores: [...a.scores, ...b.scores] }),
    );
    const outcomes = nights(examples, scores, (s) => persistenceScore(s, { k: 1, n: 1 }));
    const t = chooseThreshold(outcomes, 0);
    expect(t).toBeGreaterThan(0.9);
    expect(nightReport(outcomes, t).falseAlertsPer100Nights).toBe(0);
    // With one false night in 1 allowed (100 per 100), the lowest leak night's score.
    expect(chooseThreshold(outcomes, 100)).toBeCloseTo(0.7);
  });

  it('never a threshold above 1, which no model file may hold, even when a no-leak night scores a saturated 1.0', () => {
    const { examples, scores } = [night('S-1', false, [1]), night('S-2', true, [0.8])].reduce(
      (a, b) => ({ examples: [...a.examples, ...b.examples], scores: [...a.scores, ...b.scores] }),
    );
    const outcomes = nights(examples, scores, (s) => persistenceScore(s, { k: 1, n: 1 }));
    expect(chooseThreshold(outcomes, 0)).toBe(1);
  });

  it("a recording's verdict counts its windows from CONTEXT_SETTLED_MS on, or all of a clip too short for that", () => {
    // Two clips of 1 s windows, interleaved: 30 s (15 from the settling point on) and 18 s (3: fewer than N = 8).
    const clip = (sensorId: string, seconds: number) =>
      Array.from({ length: seconds }, (_, s) => ({ meta: { sensorId } as FrameMeta, windowStartMs: 1_000_000 + s * 1000 }) as Example);
    const long = clip('L', 30);
    const short = clip('S', 18);
    const examples = [...long.slice(0, 10), ...short, ...long.slice(10)];
    const scores = examples.map((e, i) => i + (e.meta.sensorId === 'L' ? 0 : 0.5));
    const v = verdictSubset(examples, scores, 8);
    const kept = (id: string) => v.examples.filter((e) => e.meta.sensorId === id).map((e) => (e.windowStartMs - 1_000_000) / 1000);
    expect(CONTEXT_SETTLED_MS).toBe(15_000);
    expect(kept('L')).toEqual(Array.from({ length: 15 }, (_, s) => 15 + s));
    expect(kept('S')).toEqual(Array.from({ length: 18 }, (_, s) => s));
    // Scores stay with their windows.
    v.examples.forEach((e, k) => expect(v.scores[k]).toBe(scores[examples.indexOf(e)]));
  });

  it('a recording threshold from settled windows of recordings at sites without thresholds of their own', () => {
    // 30 s clips, one window a second: a no-leak clip whose first seconds score high (its context unsettled),
    // a leak clip steady at 0.7, and a clip next to a PRV scoring 0.9 throughout.
    const clip = (sensorId: string, leak: boolean, score: (s: number) => number, environment = 'quiet_residential') => {
      const c = night(sensorId, leak, Array.from({ length: 30 }, (_, s) => score(s)), 0, environment);
      return { examples: c.examples.map((e, s) => ({ ...e, windowStartMs: s * 1000 })), scores: c.scores };
    };
    const { examples, scores } = [
      clip('Q', false, (s) => (s < 10 ? 0.95 : 0.2)),
      clip('L', true, () => 0.7),
      clip('P', false, () => 0.9, 'near_prv'),
    ].reduce((a, b) => ({ examples: [...a.examples, ...b.examples], scores: [...a.scores, ...b.scores] }));
    const chosen = chooseRecordingThreshold(examples, scores, { k: 6, n: 8 }, 0, { sites: ['near_prv'] });
    expect(chosen).toEqual({ threshold: expect.closeTo(0.7), chosenOn: 1 });
    // With the PRV clip counted, no threshold under 0.9 keeps it quiet.
    expect(chooseRecordingThreshold(examples, scores, { k: 6, n: 8 }, 0).threshold).toBeGreaterThan(0.9);
  });

  it('K of N: the rule with the highest recall within the false-alert limit', () => {
    // A truck lifts one window of a quiet night; the leak is steady but quieter.
    const { examples, scores } = [night('S-1', false, [0.95, 0.1, 0.1, 0.1]), night('S-2', true, [0.8, 0.8, 0.8, 0.8])].reduce(
      (a, b) => ({ examples: [...a.examples, ...b.examples], scores: [...a.scores, ...b.scores] }),
    );
    const { chosen, tried } = chooseOperatingPoint(examples, scores, [{ k: 1, n: 1 }, { k: 3, n: 4 }], 0);
    expect(tried.map((o) => o.recall)).toEqual([0, 1]);
    expect(chosen.persistence).toEqual({ k: 3, n: 4 });
    expect(chosen.thresholds).toEqual({ default: expect.closeTo(0.8), bySite: {}, byMaterial: {} });
    expect(chosen.falsePer100).toBe(0);
    // Equal recall: the shorter rule, which raises a leak that starts mid-night sooner.
    const tie = chooseOperatingPoint(examples, scores, [{ k: 4, n: 4 }, { k: 3, n: 4 }, { k: 2, n: 3 }], 0);
    expect(tie.tried.map((o) => o.recall)).toEqual([1, 1, 1]);
    expect(tie.chosen.persistence).toEqual({ k: 2, n: 3 });
  });

  it('a separate site gets its own threshold, chosen on its own nights and never below the default', () => {
    // A PRV hisses at 0.9 every night: with one threshold for all, it would set it above both leaks.
    const parts = [
      night('S-1', false, [0.9], 0, 'near_prv'), night('S-2', true, [0.95], 0, 'near_prv'),
      night('S-3', false, [0.3], 0), night('S-4', true, [0.6], 0), night('S-5', false, [0.5], 0, 'tram_line'),
    ];
    const { examples, scores } = parts.reduce((a, b) => ({ examples: [...a.examples, ...b.examples], scores: [...a.scores, ...b.scores] }));
    const one = chooseOperatingPoint(examples, scores, [{ k: 1, n: 1 }], 0).chosen;
    expect(one.thresholds.default).toBeCloseTo(0.95);
    expect(one.recall).toBe(0.5);
    const split = chooseOperatingPoint(examples, scores, [{ k: 1, n: 1 }], 0, { sites: ['near_prv'] }).chosen;
    expect(split.thresholds).toEqual({ default: expect.closeTo(0.6), bySite: { near_prv: expect.closeTo(0.95) }, byMaterial: {} });
    expect(split.chosenOn).toEqual({ default: 2, near_prv: 1 });
    expect(split.recall).toBe(1);
    expect(split.falsePer100).toBe(0);
    const report = nightReport(split.nights, split.thresholds);
    expect(report.falseAlertsPer100ByEnvironment).toEqual({ 'near_prv (n=1)': 0, 'quiet_residential (n=1)': 0, 'tram_line (n=1)': 0 });
    // A site whose own nights allow a lower threshold still gets the default: the default was promised to every site.
    const pump = [night('S-6', true, [0.55], 0, 'near_pump'), night('S-7', false, [0.2], 0, 'near_pump')];
    const more = pump.reduce((a, b) => ({ examples: [...a.examples, ...b.examples], scores: [...a.scores, ...b.scores] }), { examples, scores });
    const lenient = chooseOperatingPoint(more.examples, more.scores, [{ k: 1, n: 1 }], 0, { sites: ['near_pump'] }).chosen;
    expect(lenient.thresholds.bySite.near_pump).toBe(lenient.thresholds.default);
    // A separate material may go below the default: a plastic main's quieter leak is why it is separate.
    const steel = [night('S-8', true, [0.8], 0, 'quiet_residential', 'steel'), night('S-9', false, [0.7], 0, 'quiet_residential', 'steel')];
    const mixed = steel.reduce((a, b) => ({ examples: [...a.examples, ...b.examples], scores: [...a.scores, ...b.scores] }), { examples, scores });
    const byMaterial = chooseOperatingPoint(mixed.examples, mixed.scores, [{ k: 1, n: 1 }], 0, { sites: ['near_prv'], materials: ['pvc'] }).chosen;
    // pvc (S-3 0.3, S-4 0.6, S-5 0.5 off the PRV site) gets 0.6, under the default that steel alone sets (0.8); the PRV stays at 0.95.
    expect(byMaterial.thresholds).toEqual({ default: expect.closeTo(0.8), bySite: { near_prv: expect.closeTo(0.95) }, byMaterial: { pvc: expect.closeTo(0.6) } });
    expect(byMaterial.chosenOn).toEqual({ default: 1, near_prv: 1, pvc: 2 });
    expect(byMaterial.recall).toBe(1);
    // A site with no no-leak nights to choose on is refused, not given the lowest threshold.
    expect(() => chooseOperatingPoint(examples, scores, [{ k: 1, n: 1 }], 0, { sites: ['near_pump'] })).toThrow(/no validation no-leak nights of near_pump sensors/);
  });
});

describe('a leak that begins inside the recorded nights', () => {
  it('makes the night it begins in a leak night, whichever window comes first', () => {
    const before = night('S-1', false, [0.1, 0.2], 0);
    const after = night('S-1', true, [0.9, 0.9], 0);
    // The same night: two windows before the onset, two after.
    const examples = [...before.examples, ...after.examples.map((e, i) => ({ ...e, windowStartMs: (2 + i) * 600_000 }))];
    const outcomes = nights(examples, [...before.scores, ...after.scores], (s) => persistenceScore(s, { k: 2, n: 2 }));
    expect(outcomes.map((o) => [o.kind, o.score])).toEqual([['leak', 0.9]]);
  });
});

describe('leaks that begin while a sensor listens, apart from those there from its first night', () => {
  it('finds the sensors with night frames before and after their leak, and judges each kind against every no-leak night', () => {
    // S-1's leak begins on its second night; S-2's is there from the first; S-3 has none; S-4's leak is only
    // in a daytime frame before its nights, so it is not an onset sensor either.
    const day = { ...night('S-4', false, [0.1], 0), examples: night('S-4', false, [0.1], 0).examples.map((e) => ({ ...e, meta: { ...e.meta, daytime: true } })) };
    const parts = [
      night('S-1', false, [0.1], 0), night('S-1', true, [0.9], 1),
      night('S-2', true, [0.2], 0), night('S-2', true, [0.3], 1),
      night('S-3', false, [0.6], 0), night('S-3', false, [0.1], 1),
      day, night('S-4', true, [0.9], 1),
    ];
    const { examples, scores } = parts.reduce((a, b) => ({ examples: [...a.examples, ...b.examples], scores: [...a.scores, ...b.scores] }));
    const onset = onsetSensors(examples);
    expect([...onset]).toEqual(['S-1']);
    const outcomes = nights(examples, scores, (s) => persistenceScore(s, { k: 1, n: 1 }));
    const began = nightReport(withLeaksOf(outcomes, onset, true), 0.5);
    const there = nightReport(withLeaksOf(outcomes, onset, false), 0.5);
    expect([began.leakNights, began.recall, began.noLeakNights]).toEqual([1, 1, 3]);
    expect([there.leakNights, there.recall, there.noLeakNights]).toEqual([3, 1 / 3, 3]);
    expect(began.falseAlertsPer100Nights).toBeCloseTo(100 / 3);
  });
});

describe('how soon a leak is found', () => {
  it('counts each leak sensor by the first of its nights that alerted, in night order', () => {
    // S-1 alerts on its first night, S-2 only on its third, S-3 never; S-4 has no leak (and alerts: not counted here).
    const parts = [
      night('S-1', true, [0.9], 0), night('S-1', true, [0.2], 1), night('S-1', true, [0.9], 2),
      night('S-2', true, [0.9], 2), night('S-2', true, [0.1], 0), night('S-2', true, [0.3], 1),
      night('S-3', true, [0.1], 0), night('S-3', true, [0.1], 1), night('S-3', true, [0.1], 2),
      night('S-4', false, [0.95], 0),
    ];
    const { examples, scores } = parts.reduce((a, b) => ({ examples: [...a.examples, ...b.examples], scores: [...a.scores, ...b.scores] }));
    const report = nightReport(nights(examples, scores, (s) => persistenceScore(s, { k: 1, n: 1 })), 0.5);
    expect(report.leakSensors).toBe(3);
    expect(report.alertedByNight.map((x) => x.toFixed(3))).toEqual(['0.333', '0.333', '0.667']);
  });
});

describe('night recall by SNR and by site', () => {
  it('groups leak nights by their sensor\'s quiet-night SNR band, in band order, and by site', () => {
    const withSnr = (part: { examples: Example[]; scores: number[] }, sensorSnrDb: number | undefined) => ({
      examples: part.examples.map((e) => ({ ...e, meta: { ...e.meta, sensorSnrDb } as FrameMeta })),
      scores: part.scores,
    });
    const parts = [
      withSnr(night('S-1', true, [0.9], 0), 25), withSnr(night('S-2', true, [0.2], 0), 12),
      withSnr(night('S-3', true, [0.9], 0, 'near_prv'), 4), withSnr(night('S-4', true, [0.1], 0, 'near_prv'), 4.5),
      withSnr(night('S-5', true, [0.9], 0), undefined), withSnr(night('S-6', false, [0.9], 0), undefined),
    ];
    const { examples, scores } = parts.reduce((a, b) => ({ examples: [...a.examples, ...b.examples], scores: [...a.scores, ...b.scores] }));
    const report = nightReport(nights(examples, scores, (s) => persistenceScore(s, { k: 1, n: 1 })), 0.5);
    expect(Object.entries(report.recallBySensorSnr)).toEqual([['unknown (n=1)', 1], ['3–6 dB (n=2)', 0.5], ['10–20 dB (n=1)', 0], ['20– dB (n=1)', 1]]);
    expect(report.recallByEnvironment).toEqual({ 'near_prv (n=2)': 0.5, 'quiet_residential (n=3)': 2 / 3 });
  });
});

describe('window report by SNR and by surroundings', () => {
  const window = (leak: boolean, snrDb: number | null, environment: string): Example => ({
    meta: { leak, audible: leak ? true : null, snrDb, environment, material: 'steel', daytime: false, leakSizeLps: leak ? 0.5 : null, sampleRateHz: 8000 } as unknown as FrameMeta,
    windowStartMs: 0,
  });
  it('ranks each SNR band of leaks against every no-leak window, and all leaks against each environment', () => {
    // Loud leaks score above everything; quiet ones below the PRV's hiss but above the quiet street.
    const examples = [window(true, 25, 'quiet_residential'), window(true, 1, 'quiet_residential'), window(false, null, 'quiet_residential'), window(false, null, 'near_prv')];
    const r = windowReport(examples, [0.9, 0.4, 0.1, 0.6], 0.5);
    expect(r.aucBySnr['20– dB (n=1)']).toBe(1);
    expect(r.aucBySnr['0–3 dB (n=1)']).toBe(0.5);
    expect(Number.isNaN(r.aucBySnr['3–6 dB (n=0)'])).toBe(true);
    expect(r.aucByNoLeakEnvironment['quiet_residential (n=1)']).toBe(1);
    expect(r.aucByNoLeakEnvironment['near_prv (n=1)']).toBe(0.5);
  });
});

describe('window report by device', () => {
  const window = (leak: boolean, sensorType: string, sampleRateHz: number): Example => ({
    meta: { leak, audible: leak ? true : null, snrDb: leak ? 5 : null, sensorType, sampleRateHz, environment: 'quiet_residential', material: 'pvc', daytime: false, leakSizeLps: leak ? 0.5 : null } as unknown as FrameMeta,
    windowStartMs: 0,
  });
  it('ranks leaks against no-leak windows of the same sensor type and of the same sample rate', () => {
    // Accelerometers are heard (leak above), hydrophones are not (leak below); 4 kHz mixes both.
    const examples = [window(true, 'accelerometer', 4000), window(false, 'accelerometer', 8000), window(true, 'hydrophone', 8000), window(false, 'hydrophone', 4000)];
    const r = windowReport(examples, [0.9, 0.2, 0.3, 0.7], 0.5);
    expect(r.aucBySensorType).toEqual({ 'accelerometer (n=2)': 1, 'hydrophone (n=2)': 0 });
    expect(r.aucBySampleRate).toEqual({ '4000 Hz (n=2)': 1, '8000 Hz (n=2)': 1 });
    expect(r.aucByMaterialAndType).toEqual({ 'pvc, accelerometer (n=2)': 1, 'pvc, hydrophone (n=2)': 0 });
  });
});
