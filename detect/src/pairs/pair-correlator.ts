import type { AlertChange, AlertEvent, ConsumerStatePut, StoredFrame } from '@suido/ingest';
import { fromPcm16 } from '../audio/pcm16.ts';
import { inListeningHours, listeningDate, listeningWindow, nightOf } from '../alerts/level-baseline.ts';
import { AlertFeedConsumer, type AlertFeedConsumerOptions } from '../feeds/alert-feed-consumer.ts';
import { NOMINAL_WAVE_SPEED_MS, PAIR_RATIO_THRESHOLD, judgePairRecordings } from './pair-verdict.ts';
import { registeredSensors } from '../registry/registered-sensors.ts';
import { pairsOnMains, type RegistryPair } from './registry-pairs.ts';

/** The alert kind: a leak between two sensors on one main, found by correlating them (the model's own is `leak`). */
export const CORRELATED_LEAK_KIND = 'correlated_leak';

/**
 * Seconds of in-step audio a night needs before it may raise: most of a
 * logger's night of twelve 1 s frames, the nights the threshold was chosen
 * on (`npm run pairs`, PAIR_RATIO_THRESHOLD).
 */
export const MIN_NIGHT_SECONDS = 10;
/**
 * A cleared night's ratio must fall to this share of the threshold
 * (hysteresis): about the 90th percentile of quiet pair-nights' ratios in
 * the leak band (detect/README.md, "In the live system"), so nine quiet
 * nights in ten clear; a leak's nights stand far above the threshold.
 */
export const CLEAR_SHARE = 0.9;
/**
 * A night is judged on its first frames in step up to this many seconds of
 * audio: a logger's twelve 1 s frames all; a streaming sensor's first 24 s;
 * frames of a third of a second, 72 of them. A fixed set, so that once it
 * is full later frames do not look at the night again (each look is a
 * chance to call a quiet night), and a pass's cost per pair is bounded.
 */
export const MAX_SECONDS_JUDGED = 24;
/** Frames shorter than this are not correlated: too few lags for a peak to mean anything (ingest accepts a frame of one sample). */
const MIN_FRAME_S = 0.25;
/** Frames of one sensor read for a night: twice what the judged seconds can hold at the shortest frame, for frames of the partner's out of step. */
const MAX_FRAMES_PER_NIGHT = (2 * MAX_SECONDS_JUDGED) / MIN_FRAME_S;
/** How long the registry's pairs are trusted before it is read again. */
const REGISTRY_TTL_MS = 60_000;

/** What the correlator keeps per pair, beside its alert. */
export interface PairState {
  readonly v: 1;
  /** The latest night judged (nightOf), and its ratio so far (null: too little in-step audio to judge). */
  readonly night: number | null;
  readonly ratio: number | null;
  /** Whether the pair's alert is raised and not cleared. */
  readonly alerting: boolean;
}

const FRESH: PairState = { v: 1, night: null, ratio: null, alerting: false };

export interface PairCorrelatorOptions extends AlertFeedConsumerOptions {
  /** Default PAIR_RATIO_THRESHOLD. */
  readonly threshold?: number | undefined;
}

export interface PairCorrelatorPass {
  readonly frames: number;
  /** Pair-nights judged this pass. */
  readonly nights: number;
  readonly events: readonly AlertEvent[];
  readonly more: boolean;
}

/**
 * The correlator: for each pair of neighbouring sensors on one main (the
 * registry's pipe id and chainage: registry-pairs.ts), the frames both
 * recorded at the same instants in a night's listening hours are correlated
 * together (GCC-PHAT, their cross-spectra summed: pair-verdict.ts, the code
 * `npm run pairs` measured and `correlate` runs for crews). A night whose
 * peak stands above the threshold, with MIN_NIGHT_SECONDS of audio or more,
 * raises (or updates) a `correlated_leak` alert on the pair's first sensor,
 * placed along the main; the alert clears when a night judged in full —
 * a later night's frames have arrived — falls to CLEAR_SHARE of the
 * threshold. A night is judged again as each new frame of it arrives, so
 * the alert comes the night the leak is heard. It reads the store's frame
 * feed behind its own durable cursor and commits its decisions, the
 * pairs' states and the cursor together (alert-feed-consumer.ts).
 *
 * One night's call at the threshold chosen at 1 false per 100 quiet
 * pair-nights; two nights in a row found no more (detect/README.md, "In the
 * live system"). A night is looked at as it grows (a logger's at its 10th,
 * 11th and 12th frame: nested sums), where the threshold was measured on
 * whole nights. A late frame of an older night can update an open alert,
 * never raise one (a logger emptying its buffer must not reopen a repaired
 * leak from stale audio).
 */
export class PairCorrelator extends AlertFeedConsumer<PairCorrelatorPass> {
  readonly threshold: number;
  private pairs: { atMs: number; bySensor: Map<string, RegistryPair[]> } | undefined;

  constructor(opts: PairCorrelatorOptions) {
    super(opts, {
      consumerName: 'pair-correlator',
      batchSize: 256,
      pollMs: 1000,
      what: 'pair correlator pass',
      actor: 'detector',
      logEvent: (log, e) => log.info({ alertId: e.alertId, action: e.action, kind: e.alert.kind, sensorId: e.alert.sourceId, details: e.details }, 'correlated leak alert'),
    });
    this.threshold = opts.threshold ?? PAIR_RATIO_THRESHOLD;
  }

  protected async pass(): Promise<PairCorrelatorPass> {
    const position = await this.startPosition();
    const page = await this.store.framesAfter(position.cursor, this.batchSize);
    if (page.frames.length === 0) return { frames: 0, nights: 0, events: [], more: false };

    const bySensor = await this.registryPairs();
    const touched = new Map<string, { pair: RegistryPair; nights: Set<number> }>();
    for (const f of page.frames) {
      if (!inListeningHours(f.startMs)) continue;
      for (const pair of bySensor.get(f.sensorId) ?? []) {
        if (this.owns && !this.owns(pair.first.id)) continue;
        const entry = touched.get(pair.key) ?? { pair, nights: new Set<number>() };
        entry.nights.add(nightOf(f.startMs));
        touched.set(pair.key, entry);
      }
    }
    const changes: AlertChange[] = [];
    const states: ConsumerStatePut[] = [];
    let nights = 0;
    for (const { pair, nights: touchedNights } of touched.values()) {
      let state = await this.loadState(pair.key);
      const before = changes.length;
      try {
        for (const night of [...touchedNights].sort((x, y) => x - y)) {
          state = await this.judgeNight(pair, night, state, changes);
          nights++;
        }
      } catch (err) {
        // One pair's bad audio must not hold up every other pair of the partition: it is passed over, logged.
        changes.length = before;
        this.log.error({ err, pair: pair.key }, 'pair not judged');
        continue;
      }
      states.push({ name: this.stateName(pair.key), value: state });
    }
    const events = await this.commitPass(position, page.cursor, changes, states);
    return { frames: page.frames.length, nights, events, more: true };
  }

  /** Judges one pair's night with every frame of it stored so far; pushes the changes; returns the pair's new state. */
  private async judgeNight(pair: RegistryPair, night: number, state: PairState, changes: AlertChange[]): Promise<PairState> {
    const subject = { kind: CORRELATED_LEAK_KIND, sourceKind: 'sensor', sourceId: pair.first.id } as const;
    const [fromMs, toMs] = listeningWindow(night);
    let alerting = state.alerting;
    // A new night: the one before is judged in full. Clearing moves forward in data time only. The clear goes
    // out whatever this pair's state says (the store ignores it with nothing open): the first sensor's alert may
    // have been raised with another partner, or the state lost; a night with too little audio clears nothing.
    if (state.night !== null && night > state.night && state.ratio !== null && state.ratio <= CLEAR_SHARE * this.threshold) {
      changes.push({ ...subject, op: 'clear', atMs: listeningWindow(state.night)[1], details: { clearedByNight: listeningDate(state.night), ratio: round(state.ratio) } });
      alerting = false;
    }
    const [a, b] = await Promise.all([pair.first, pair.second].map((s) => this.store.framesInRange(s.id, fromMs, toMs, MAX_FRAMES_PER_NIGHT)));
    const inStepFrames = inStep(a!, b!);
    const fs = inStepFrames[0]?.a.sampleRateHz;
    const matched: typeof inStepFrames = [];
    let seconds = 0;
    for (const m of inStepFrames) {
      if (m.a.sampleRateHz !== fs) continue;
      if (seconds >= MAX_SECONDS_JUDGED) break;
      matched.push(m);
      seconds += m.a.samples!.length / fs;
    }
    const newer = state.night === null || night >= state.night;
    if (fs === undefined || seconds < MIN_NIGHT_SECONDS) {
      return newer ? { v: 1, night, ratio: null, alerting } : { ...state, alerting };
    }
    // Only the judged frames are turned to floats.
    const verdict = judgePairRecordings(
      matched.map((m) => ({ a: fromPcm16(m.a.samples!), b: fromPcm16(m.b.samples!) })),
      fs,
      { spacingM: pair.spacingM, material: pair.material, waveSpeedMs: NOMINAL_WAVE_SPEED_MS[pair.material], sourcesM: pair.sourcesM, threshold: this.threshold },
    );
    // A late frame of an older night may update an open alert, not raise one.
    if (verdict.leak && (newer || alerting)) {
      const share = verdict.fromAM / pair.spacingM;
      const between = (x: number | null, y: number | null) => (x === null || y === null ? null : Math.round((x + (y - x) * share) * 1e5) / 1e5);
      changes.push({
        ...subject,
        op: alerting ? 'refresh' : 'raise',
        atMs: frameEndMs(matched[matched.length - 1]!.a),
        score: round(verdict.ratio),
        details: {
          scoreUnit: 'GCC-PHAT peak over mean',
          threshold: this.threshold,
          night: listeningDate(night),
          partnerId: pair.second.id,
          pipeId: pair.pipeId,
          spacingM: pair.spacingM,
          fromFirstM: round(verdict.fromAM),
          fromSecondM: round(verdict.fromBM),
          withinM: round(verdict.withinM),
          leakChainageM: round(pair.first.chainageM! + verdict.fromAM),
          leakLat: between(pair.first.lat, pair.second.lat),
          leakLon: between(pair.first.lon, pair.second.lon),
          framesInStep: matched.length,
          seconds: round(seconds),
        },
      });
      alerting = true;
    }
    return newer ? { v: 1, night, ratio: verdict.ratio, alerting } : { ...state, alerting };
  }

  private async registryPairs(): Promise<Map<string, RegistryPair[]>> {
    const now = Date.now();
    if (this.pairs && now - this.pairs.atMs < REGISTRY_TTL_MS) return this.pairs.bySensor;
    const bySensor = new Map<string, RegistryPair[]>();
    for (const pair of pairsOnMains(await registeredSensors(this.store))) {
      for (const s of [pair.first, pair.second]) bySensor.set(s.id, [...(bySensor.get(s.id) ?? []), pair]);
    }
    this.pairs = { atMs: now, bySensor };
    return bySensor;
  }

  private stateName(key: string): string {
    return `${this.consumerName}/pair/${key}`;
  }

  private async loadState(key: string): Promise<PairState> {
    const stored = await this.store.getConsumerState(this.stateName(key));
    if (!stored) return FRESH;
    const state = parsePairState(stored.value);
    if (state) return state;
    this.log.warn({ pair: key }, 'unreadable pair state; starting the pair afresh');
    return FRESH;
  }
}

export function parsePairState(value: unknown): PairState | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const numberOrNull = (x: unknown) => x === null || (typeof x === 'number' && Number.isFinite(x));
  if (v.v !== 1 || !numberOrNull(v.night) || !numberOrNull(v.ratio) || typeof v.alerting !== 'boolean') return undefined;
  return { v: 1, night: v.night as number | null, ratio: v.ratio as number | null, alerting: v.alerting };
}

const round = (x: number) => Math.round(x * 100) / 100;

/** Frames of both sensors that start at the same instant, at one rate and one length, with their audio kept. */
function inStep(a: readonly StoredFrame[], b: readonly StoredFrame[]): { a: StoredFrame; b: StoredFrame }[] {
  const byStart = new Map(b.map((f) => [f.startMs, f]));
  const out: { a: StoredFrame; b: StoredFrame }[] = [];
  for (const fa of a) {
    const fb = byStart.get(fa.startMs);
    if (!fb || !fa.samples || !fb.samples || fa.sampleRateHz !== fb.sampleRateHz || fa.samples.length !== fb.samples.length) continue;
    if (fa.samples.length < MIN_FRAME_S * fa.sampleRateHz) continue;
    out.push({ a: fa, b: fb });
  }
  return out;
}

const frameEndMs = (f: StoredFrame) => f.startMs + Math.round((f.samples!.length / f.sampleRateHz) * 1000);
