import { countsAsLeak } from '../model/operating-point.ts';
import type { LeakAlertConfig } from './leak-alert-config.ts';
import { parseLevelBaseline, type LevelBaseline } from './level-baseline.ts';

/**
 * The raise/clear decision for one sensor, window by window, as plain
 * functions over a small history: the history is what the engine persists
 * (with the alert changes it justifies), so a restarted engine decides
 * exactly as an engine that never stopped.
 */
export interface WindowHistory {
  /** The last `n` windows taken, oldest first: [window end ms, score]. */
  readonly recent: readonly (readonly [number, number])[];
  /** Windows in a row below `clearThreshold` since the alert was raised. */
  readonly quiet: number;
  /** The condition holds: raised, not yet cleared. */
  readonly active: boolean;
  /** Start of the newest window taken; a window not after it is late and skipped. */
  readonly lastWindowStartMs: number | null;
  /** The sensor's band levels, for the night verdict (level-baseline.ts); absent until a score brings levels. */
  readonly levels?: LevelBaseline | undefined;
}

export const EMPTY_HISTORY: WindowHistory = { recent: [], quiet: 0, active: false, lastWindowStartMs: null };

/**
 * A second way to raise: given the last windows (as `recent`), whether they
 * raise, or undefined to leave it to K of N (level-baseline.ts levelVerdictOn).
 */
export type RaiseVerdict = (
  recent: readonly (readonly [number, number])[],
) => { readonly raise: boolean; readonly probability: number; readonly riseDb: number | undefined; readonly confirmedBy?: number | undefined } | undefined;

export interface ScoredWindow {
  readonly windowStartMs: number;
  readonly windowEndMs: number;
  readonly score: number;
}

export type WindowDecision =
  /** Nothing to tell the store. */
  | { readonly op: 'none' }
  /** The window is not after the newest one taken (late, or a second model's score of it): ignored. */
  | { readonly op: 'late' }
  /**
   * K of the last N windows are above threshold, or the night verdict says
   * so (`verdict`): raise (or re-raise a cleared alert).
   */
  | {
      readonly op: 'raise';
      readonly score: number;
      readonly windowsAbove: number;
      readonly firstAboveAtMs: number;
      readonly verdict?: { readonly probability: number; readonly riseDb: number | undefined; readonly confirmedBy?: number | undefined } | undefined;
    }
  /** Still above threshold while raised: refresh lastSeenAt / peak. */
  | { readonly op: 'refresh'; readonly score: number }
  /** M windows in a row below clearThreshold while raised. */
  | { readonly op: 'clear'; readonly quietWindows: number };

export function isAbove(score: number, config: LeakAlertConfig): boolean {
  return countsAsLeak(score, config.threshold);
}

export function isQuiet(score: number, config: LeakAlertConfig): boolean {
  return score < config.clearThreshold;
}

export function isLate(history: WindowHistory, window: Pick<ScoredWindow, 'windowStartMs'>): boolean {
  return history.lastWindowStartMs !== null && window.windowStartMs <= history.lastWindowStartMs;
}

/**
 * Takes one window into the history and says what it changes. With
 * `verdict`, a sensor not raised is raised when the verdict says so, where
 * it can give one; K of N otherwise. Clearing is K of N's hysteresis either way.
 */
export function observeWindow(history: WindowHistory, window: ScoredWindow, config: LeakAlertConfig, verdict?: RaiseVerdict): { history: WindowHistory; decision: WindowDecision } {
  if (isLate(history, window)) return { history, decision: { op: 'late' } };
  const recent = [...history.recent, [window.windowEndMs, window.score] as const].slice(-config.n);
  const lastWindowStartMs = window.windowStartMs;
  // Whatever else the history holds (the levels) goes on as it was.
  const next = (change: Pick<WindowHistory, 'recent' | 'quiet' | 'active'>): WindowHistory => ({ ...history, ...change, lastWindowStartMs });
  // Heard on every window, raised or not: the verdict keeps its night's peak for the next night to confirm with.
  const judged = verdict?.(recent);
  if (!history.active) {
    const above = recent.filter(([, s]) => isAbove(s, config));
    if (!(judged ? judged.raise : above.length >= config.k)) return { history: next({ recent, quiet: 0, active: false }), decision: { op: 'none' } };
    const counted = above.length > 0 ? above : recent;
    return {
      history: next({ recent, quiet: 0, active: true }),
      decision: {
        op: 'raise',
        score: Math.max(...counted.map(([, s]) => s)),
        windowsAbove: above.length,
        firstAboveAtMs: counted[0]![0],
        ...(judged && { verdict: { probability: judged.probability, riseDb: judged.riseDb, ...(judged.confirmedBy !== undefined && { confirmedBy: judged.confirmedBy }) } }),
      },
    };
  }
  const quiet = isQuiet(window.score, config) ? history.quiet + 1 : 0;
  if (quiet >= config.m) {
    // A cleared sensor starts afresh: raising again takes K new windows above,
    // not the tail of the ones that raised it the first time.
    return { history: next({ recent: [], quiet: 0, active: false }), decision: { op: 'clear', quietWindows: quiet } };
  }
  return { history: next({ recent, quiet, active: true }), decision: isAbove(window.score, config) ? { op: 'refresh', score: window.score } : { op: 'none' } };
}

/** Reads a persisted history back; undefined if it is not one (then the sensor starts afresh). */
export function parseWindowHistory(value: unknown): WindowHistory | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const recentOk =
    Array.isArray(v.recent) && v.recent.every((p) => Array.isArray(p) && p.length === 2 && typeof p[0] === 'number' && typeof p[1] === 'number');
  if (!recentOk || typeof v.quiet !== 'number' || typeof v.active !== 'boolean') return undefined;
  if (v.lastWindowStartMs !== null && typeof v.lastWindowStartMs !== 'number') return undefined;
  // Unreadable levels start afresh; the K-of-N history is still good.
  const levels = v.levels === undefined ? undefined : parseLevelBaseline(v.levels);
  return { recent: v.recent as [number, number][], quiet: v.quiet, active: v.active, lastWindowStartMs: v.lastWindowStartMs, ...(levels && { levels }) };
}
