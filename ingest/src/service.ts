import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { EmbeddedBroker, packetLimitFor } from './broker/embedded-broker.ts';
import { MqttAccess } from './broker/mqtt-access.ts';
import type { IngestConfig } from './config/ingest-config.ts';
import { IngestMetrics } from './pipeline/ingest-metrics.ts';
import { Ingestor } from './pipeline/ingestor.ts';
import type { DeviceCredentialStore } from './store/device-credentials.ts';
import type { Store } from './store/store.ts';

const PRUNE_EVERY_MS = 3_600_000;

export interface IngestServiceOptions {
  readonly config: IngestConfig;
  /** The broker checks credentials in the same transactional store. */
  readonly store: Store & DeviceCredentialStore;
  readonly registry: Registry;
  readonly log: Logger;
}

/** The ingest service: embedded broker → ingestor → store, plus PCM retention. */
export class IngestService {
  readonly broker: EmbeddedBroker;
  readonly ingestor: Ingestor;
  readonly metrics: IngestMetrics;
  private readonly pruneTimer: NodeJS.Timeout;
  private readonly opts: IngestServiceOptions;

  private constructor(opts: IngestServiceOptions, broker: EmbeddedBroker, ingestor: Ingestor, metrics: IngestMetrics) {
    this.opts = opts;
    this.broker = broker;
    this.ingestor = ingestor;
    this.metrics = metrics;
    this.pruneTimer = setInterval(() => void this.prunePcm(), PRUNE_EVERY_MS).unref();
  }

  static async start(opts: IngestServiceOptions): Promise<IngestService> {
    const { config, store, registry, log } = opts;
    const metrics = new IngestMetrics(registry);
    const ingestor = new Ingestor({
      store,
      limits: config.limits,
      batch: config.batch,
      deadLetterMaxBytes: config.deadLetterMaxBytes,
      metrics,
      log: log.child({ component: 'ingestor' }),
    });
    const broker = await EmbeddedBroker.start({
      host: config.mqtt.host,
      port: config.mqtt.port,
      ingestor,
      log: log.child({ component: 'broker' }),
      maxPacketBytes: packetLimitFor(config.limits.maxPayloadBytes),
      access: new MqttAccess({ credentials: store, allowAnonymous: config.mqttAuth.allowAnonymous, servicePassword: config.mqttAuth.servicePassword }),
      credentialRecheckMs: config.mqttAuth.credentialRecheckMs,
      registry,
    });
    if (config.mqttAuth.allowAnonymous) log.warn('MQTT_ALLOW_ANONYMOUS is on: a client without credentials may publish for any device');
    const service = new IngestService(opts, broker, ingestor, metrics);
    await service.prunePcm();
    return service;
  }

  /** Frames keep their summary for good; their PCM only for the retention period. */
  async prunePcm(): Promise<void> {
    const { store, config, log } = this.opts;
    try {
      const pruned = await store.prunePcm(Date.now() - config.pcmRetentionMs);
      if (pruned > 0) log.info({ pruned, retentionDays: config.pcmRetentionMs / 86_400_000 }, 'pruned acoustic PCM past retention');
    } catch (err) {
      log.error({ err }, 'PCM retention pass failed; will retry');
    }
  }

  /** Stops taking messages, commits what is pending, closes the broker. The store stays open (its owner closes it). */
  async close(): Promise<void> {
    clearInterval(this.pruneTimer);
    await this.broker.close();
    await this.ingestor.close();
  }
}
