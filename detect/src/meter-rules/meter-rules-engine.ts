import type { Logger } from 'pino';
import type { AlertChange, AlertEvent, ConsumerStatePut } from '@suido/ingest';
import { AlertFeedConsumer, type AlertFeedConsumerOptions } from '../feeds/alert-feed-consumer.ts';
import { HOUR_MS, DAY_MS, meterSeries, readAt, type MeterSeries, type SeriesRead } from './interval-series.ts';
import { burstAt, continuousFlowAt, reverseFlowAt, stuckAt, tamperAt, type Observation } from './meter-conditions.ts';
import { meterRulesConfig, type MeterRulesConfig, type MeterRulesOverrides } from './meter-rules-config.ts';
import { IDLE, stepRule, type RuleState } from './rule-state.ts';

/** The rules, and the alert kind each raises on meters. */
export const METER_ALERT_KINDS = {
  continuousFlow: 'continuous_flow',
  reverseFlow: 'reverse_flow',
  tamper: 'tamper',
  burst: 'burst',
  stuck: 'stuck_meter',
} as const;
export type MeterRule = keyof typeof METER_ALERT_KINDS;
const RULES = Object.keys(METER_ALERT_KINDS) as MeterRule[];

/** What the engine keeps per meter, beside the alerts. */
export interface MeterRulesState {
  readonly v: 1;
  /** The newest read judged: later reads are judged at their own time, older (late) ones by judging this one again. */
  readonly watermarkMs: number | null;
  readonly rules: Readonly<Partial<Record<MeterRule, RuleState>>>;
}

const FRESH: MeterRulesState = { v: 1, watermarkMs: null, rules: {} };

/** More reads than this in one meter's judging range means a backlog the engine takes in several passes. */
const MAX_READS_PER_METER = 100_000;

/** Defaults: consumer `meter-rules` (states under `meter-rules/meter/{id}`), 5,000 reads a pass (whole arrival groups, so a page may hold more), 5 s between passes when caught up (meters send once a day). */
export interface MeterRulesEngineOptions extends AlertFeedConsumerOptions {
  readonly config?: MeterRulesOverrides | undefined;
}

export interface MeterRulesPass {
  readonly reads: number;
  readonly meters: number;
  readonly events: readonly AlertEvent[];
  readonly more: boolean;
}

/**
 * The meter-side rules, run over the store's reads feed. Reads arrive late
 * and out of order, so the engine judges per meter on its series as stored
 * (actual reads only), at each new read's time in time order. A read older
 * than the newest already judged (the watermark) can raise what it proves
 * at its own time, and is otherwise taken into account by judging the
 * watermark again; clearing moves forward in data time only. Decisions, the
 * per-meter rule states and the feed cursor are committed together, as in
 * the leak engine.
 */
export class MeterRulesEngine extends AlertFeedConsumer<MeterRulesPass> {
  readonly config: MeterRulesConfig;

  constructor(opts: MeterRulesEngineOptions) {
    super(opts, {
      consumerName: 'meter-rules',
      batchSize: 5000,
      pollMs: 5000,
      what: 'meter rules pass',
      actor: 'meter-rules',
      logEvent: (log, e) => log.info({ alertId: e.alertId, action: e.action, kind: e.alert.kind, meterId: e.alert.sourceId }, 'meter alert'),
    });
    this.config = meterRulesConfig(opts.config);
  }

  protected async pass(): Promise<MeterRulesPass> {
    const position = await this.startPosition();
    const page = await this.store.readsAfter(position.cursor, this.batchSize);
    if (page.reads.length === 0) return { reads: 0, meters: 0, events: [], more: false };

    const newTimes = new Map<string, number[]>();
    for (const r of page.reads) {
      if (this.owns && !this.owns(r.meterId)) continue;
      const list = newTimes.get(r.meterId);
      if (list) list.push(r.ts);
      else newTimes.set(r.meterId, [r.ts]);
    }
    const changes: AlertChange[] = [];
    const states: ConsumerStatePut[] = [];
    for (const [meterId, times] of newTimes) {
      const state = await this.judgeMeter(meterId, times, changes);
      states.push({ name: this.stateName(meterId), value: state });
    }

    const events = await this.commitPass(position, page.cursor, changes, states);
    // A page of whole arrival groups can fall short of the limit with more waiting: only an empty page says "caught up".
    return { reads: page.reads.length, meters: newTimes.size, events, more: true };
  }

  /** Judges one meter at its new reads; pushes the changes; returns its new state. */
  private async judgeMeter(meterId: string, newTimes: readonly number[], changes: AlertChange[]): Promise<MeterRulesState> {
    const state = await this.loadState(meterId);
    const watermark = state.watermarkMs;
    const times = [...new Set(newTimes)].sort((a, b) => a - b);
    const late = watermark === null ? [] : times.filter((t) => t <= watermark);
    const points = watermark === null ? times : times.filter((t) => t > watermark);
    // Late reads change the series behind the newest judgement: judge it again with them.
    const rejudge = late.length > 0 && points.length === 0 ? [watermark!] : [];

    const { continuousFlow, burst } = this.config;
    const lookbackMs = Math.max(continuousFlow.windowHours * HOUR_MS, Math.ceil(burst.minDurationMinutes / 60) * HOUR_MS) + HOUR_MS;
    const from = times[0]! - lookbackMs;
    const last = Math.max(times[times.length - 1]!, watermark ?? -Infinity);
    const stored = await this.store.readsInRange(meterId, from, last + 1, MAX_READS_PER_METER);
    if (stored.length === MAX_READS_PER_METER) this.log.warn({ meterId, from, last }, 'meter judging range truncated');
    const series = meterSeries(stored);

    const rules: Partial<Record<MeterRule, RuleState>> = { ...state.rules };
    const apply = (rule: MeterRule, observation: Observation, atMs: number) => {
      const clearAfterMs = this.config[rule].clearAfterHours * HOUR_MS;
      const before = rules[rule] ?? IDLE;
      const step = stepRule(before, observation, atMs, clearAfterMs);
      rules[rule] = step.state;
      const subject = { kind: METER_ALERT_KINDS[rule], sourceKind: 'meter', sourceId: meterId, atMs } as const;
      if (step.op === 'clear') {
        changes.push({ ...subject, op: 'clear', details: { absentSinceMs: before.absentSinceMs ?? atMs } });
      } else if ((step.op === 'raise' || step.op === 'refresh') && observation.status === 'present') {
        changes.push({ ...subject, op: step.op, score: observation.magnitude, details: observation.evidence });
      }
    };
    // A late read can still prove a condition that was there (a tamper flag
    // sent days late raises, dated when it happened), but never clear one:
    // absence is judged forward in time only.
    for (const t of late) {
      const at = readAt(series, t);
      if (at) this.judgeAt(series, at, (rule, o, atMs) => o.status === 'present' && apply(rule, o, atMs));
    }
    let previous = watermark;
    for (const t of [...rejudge, ...points]) {
      const at = readAt(series, t);
      if (!at) continue; // not stored (cannot happen for a read from the feed); nothing to judge
      this.judgeAt(series, at, apply);
      // Stuck meter looks back weeks, by point lookups: judged once a day, at
      // the first new read of each UTC day. Which reads those are depends on
      // the data alone, not on how the feed was paged.
      if (previous === null || Math.floor(t / DAY_MS) > Math.floor(previous / DAY_MS)) {
        apply('stuck', await this.stuckObservation(meterId, at), t);
      }
      previous = t;
    }

    const kept: Partial<Record<MeterRule, RuleState>> = {};
    for (const rule of RULES) {
      const r = rules[rule];
      if (r && (r.active || r.absentSinceMs !== null)) kept[rule] = r;
    }
    return { v: 1, watermarkMs: last, rules: kept };
  }

  private judgeAt(series: MeterSeries, at: SeriesRead, apply: (rule: MeterRule, o: Observation, atMs: number) => void): void {
    apply('continuousFlow', continuousFlowAt(series, at, this.config), at.ts);
    apply('reverseFlow', reverseFlowAt(series, at, this.config), at.ts);
    apply('tamper', tamperAt(at), at.ts);
    apply('burst', burstAt(series, at, this.config), at.ts);
  }

  private async stuckObservation(meterId: string, at: SeriesRead): Promise<Observation> {
    const { days, historyDays } = this.config.stuck;
    const spanStart = await this.store.readAtOrBefore(meterId, at.ts - days * DAY_MS);
    const historyStart = spanStart && (await this.store.readAtOrBefore(meterId, spanStart.ts - historyDays * DAY_MS));
    return stuckAt({ at, spanStart, historyStart }, this.config);
  }

  private stateName(meterId: string): string {
    return `${this.consumerName}/meter/${meterId}`;
  }

  private async loadState(meterId: string): Promise<MeterRulesState> {
    const stored = await this.store.getConsumerState(this.stateName(meterId));
    if (!stored) return FRESH;
    const state = parseMeterRulesState(stored.value);
    if (state) return state;
    this.log.warn({ meterId }, 'unreadable meter rules state; starting the meter afresh');
    return FRESH;
  }
}

export function parseMeterRulesState(value: unknown): MeterRulesState | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (v.v !== 1 || (v.watermarkMs !== null && typeof v.watermarkMs !== 'number') || typeof v.rules !== 'object' || v.rules === null) return undefined;
  const rules: Partial<Record<MeterRule, RuleState>> = {};
  for (const [name, r] of Object.entries(v.rules as Record<string, unknown>)) {
    if (!(RULES as string[]).includes(name) || typeof r !== 'object' || r === null) return undefined;
    const rs = r as Record<string, unknown>;
    if (typeof rs.active !== 'boolean' || (rs.absentSinceMs !== null && typeof rs.absentSinceMs !== 'number')) return undefined;
    rules[name as MeterRule] = { active: rs.active, absentSinceMs: rs.absentSinceMs };
  }
  return { v: 1, watermarkMs: v.watermarkMs, rules };
}
