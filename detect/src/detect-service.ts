import type { Store } from '@suido/ingest';
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

export interface DetectServiceOptions {
  readonly config: DetectConfig;
  readonly store: Store;
  readonly registry: Registry;
  readonly log: Logger;
}

/**
 * The detector: frames → leak scores (LeakScorer) → leak alerts
 * (LeakAlertEngine); meter reads → meter alerts (MeterRulesEngine); alert
 * events → MQTT (AlertRelay). Each stage is a
 * consumer of a store feed with its own durable cursor, so each can stop,
 * crash and resume without losing or repeating work, and a stage that falls
 * behind (the broker is down) never holds up the others.
 */
export class DetectService {
  readonly model: LeakModel;
  readonly scorer: LeakScorer;
  readonly leakAlerts: LeakAlertEngine;
  readonly meterRules: MeterRulesEngine;
  readonly relay: AlertRelay | undefined;
  private readonly publisher: MqttAlertPublisher | undefined;

  private constructor(parts: {
    model: LeakModel;
    scorer: LeakScorer;
    leakAlerts: LeakAlertEngine;
    meterRules: MeterRulesEngine;
    relay?: AlertRelay;
    publisher?: MqttAlertPublisher;
  }) {
    this.model = parts.model;
    this.scorer = parts.scorer;
    this.leakAlerts = parts.leakAlerts;
    this.meterRules = parts.meterRules;
    this.relay = parts.relay;
    this.publisher = parts.publisher;
  }

  static async start(opts: DetectServiceOptions): Promise<DetectService> {
    const { config, store, registry, log } = opts;
    const model = await LeakModel.load(config.modelPath);
    // The model carries its operating point: the threshold and the K of N it was chosen for.
    const threshold = config.leakThreshold ?? model.info.threshold;
    const k = config.leakK ?? model.info.persistence?.k ?? DEFAULT_LEAK_ALERT_CONFIG.k;
    const n = config.leakN ?? model.info.persistence?.n ?? DEFAULT_LEAK_ALERT_CONFIG.n;
    // Hysteresis: a clear needs scores well under the raise threshold.
    const clearThreshold = config.leakClearThreshold ?? Math.min(threshold, 0.6 * threshold);
    const publisher = config.alertsMqttUrl
      ? new MqttAlertPublisher({
          url: config.alertsMqttUrl,
          clientId: `suido-detect-${process.pid}`,
          ...(config.alertsMqttPassword !== undefined && { username: config.alertsMqttUsername, password: config.alertsMqttPassword }),
          ca: config.alertsMqttCa,
          log: log.child({ component: 'alert-publisher' }),
        })
      : undefined;
    const relay = publisher ? new AlertRelay({ store, publisher, log: log.child({ component: 'alert-relay' }), pollMs: config.pollMs }) : undefined;
    const leakAlerts = new LeakAlertEngine({
      store,
      log: log.child({ component: 'leak-alerts' }),
      config: { threshold, clearThreshold, k, n, m: config.leakM, modelVersion: model.info.version },
      pollMs: config.pollMs,
      onEvents: () => relay?.nudge(),
    });
    const scorer = new LeakScorer({
      store,
      model,
      log: log.child({ component: 'leak-scorer' }),
      registry,
      windowing: { windowSeconds: config.windowSeconds, hopSeconds: config.hopSeconds },
      pollMs: config.pollMs,
      onScores: () => leakAlerts.nudge(),
    });
    const meterRules = new MeterRulesEngine({
      store,
      log: log.child({ component: 'meter-rules' }),
      config: config.meterRules,
      pollMs: Math.max(config.pollMs, 1000),
      onEvents: () => relay?.nudge(),
    });
    log.info({ model: model.info.version, threshold, clearThreshold, k, n, m: config.leakM }, 'leak detector ready');
    relay?.start();
    leakAlerts.start();
    meterRules.start();
    scorer.start();
    return new DetectService({ model, scorer, leakAlerts, meterRules, ...(relay && { relay }), ...(publisher && { publisher }) });
  }

  /** Stops each stage after its pass in flight; what was not committed, the next start does. */
  async close(): Promise<void> {
    await this.scorer.stop();
    await this.leakAlerts.stop();
    await this.meterRules.stop();
    await this.relay?.stop();
    await this.publisher?.close();
    await this.model.close();
  }
}
