import { ConsumerStateConflictError, type Store } from '@suido/ingest';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { AlertRelay } from './alerts/alert-relay.ts';
import { LeakAlertEngine } from './alerts/leak-alert-engine.ts';
import { DEFAULT_LEAK_ALERT_CONFIG } from './alerts/leak-alert-config.ts';
import { MqttAlertPublisher } from './alerts/mqtt-alert-publisher.ts';
import type { DetectConfig } from './config.ts';
import { LeakModel } from './model/leak-model.ts';
import { LeakScorer } from './stream/leak-scorer.ts';
import { MeterRulesEngine } from './meter-rules/meter-rules-engine.ts';
import { PairCorrelator } from './pairs/pair-correlator.ts';
import { PartitionLeases, partitionOf, partitionTag } from './scale/partition-leases.ts';

export interface DetectServiceOptions {
  readonly config: DetectConfig;
  readonly store: Store;
  readonly registry: Registry;
  readonly log: Logger;
}

/** One set of stages: the whole detector, or one partition's share of it (README: Scaling out). */
export interface DetectStages {
  readonly scorer: LeakScorer;
  readonly leakAlerts: LeakAlertEngine;
  readonly meterRules: MeterRulesEngine;
  /** Undefined with DETECT_PAIRS=false. */
  readonly pairs: PairCorrelator | undefined;
  readonly relay: AlertRelay | undefined;
}

/**
 * The detector: frames → leak scores (LeakScorer) → leak alerts
 * (LeakAlertEngine); frames of sensors paired on a main → correlated leak
 * alerts (PairCorrelator); meter reads → meter alerts (MeterRulesEngine); alert
 * events → MQTT (AlertRelay). Each stage is a
 * consumer of a store feed with its own durable cursor, so each can stop,
 * crash and resume without losing or repeating work, and a stage that falls
 * behind (the broker is down) never holds up the others.
 *
 * With DETECT_WORKER_COUNT > 1, sensors and meters are partitioned by a
 * stable hash of their id and each partition's stages run on whichever
 * worker holds its lease (scale/partition-leases.ts), with cursors of their
 * own (`leak-scorer/p0of2`, …) and the per-sensor and per-meter states
 * shared by name, so a partition moves between workers with its state.
 */
export class DetectService {
  readonly model: LeakModel;
  /** Partition → its running stages (partition 0 of 1 when not scaled out). */
  readonly running: ReadonlyMap<number, DetectStages>;
  /** The lease loop when scaled out. */
  readonly leases: PartitionLeases | undefined;
  private readonly stopStages: (partition: number) => Promise<void>;
  private readonly publisher: MqttAlertPublisher | undefined;

  private constructor(parts: {
    model: LeakModel;
    running: Map<number, DetectStages>;
    leases: PartitionLeases | undefined;
    stopStages: (partition: number) => Promise<void>;
    publisher?: MqttAlertPublisher;
  }) {
    this.model = parts.model;
    this.running = parts.running;
    this.leases = parts.leases;
    this.stopStages = parts.stopStages;
    this.publisher = parts.publisher;
  }

  /** The stages of the whole detector when not scaled out (tests). */
  get stages(): DetectStages | undefined {
    return this.running.get(0);
  }

  static async start(opts: DetectServiceOptions): Promise<DetectService> {
    const { config, store, registry, log } = opts;
    const model = await LeakModel.load(config.modelPath);
    // The model carries its operating point: the threshold(s) and the K of N it was chosen for.
    const threshold = config.leakThreshold ?? model.info.threshold;
    const k = config.leakK ?? model.info.persistence?.k ?? DEFAULT_LEAK_ALERT_CONFIG.k;
    const n = config.leakN ?? model.info.persistence?.n ?? DEFAULT_LEAK_ALERT_CONFIG.n;
    // Hysteresis: a clear needs scores well under the raise threshold.
    // LEAK_CLEAR_THRESHOLD above the threshold is refused (leakAlertConfig); a site's threshold is never below the default.
    const clearFor = (t: number) => Math.min(t, config.leakClearThreshold ?? 0.6 * t);
    const clearThreshold = config.leakClearThreshold ?? 0.6 * threshold;
    // An operator's LEAK_THRESHOLD is one threshold for every sensor: the model's per-site and per-material ones are left out.
    const groups = (own: Readonly<Record<string, number | undefined>>) =>
      config.leakThreshold === undefined ? Object.fromEntries(Object.entries(own).map(([name, t]) => [name, { threshold: t!, clearThreshold: clearFor(t!) }])) : {};
    const bySite = groups(model.info.thresholds.bySite);
    // The verdict was fitted for the model's own threshold and K of N: an operator's override of either turns it off.
    const ownOperatingPoint = config.leakThreshold === undefined && config.leakK === undefined && config.leakN === undefined;
    const levelVerdict = config.leakLevelVerdict && ownOperatingPoint ? model.info.levelVerdict : undefined;
    if (model.info.levelVerdict && !levelVerdict) log.info({ leakLevelVerdict: config.leakLevelVerdict, ownOperatingPoint }, 'leak alerts by K of N alone: the model\'s night verdict with level history is off');
    const byMaterial = groups(model.info.thresholds.byMaterial);
    const publisher = config.alertsMqttUrl
      ? new MqttAlertPublisher({
          url: config.alertsMqttUrl,
          clientId: `suido-detect-${process.pid}`,
          ...(config.alertsMqttPassword !== undefined && { username: config.alertsMqttUsername, password: config.alertsMqttPassword }),
          ca: config.alertsMqttCa,
          log: log.child({ component: 'alert-publisher' }),
        })
      : undefined;
    const { count } = config.workers;
    const scaled = count > 1;
    const running = new Map<number, DetectStages>();
    const base = { scorer: 'leak-scorer', leakAlerts: 'leak-alerts', meterRules: 'meter-rules', pairs: 'pair-correlator', relay: 'alert-publisher' } as const;
    const names = (partition: number): Record<keyof typeof base, string> => {
      const tag = scaled ? `/${partitionTag(partition, count)}` : '';
      return { scorer: base.scorer + tag, leakAlerts: base.leakAlerts + tag, meterRules: base.meterRules + tag, pairs: base.pairs + tag, relay: base.relay + tag };
    };
    const startStages = async (partition: number): Promise<void> => {
      const owns = scaled ? (id: string) => partitionOf(id, count) === partition : undefined;
      const cursors = names(partition);
      // A partition's first cursors start where the unscaled detector's stopped (moving from one worker to several).
      if (scaled) for (const stage of Object.keys(base) as (keyof typeof base)[]) await seedCursor(store, cursors[stage], base[stage]);
      const plog = scaled ? log.child({ partition }) : log;
      const relay = publisher
        ? new AlertRelay({ store, publisher, log: plog.child({ component: 'alert-relay' }), pollMs: config.pollMs, consumerName: cursors.relay, owns })
        : undefined;
      const leakAlerts = new LeakAlertEngine({
        store,
        log: plog.child({ component: 'leak-alerts' }),
        config: { threshold, clearThreshold, k, n, m: config.leakM, modelVersion: model.info.version, bySite, byMaterial, levelVerdict },
        pollMs: config.pollMs,
        cursorName: cursors.leakAlerts,
        owns,
        onEvents: () => relay?.nudge(),
      });
      const scorer = new LeakScorer({
        store,
        model,
        log: plog.child({ component: 'leak-scorer' }),
        registry,
        windowing: { windowSeconds: config.windowSeconds, hopSeconds: config.hopSeconds },
        pollMs: config.pollMs,
        consumerName: cursors.scorer,
        owns,
        onScores: () => leakAlerts.nudge(),
      });
      const meterRules = new MeterRulesEngine({
        store,
        log: plog.child({ component: 'meter-rules' }),
        config: config.meterRules,
        pollMs: Math.max(config.pollMs, 1000),
        cursorName: cursors.meterRules,
        owns,
        onEvents: () => relay?.nudge(),
      });
      // A pair belongs to its first sensor's partition; per-pair states are shared by name, as the per-sensor ones.
      const pairs = config.pairs
        ? new PairCorrelator({
            store,
            log: plog.child({ component: 'pair-correlator' }),
            pollMs: config.pollMs,
            cursorName: cursors.pairs,
            owns,
            onEvents: () => relay?.nudge(),
          })
        : undefined;
      relay?.start();
      leakAlerts.start();
      meterRules.start();
      pairs?.start();
      scorer.start();
      running.set(partition, { scorer, leakAlerts, meterRules, pairs, relay });
    };
    const stopStages = async (partition: number): Promise<void> => {
      const stages = running.get(partition);
      if (!stages) return;
      running.delete(partition);
      await stages.scorer.stop();
      await stages.leakAlerts.stop();
      await stages.meterRules.stop();
      await stages.pairs?.stop();
      await stages.relay?.stop();
    };
    log.info({ model: model.info.version, threshold, clearThreshold, bySite, byMaterial, k, n, m: config.leakM, workers: config.workers }, 'leak detector ready');
    let leases: PartitionLeases | undefined;
    if (scaled) {
      leases = new PartitionLeases({
        store,
        log: log.child({ component: 'partition-leases' }),
        index: config.workers.index,
        count,
        ttlMs: config.workers.leaseTtlMs,
        start: startStages,
        stop: stopStages,
      });
      await leases.start();
    } else await startStages(0);
    return new DetectService({ model, running, leases, stopStages, ...(publisher && { publisher }) });
  }

  /** Stops each stage after its pass in flight (and releases the leases held); what was not committed, the next start does. */
  async close(): Promise<void> {
    if (this.leases) await this.leases.close();
    else await this.stopStages(0);
    await this.publisher?.close();
    await this.model.close();
  }
}

/** Writes `name`'s cursor as `from`'s when `name` has none yet and `from` has one. */
async function seedCursor(store: Store, name: string, from: string): Promise<void> {
  if (await store.getConsumerState(name)) return;
  const base = await store.getConsumerState(from);
  if (!base) return;
  await store.putConsumerState(name, base.value, 0).catch((err: unknown) => {
    if (!(err instanceof ConsumerStateConflictError)) throw err;
  });
}
