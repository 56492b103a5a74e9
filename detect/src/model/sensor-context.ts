import { FEATURE_COUNT, STD_FLOOR } from './feature-spec.ts';

/**
 * A context model scores a window together with the sensor's windows before
 * it: the graph computes the window's FEATURE_COUNT features, stacks them on
 * the features of the sensor's previous CONTEXT_ROWS windows (which the
 * caller keeps and passes in), and the dense heads see order statistics of
 * each feature over those CONTEXT_WINDOWS windows.
 *
 * Why: a leak is steady for days, a truck, a tram, a pump start or a spell of
 * water use lifts a few windows. One 1 s window gives the 20–60 Hz band of a
 * plastic main only a handful of independent frames; the median of a feature
 * over twelve windows (a night's frames, one per 10 minutes, DOMAIN.md) is
 * the noise logger's "minimum night noise" done per feature, and twelve
 * times the frames. On 1,400 training sensors (numpy probe on the reference
 * features) it lifted night ROC-AUC from 0.854 (one-window model, nights by
 * their mean score) to 0.899 and recall at 1 false alert / 100 nights from
 * ~0.16 to ~0.35.
 *
 * The aggregation is order-free (ranks and a deviation), so which row is the
 * current window does not matter.
 */
export const CONTEXT_WINDOWS = 12;
export const CONTEXT_ROWS = CONTEXT_WINDOWS - 1;
/** Per feature over the stack: lower median, 20th percentile, standard deviation. */
export const CONTEXT_GROUPS = ['median', 'p20', 'std'] as const;
export type ContextGroup = (typeof CONTEXT_GROUPS)[number];
/** Ranks (0-based, ascending) over the CONTEXT_WINDOWS rows. */
export const CONTEXT_MEDIAN_RANK = 5;
export const CONTEXT_P20_RANK = 2;
export const CONTEXT_FEATURE_COUNT = CONTEXT_GROUPS.length * FEATURE_COUNT;

/**
 * A window joins its sensor's history only if it starts at least this long
 * after the last window that joined. A logger's frames are minutes apart and
 * all join; a contiguous recording (a hand-held clip, a sensor that streams)
 * gives a window a second, and a truck or a tram lasts seconds, so eleven
 * neighbouring windows would hold one transient eleven times over where the
 * heads learnt a night of independent frames. Spaced, a 30 s clip's context
 * spans half a minute. Logger data sets hardly notice: in 2.3.0's training
 * sets 3 pairs of a sensor's frames (day frames at random times) lie closer,
 * in its test split none. Chosen with 2.3.0 on the validation recordings of two
 * hand-held probe sets from the simulator, 30 s clips (seed 8) and 60 s clips
 * (seed 11); recording ROC-AUC / window ROC-AUC for spacings 0, 2, 3, 5, 8 s:
 *   30 s: 0.789/0.781, 0.797/0.797, 0.795/0.803, 0.796/0.803, 0.775/0.796
 *   60 s: 0.803/0.808, 0.820/0.809, 0.832/0.832, 0.800/0.823, 0.779/0.801
 * Longer spacings leave a short clip too few windows of context.
 */
export const CONTEXT_SPACING_MS = 3000;

/**
 * A recording's verdict (score-wav, and the hand-held test in the model card)
 * counts only windows this far into it: their context holds 5 or more of the
 * recording's earlier windows. The operating point was chosen on loggers,
 * whose windows always have a full context; a clip's first seconds score
 * with one or two and are noisier. With 2.3.0, counting from 0 / 10 / 15 /
 * 20 s into the validation clips: 30 s clips, recording ROC-AUC 0.795 /
 * 0.812 / 0.823 / 0.829, recall 0.430 / 0.392 / 0.367 / 0.329, false alerts
 * per 100 clips 5.7 / 3.4 / 2.3 / 1.7; 60 s clips, ROC-AUC 0.832 / 0.840 /
 * 0.839 / 0.849. 20 s would leave a 30 s clip 10 windows for an 8-window rule.
 */
export const CONTEXT_SETTLED_MS = 5 * CONTEXT_SPACING_MS;

/**
 * Which of a recording's windows (their starts, in time order) its verdict
 * counts: those from CONTEXT_SETTLED_MS on, if there are at least `atLeast`
 * of them (the K of N rule's N); else all, and `settled` is false.
 */
export function verdictWindows(startsMs: readonly number[], atLeast: number): { indices: number[]; settled: boolean } {
  const from = startsMs[0] ?? 0;
  const late = startsMs.flatMap((t, i) => (t - from >= CONTEXT_SETTLED_MS ? [i] : []));
  return late.length >= atLeast ? { indices: late, settled: true } : { indices: startsMs.map((_, i) => i), settled: false };
}

/**
 * Whether a window starting at startMs is spaced from a window of the history
 * that started at neighbourMs (undefined: there is none). The distance either
 * way in time: a late frame joins between the windows beside it if it is
 * spaced from both (SensorHistories); in time order, the neighbour is the
 * last window that joined.
 */
export function joinsContext(neighbourMs: number | undefined, startMs: number, spacingMs = CONTEXT_SPACING_MS): boolean {
  return neighbourMs === undefined || Math.abs(startMs - neighbourMs) >= spacingMs;
}

/**
 * Which of a sensor's windows (their starts, in time order) a restart puts
 * back in its history: the newest, then each next older one spaced from the
 * last taken, up to `count` (indices ascending). A logger's frames are
 * minutes apart, so these are its last `count`; a streaming sensor's span
 * `count` spaced windows as its history did before the restart.
 */
export function spacedTail(startsMs: readonly number[], count: number, spacingMs = CONTEXT_SPACING_MS): number[] {
  const taken: number[] = [];
  for (let i = startsMs.length - 1; i >= 0 && taken.length < count; i--) {
    const later = taken[taken.length - 1];
    if (later === undefined || joinsContext(startsMs[later], startsMs[i]!, spacingMs)) taken.push(i);
  }
  return taken.reverse();
}

/**
 * The rows the graph gets beside the current window, from the sensor's
 * history (oldest first, any length): the last CONTEXT_ROWS windows; a
 * shorter history is repeated, newest first, to fill them, so the order
 * statistics weigh the windows there are about evenly. With no history at
 * all the rows are the current window's own features (a new sensor, or the
 * first window after the detector started without its history).
 */
export function contextRows(history: readonly Float32Array[], current: Float32Array): Float32Array[] {
  const have = history.slice(-CONTEXT_ROWS);
  if (have.length === 0) return Array.from({ length: CONTEXT_ROWS }, () => current);
  const rows: Float32Array[] = [];
  for (let i = 0; i < CONTEXT_ROWS; i++) rows.push(have[have.length - 1 - (i % have.length)]!);
  return rows;
}

/**
 * The context features of a stack of CONTEXT_WINDOWS feature rows, computed
 * as the graph computes them: per feature, CONTEXT_GROUPS in order, each
 * FEATURE_COUNT long.
 */
export function referenceContextFeatures(stack: readonly Float32Array[], out = new Float32Array(CONTEXT_FEATURE_COUNT)): Float32Array {
  if (stack.length !== CONTEXT_WINDOWS) throw new Error(`a context stack holds ${CONTEXT_WINDOWS} rows, got ${stack.length}`);
  const column = new Float64Array(CONTEXT_WINDOWS);
  for (let f = 0; f < FEATURE_COUNT; f++) {
    let mean = 0;
    for (let r = 0; r < CONTEXT_WINDOWS; r++) {
      column[r] = stack[r]![f]!;
      mean += column[r]!;
    }
    mean /= CONTEXT_WINDOWS;
    let variance = 0;
    for (let r = 0; r < CONTEXT_WINDOWS; r++) variance += (column[r]! - mean) ** 2;
    variance /= CONTEXT_WINDOWS;
    column.sort();
    out[f] = column[CONTEXT_MEDIAN_RANK]!;
    out[FEATURE_COUNT + f] = column[CONTEXT_P20_RANK]!;
    out[2 * FEATURE_COUNT + f] = Math.sqrt(variance + STD_FLOOR);
  }
  return out;
}
