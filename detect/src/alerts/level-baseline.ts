import { BAND_COUNT } from '../model/feature-spec.ts';
import { fromDb, judgesFirstNights, levelRise, verdictInputs, verdictProbability, verdictRaises, type LevelVerdict } from '../model/level-history.ts';

/**
 * What the leak alert engine keeps of a sensor's band levels (the scores'
 * bandLevelsDb) for the night verdict (model/level-history.ts): the levels
 * of its last N windows, the median of each earlier night, and the current
 * night's windows until it ends. Persisted with the window history, so a
 * restarted engine judges as one that never stopped.
 *
 * A night's levels are its windows that start in the listening hours
 * (LISTENING_HOURS_JST), as training's nights were: the model and its
 * verdict were fitted on loggers' 02:00–04:00 frames, and a streaming
 * sensor's day (6–12 dB louder with traffic and flow) would otherwise set
 * the baseline a quiet night is judged against.
 */
export interface LevelBaseline {
  /** Band levels (dB) of the last windows taken, oldest first, null where a score had none; at most N. */
  readonly recent: readonly (readonly number[] | null)[];
  /** Per earlier night (night number), each band's median over its windows, oldest first; at most BASELINE_NIGHTS. */
  readonly nights: readonly { readonly night: number; readonly median: readonly number[] }[];
  /**
   * The current night's windows' levels, thinned evenly to at most
   * NIGHT_SAMPLES: one of every `stride` windows (`seen` counted so far).
   */
  readonly tonight: { readonly night: number; readonly levels: readonly (readonly number[])[]; readonly seen?: number; readonly stride?: number } | null;
  /**
   * The highest verdict probability of the sensor's last nights (at most
   * two: this one and the one before), for a verdict that a night can
   * confirm (LevelVerdict.confirmedThreshold). Absent in histories written
   * before it: no night before to confirm with.
   */
  readonly peaks?: readonly { readonly night: number; readonly probability: number }[] | undefined;
}

export const EMPTY_LEVELS: LevelBaseline = { recent: [], nights: [], tonight: null };
/** Earlier nights kept: a main's background drifts with the season (BASELINE_SPAN_MS). */
export const BASELINE_NIGHTS = 8;
/** A night's median from at most this many of its windows (a logger sends ~12; a streaming sensor thousands). */
export const NIGHT_SAMPLES = 16;
const HOUR_MS = 3_600_000;
const NOON_JST_UTC_MS = 3 * HOUR_MS;
const JST_OFFSET_MS = 9 * HOUR_MS;
const DAY_MS = 86_400_000;
/** [from, to) hours, Japan time, of the windows a night is judged by: when loggers listen (DOMAIN.md), the minimum-night-noise hours. */
export const LISTENING_HOURS_JST = [2, 4] as const;

/** Nights run from noon to noon Japan time: a night's listening hours fall in one. */
export function nightOf(ms: number): number {
  return Math.floor((ms - NOON_JST_UTC_MS) / DAY_MS);
}

/** [from, to) of a night's listening hours, ms (the night as nightOf numbers it). */
export function listeningWindow(night: number): [number, number] {
  const midnightJst = night * DAY_MS + NOON_JST_UTC_MS + 12 * HOUR_MS;
  return [midnightJst + LISTENING_HOURS_JST[0] * HOUR_MS, midnightJst + LISTENING_HOURS_JST[1] * HOUR_MS];
}

/** The Japan date a night's listening hours fall on, YYYY-MM-DD. */
export function listeningDate(night: number): string {
  return new Date(listeningWindow(night)[0] + JST_OFFSET_MS).toISOString().slice(0, 10);
}

/** Whether a window starting at `ms` is in the listening hours. */
export function inListeningHours(ms: number): boolean {
  const hour = (((ms + JST_OFFSET_MS) % DAY_MS) + DAY_MS) % DAY_MS / HOUR_MS;
  return hour >= LISTENING_HOURS_JST[0] && hour < LISTENING_HOURS_JST[1];
}

/** Levels kept to 0.01 dB: far finer than any sensor's calibration, and a small history to persist. */
const rounded = (levels: readonly number[]) => levels.map((v) => Math.round(v * 100) / 100);

/** Takes a window's levels (undefined: its score had none) into the baseline. */
export function observeLevels(state: LevelBaseline, windowStartMs: number, levelsDb: readonly number[] | undefined, n: number): LevelBaseline {
  const recent = [...state.recent, levelsDb ? rounded(levelsDb) : null].slice(-n);
  if (!levelsDb || !inListeningHours(windowStartMs)) return { ...state, recent };
  const night = nightOf(windowStartMs);
  let { nights, tonight } = state;
  if (tonight && tonight.night !== night) {
    // The night ended: its median joins the earlier nights.
    nights = [...nights, { night: tonight.night, median: bandMedians(tonight.levels) }].slice(-BASELINE_NIGHTS);
    tonight = null;
  }
  let levels = tonight?.levels ?? [];
  const seen = tonight?.seen ?? levels.length;
  let stride = tonight?.stride ?? 1;
  if (seen % stride === 0) levels = [...levels, rounded(levelsDb)];
  // A night that brings more than NIGHT_SAMPLES windows keeps every other one, and from then on one in twice as many:
  // the night's first and last hours weigh the same.
  if (levels.length > NIGHT_SAMPLES) {
    levels = levels.filter((_, i) => i % 2 === 0);
    stride *= 2;
  }
  return { ...state, recent, nights, tonight: { night, levels, seen: seen + 1, stride } };
}

/** Each band's lower median over rows already rounded (observeLevels), so the medians are too. */
function bandMedians(rows: readonly (readonly number[])[]): number[] {
  const bands = rows[0]?.length ?? 0;
  return Array.from({ length: bands }, (_, b) => rows.map((r) => r[b]!).sort((x, y) => x - y)[(rows.length - 1) >> 1]!);
}

/**
 * The night verdict on the newest window's night, as training judged a
 * night (training/level-verdict.ts): its windows among the last ones taken
 * (at least K of them, each with levels) against the sensor's nights before
 * it, within BASELINE_NIGHTS (a verdict that judges first nights: none
 * needed); undefined where it cannot be given (then K
 * of N decides). `recent` are the windows' [end ms, score], as the K-of-N
 * rule keeps them (the same windows as `state.recent`'s last ones), each
 * `windowMs` long.
 */
export function levelVerdictOn(
  state: LevelBaseline,
  recent: readonly (readonly [number, number])[],
  windowMs: number,
  rule: { readonly k: number; readonly threshold: number; readonly site: string | undefined; readonly material: string | undefined },
  verdict: LevelVerdict,
): { probability: number; raise: boolean; riseDb: number | undefined; night: number; confirmedBy?: number | undefined } | undefined {
  if (recent.length === 0) return undefined;
  const newestStart = recent[recent.length - 1]![0] - windowMs;
  // Outside the listening hours K of N decides: the verdict was fitted on night windows only.
  if (!inListeningHours(newestStart)) return undefined;
  const night = nightOf(newestStart);
  const levels = state.recent.slice(-recent.length);
  if (levels.length < recent.length) return undefined;
  const tonight = recent.flatMap(([end, score], i) => (nightOf(end - windowMs) === night && inListeningHours(end - windowMs) ? [{ score, levels: levels[i]! }] : []));
  if (tonight.length < rule.k || tonight.some((w) => w.levels === null)) return undefined;
  const earlier = state.nights.filter((x) => x.night < night && x.night >= night - BASELINE_NIGHTS);
  const toRows = (rows: readonly (readonly number[])[]) => rows.map((r) => Float32Array.from(r, fromDb));
  // None on a sensor's first night on record: then the K-of-N rule's, unless the verdict was fitted to judge first nights too.
  const rise = levelRise(toRows(tonight.map((w) => w.levels!)), toRows(earlier.map((x) => x.median)));
  if (!rise && !judgesFirstNights(verdict)) return undefined;
  // The K-of-N night score: the k-th highest of the night's window scores.
  const nightScore = tonight.map((w) => w.score).sort((a, b) => b - a)[rule.k - 1]!;
  const probability = verdictProbability(verdict, verdictInputs(nightScore, rule.threshold, rule.site, rule.material, rise, verdict.sites, verdict.inputs));
  const before = state.peaks?.find((p) => p.night === night - 1)?.probability;
  const raise = verdictRaises(verdict, probability, before);
  // The band that rose most: the rise's level plus its shape's largest.
  const riseDb = rise ? rise[0]! + rise[1 + BAND_COUNT]! : undefined;
  return { probability, raise, riseDb, night, ...(raise && probability < verdict.threshold && { confirmedBy: before }) };
}

/** Keeps a verdict's probability as its night's peak if it is the highest yet (the two newest nights are kept). */
export function notePeak(state: LevelBaseline, night: number, probability: number): LevelBaseline {
  const peaks = state.peaks ?? [];
  const last = peaks[peaks.length - 1];
  if (last?.night === night) return probability > last.probability ? { ...state, peaks: [...peaks.slice(0, -1), { night, probability }] } : state;
  return { ...state, peaks: [...peaks, { night, probability }].slice(-2) };
}

/** Reads persisted levels back; undefined if they are not whole (then the sensor's levels start afresh). */
export function parseLevelBaseline(value: unknown): LevelBaseline | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const isLevels = (x: unknown) => Array.isArray(x) && x.every((n) => typeof n === 'number' && Number.isFinite(n));
  if (!Array.isArray(v.recent) || !v.recent.every((r) => r === null || isLevels(r))) return undefined;
  if (!Array.isArray(v.nights) || !v.nights.every((x) => typeof x === 'object' && x !== null && Number.isInteger((x as { night: unknown }).night) && isLevels((x as { median: unknown }).median))) return undefined;
  const t = v.tonight as { night?: unknown; levels?: unknown; seen?: unknown; stride?: unknown } | null;
  if (t !== null && (typeof t !== 'object' || !Number.isInteger(t.night) || !Array.isArray(t.levels) || !t.levels.every(isLevels))) return undefined;
  // `seen` and `stride` came later: a history without them goes on from its levels, unthinned.
  const counter = (x: unknown) => x === undefined || (Number.isInteger(x) && (x as number) >= 0);
  if (t !== null && (!counter(t.seen) || !counter(t.stride) || t.stride === 0)) return undefined;
  const isPeak = (x: unknown) => {
    const p = x as { night?: unknown; probability?: unknown } | null;
    return typeof p === 'object' && p !== null && Number.isInteger(p.night) && typeof p.probability === 'number' && p.probability >= 0 && p.probability <= 1;
  };
  if (v.peaks !== undefined && !(Array.isArray(v.peaks) && v.peaks.every(isPeak))) return undefined;
  return value as LevelBaseline;
}
