import type { Logger } from 'pino';
import type { AlertChange, AlertEvent, ConsumerStatePut, LeakScore, PipeMaterial, SensorSite } from '@suido/ingest';
import { EMPTY_HISTORY, isLate, observeWindow, parseWindowHistory, type WindowHistory } from './k-of-n.ts';
import { EMPTY_LEVELS, levelVerdictOn, notePeak, observeLevels } from './level-baseline.ts';
import { leakAlertConfig, type LeakAlertConfig } from './leak-alert-config.ts';
import { AlertFeedConsumer, type AlertFeedConsumerOptions } from '../feeds/alert-feed-consumer.ts';

/** The alert kind the acoustic leak engine raises, on sensors. */
export const LEAK_ALERT_KIND = 'leak';

/** Defaults: consumer `leak-alerts` (histories under `leak-alerts/sensor/{id}`), 1,000 scores a pass, 1 s between passes when caught up. */
export interface LeakAlertEngineOptions extends AlertFeedConsumerOptions {
  /** Overrides of DEFAULT_LEAK_ALERT_CONFIG. */
  readonly config?: Partial<LeakAlertConfig> | undefined;
  /** How long a sensor's site and material, read from the registry, are kept before they are read again (config.bySite / byMaterial only); default 5 minutes. */
  readonly placeTtlMs?: number | undefined;
}

export interface LeakAlertPass {
  /** Scores read from the feed in this pass. */
  readonly scores: number;
  /** Of those, windows not after the newest one already taken for their sensor (skipped). */
  readonly lateWindows: number;
  /** Alert events the pass recorded. */
  readonly events: readonly AlertEvent[];
  /** The page was full: more may be waiting. */
  readonly more: boolean;
}

/**
 * The running acoustic alert engine: reads leak scores from the store's feed
 * in the order they were stored, takes each sensor's windows in time order
 * through the K-of-N / hysteresis decision (`k-of-n.ts`), and commits the
 * alert changes together with the feed cursor and the histories of the
 * sensors it touched, in one transaction. A crash before that commit loses
 * nothing (the next engine reads the same scores from the same cursor and
 * the same histories); a crash after it repeats nothing. The cursor's
 * version fences a second copy of the engine on the same store: its commit
 * is refused (ConsumerStateConflictError) and it reloads.
 */
export class LeakAlertEngine extends AlertFeedConsumer<LeakAlertPass> {
  readonly config: LeakAlertConfig;
  private readonly placeTtlMs: number;
  private readonly places = new Map<string, { site: SensorSite | null; material: PipeMaterial | null; readAtMs: number }>();

  constructor(opts: LeakAlertEngineOptions) {
    super(opts, {
      consumerName: 'leak-alerts',
      batchSize: 1000,
      pollMs: 1000,
      what: 'leak alert pass',
      actor: 'detector',
      logEvent: (log, e) => log.info({ alertId: e.alertId, action: e.action, sensorId: e.alert.sourceId, peakScore: e.alert.peakScore }, 'leak alert'),
    });
    this.config = leakAlertConfig(opts.config);
    this.placeTtlMs = opts.placeTtlMs ?? 5 * 60_000;
  }

  protected async pass(): Promise<LeakAlertPass> {
    const position = await this.startPosition();
    const page = await this.store.scoresAfter(position.cursor, this.batchSize);
    if (page.scores.length === 0) return { scores: 0, lateWindows: 0, events: [], more: false };

    const bySensor = new Map<string, LeakScore[]>();
    for (const s of page.scores) {
      if (this.config.modelVersion !== undefined && s.modelVersion !== this.config.modelVersion) continue;
      if (this.owns && !this.owns(s.sensorId)) continue;
      const list = bySensor.get(s.sensorId);
      if (list) list.push(s);
      else bySensor.set(s.sensorId, [s]);
    }

    const changes: AlertChange[] = [];
    const states: ConsumerStatePut[] = [];
    let lateWindows = 0;
    for (const [sensorId, scores] of bySensor) {
      // Window by window in time order, whatever order they were stored in.
      scores.sort((a, b) => a.windowStartMs - b.windowStartMs);
      let history = await this.loadHistory(sensorId);
      const { config, group } = await this.configFor(sensorId);
      const site = group && 'site' in group ? group.site : undefined;
      // The verdict weighs the main's material (plastic mains carry a leak low): read from the registry as the groups are.
      const material = config.levelVerdict ? ((await this.placeOf(sensorId)).material ?? undefined) : undefined;
      for (const s of scores) {
        if (config.levelVerdict && !isLate(history, s) && (s.bandLevelsDb || history.levels)) {
          history = { ...history, levels: observeLevels(history.levels ?? EMPTY_LEVELS, s.windowStartMs, s.bandLevelsDb, config.n) };
        }
        const levels = history.levels;
        const verdict = config.levelVerdict;
        const windowMs = s.windowEndMs - s.windowStartMs;
        let judged: ReturnType<typeof levelVerdictOn>;
        const byVerdict =
          verdict && levels
            ? (recent: readonly (readonly [number, number])[]) => (judged = levelVerdictOn(levels, recent, windowMs, { k: config.k, threshold: config.threshold, site, material }, verdict))
            : undefined;
        const step = observeWindow(history, s, config, byVerdict);
        history = step.history;
        // The night's peak, for the next night's confirmation (a verdict with confirmedThreshold).
        if (judged && history.levels) history = { ...history, levels: notePeak(history.levels, judged.night, judged.probability) };
        const d = step.decision;
        const subject = { kind: LEAK_ALERT_KIND, sourceKind: 'sensor', sourceId: sensorId, atMs: s.windowEndMs } as const;
        if (d.op === 'late') lateWindows++;
        else if (d.op === 'raise') {
          changes.push({
            ...subject,
            op: 'raise',
            score: d.score,
            details: {
              scoreUnit: 'model score (0-1)',
              modelVersion: s.modelVersion,
              threshold: config.threshold,
              ...group,
              windowsAbove: d.windowsAbove,
              ofWindows: config.n,
              firstAboveAtMs: d.firstAboveAtMs,
              // Raised by the night verdict: how sure, at what threshold, and how far the band that rose most rose over earlier nights.
              // Confirmed: the night before's peak probability, which reached the confirmed threshold too.
              ...(d.verdict && {
                levelVerdict: {
                  probability: d.verdict.probability,
                  threshold: verdict!.threshold,
                  // None on a sensor's first night on record (a verdict that judges first nights).
                  ...(d.verdict.riseDb !== undefined && { peakRiseDb: d.verdict.riseDb }),
                  ...(d.verdict.confirmedBy !== undefined && { confirmedThreshold: verdict!.confirmedThreshold, nightBefore: d.verdict.confirmedBy }),
                },
              }),
            },
          });
        } else if (d.op === 'refresh') changes.push({ ...subject, op: 'refresh', score: d.score });
        else if (d.op === 'clear') {
          changes.push({ ...subject, op: 'clear', details: { clearThreshold: config.clearThreshold, quietWindows: d.quietWindows } });
        }
      }
      states.push({ name: this.historyName(sensorId), value: history });
    }
    if (lateWindows > 0) this.log.debug({ lateWindows }, 'skipped leak scores of windows not after the newest taken for their sensor');

    const events = await this.commitPass(position, page.cursor, changes, states);
    return { scores: page.scores.length, lateWindows, events, more: page.scores.length === this.batchSize };
  }

  /**
   * The thresholds a sensor is judged by: its site's or its pipe material's
   * where the model has them (read from the registry, kept `placeTtlMs` so a
   * registry change takes effect without a restart), else the default ones.
   * A sensor whose place changes keeps its window history: the next window
   * is judged at the new thresholds. `group` names what chose them.
   */
  private async configFor(sensorId: string): Promise<{ config: LeakAlertConfig; group: { site: SensorSite } | { pipeMaterial: PipeMaterial } | null }> {
    const { bySite = {}, byMaterial = {} } = this.config;
    if (Object.keys(bySite).length === 0 && Object.keys(byMaterial).length === 0) return { config: this.config, group: null };
    const known = await this.placeOf(sensorId);
    const site = known.site === null ? undefined : bySite[known.site];
    if (site) return { config: { ...this.config, ...site }, group: { site: known.site! } };
    const material = known.material === null ? undefined : byMaterial[known.material];
    if (material) return { config: { ...this.config, ...material }, group: { pipeMaterial: known.material! } };
    return { config: this.config, group: null };
  }

  /** The sensor's site and pipe material from the registry, kept `placeTtlMs`. */
  private async placeOf(sensorId: string): Promise<{ site: SensorSite | null; material: PipeMaterial | null }> {
    const now = Date.now();
    let known = this.places.get(sensorId);
    if (!known || now - known.readAtMs >= this.placeTtlMs) {
      const device = await this.store.getDevice(sensorId);
      known = { site: device?.site ?? null, material: device?.pipeMaterial ?? null, readAtMs: now };
      this.places.set(sensorId, known);
    }
    return known;
  }

  private historyName(sensorId: string): string {
    return `${this.consumerName}/sensor/${sensorId}`;
  }


  private async loadHistory(sensorId: string): Promise<WindowHistory> {
    const state = await this.store.getConsumerState(this.historyName(sensorId));
    if (!state) return EMPTY_HISTORY;
    const history = parseWindowHistory(state.value);
    if (history) return history;
    // Starting this sensor afresh is safe: a raise of an alert still open updates it, never duplicates it.
    this.log.warn({ sensorId }, 'unreadable window history; starting the sensor afresh');
    return EMPTY_HISTORY;
  }
}
