import { describe, expect, it } from 'vitest';
import { EMPTY_HISTORY, observeWindow, parseWindowHistory, type WindowHistory } from './k-of-n.ts';
import { DEFAULT_LEAK_ALERT_CONFIG, leakAlertConfig, type LeakAlertConfig } from './leak-alert-config.ts';

const MIN = 60_000;

/** The decisions other than 'none' for a series of window scores, as "op@index". */
function decide(scores: readonly number[], config: LeakAlertConfig = DEFAULT_LEAK_ALERT_CONFIG): string[] {
  let history: WindowHistory = EMPTY_HISTORY;
  const out: string[] = [];
  scores.forEach((score, i) => {
    const step = observeWindow(history, { windowStartMs: i * 10 * MIN, windowEndMs: i * 10 * MIN + MIN, score }, config);
    history = step.history;
    if (step.decision.op !== 'none') out.push(`${step.decision.op}@${i}`);
  });
  return out;
}

const times = (n: number, score: number): number[] => Array<number>(n).fill(score);
const alternate = (n: number, a: number, b: number): number[] => Array.from({ length: n }, (_, i) => (i % 2 === 0 ? a : b));

describe('K-of-N raise, hysteresis clear (defaults: above 0.7 in 3 of 5, below 0.4 for 6)', () => {
  it.each([
    ['quiet sensor', times(20, 0.1), []],
    ['a persistent leak raises exactly once, then refreshes', times(6, 0.9), ['raise@2', 'refresh@3', 'refresh@4', 'refresh@5']],
    ['two windows above (a passing truck) do not raise', [0.1, 0.95, 0.95, 0.1, 0.1, 0.1, 0.1], []],
    ['two spikes too far apart do not raise', [0.9, 0.9, 0.1, 0.1, 0.1, 0.1, 0.1, 0.9, 0.1], []],
    ['a score equal to the threshold counts (the trainer\'s rule)', times(4, 0.7), ['raise@2', 'refresh@3']],
    ['a score just under the threshold does not', times(10, 0.6999), []],
    ['3 of 5 with gaps raises on the third', [0.9, 0.2, 0.9, 0.2, 0.9], ['raise@4']],
    ['recovery clears once after 6 quiet windows', [...times(3, 0.9), ...times(10, 0.1)], ['raise@2', 'clear@8']],
    ['hovering in the band between the thresholds never clears', [...times(3, 0.9), ...times(30, 0.55)], ['raise@2']],
    ['after a clear, raising again takes K new windows', [...times(3, 0.9), ...times(6, 0.1), 0.9, 0.9, 0.9], ['raise@2', 'clear@8', 'raise@11']],
  ])('%s', (_name, scores, expected) => {
    expect(decide(scores)).toEqual(expected);
  });

  it('a flapping score never produces a second raise', () => {
    // Above / below on alternate windows: raises once, the quiet run never reaches M.
    const ops = decide(alternate(40, 0.95, 0.05));
    expect(ops.filter((o) => o.startsWith('raise'))).toEqual(['raise@4']);
    expect(ops.filter((o) => o.startsWith('clear'))).toEqual([]);
    // Above / the band: the same.
    expect(decide(alternate(40, 0.95, 0.5)).filter((o) => !o.startsWith('refresh'))).toEqual(['raise@4']);
  });

  it('raises and clears alternate on any series (seeded random walk)', () => {
    let seed = 12345;
    const rand = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    let level = 0.5;
    const scores = Array.from({ length: 5000 }, () => (level = Math.min(1, Math.max(0, level + (rand() - 0.5) * 0.3))));
    const transitions = decide(scores).filter((o) => !o.startsWith('refresh')).map((o) => o.split('@')[0]);
    expect(transitions.length).toBeGreaterThan(4);
    transitions.forEach((op, i) => expect(op).toBe(i % 2 === 0 ? 'raise' : 'clear'));
  });

  it('reports the raise with its peak, windows above and first window above', () => {
    let h = EMPTY_HISTORY;
    const steps = [0.8, 0.2, 0.95, 0.75].map((score, i) => {
      const step = observeWindow(h, { windowStartMs: i * MIN, windowEndMs: (i + 1) * MIN, score }, DEFAULT_LEAK_ALERT_CONFIG);
      h = step.history;
      return step.decision;
    });
    expect(steps[3]).toEqual({ op: 'raise', score: 0.95, windowsAbove: 3, firstAboveAtMs: MIN });
  });

  it('skips a window not after the newest taken', () => {
    const first = observeWindow(EMPTY_HISTORY, { windowStartMs: 10 * MIN, windowEndMs: 11 * MIN, score: 0.9 }, DEFAULT_LEAK_ALERT_CONFIG);
    const again = observeWindow(first.history, { windowStartMs: 10 * MIN, windowEndMs: 11 * MIN, score: 0.9 }, DEFAULT_LEAK_ALERT_CONFIG);
    const older = observeWindow(first.history, { windowStartMs: 5 * MIN, windowEndMs: 6 * MIN, score: 0.9 }, DEFAULT_LEAK_ALERT_CONFIG);
    expect([again.decision, older.decision]).toEqual([{ op: 'late' }, { op: 'late' }]);
    expect(again.history).toBe(first.history);
  });

  it('honours other K, N, M', () => {
    const config = leakAlertConfig({ k: 1, n: 1, m: 1 });
    expect(decide([0.9, 0.1, 0.9, 0.5, 0.1], config)).toEqual(['raise@0', 'clear@1', 'raise@2', 'clear@4']);
  });

  it('reads back what it persists, and nothing else', () => {
    const h = observeWindow(EMPTY_HISTORY, { windowStartMs: 0, windowEndMs: MIN, score: 0.9 }, DEFAULT_LEAK_ALERT_CONFIG).history;
    expect(parseWindowHistory(JSON.parse(JSON.stringify(h)))).toEqual(h);
    expect(parseWindowHistory({ recent: [[1]], quiet: 0, active: false, lastWindowStartMs: null })).toBeUndefined();
    expect(parseWindowHistory('x')).toBeUndefined();
  });

  it('refuses a configuration that cannot work, naming each field', () => {
    expect(() => leakAlertConfig({ k: 6, clearThreshold: 0.9 })).toThrow(/clearThreshold 0.9 must be[\s\S]*k 6 must be an integer from 1 to n \(5\)/);
    expect(() => leakAlertConfig({ threshold: 1.5 })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});
