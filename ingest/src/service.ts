import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { EmbeddedBroker, packetLimitFor } from './broker/embedded-broker.ts';
import { ExternalSubscriber } from './broker/external-subscriber.ts';
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

/**
 * The ingest service: broker → ingestor → store, plus PCM retention. The
 * broker is embedded (aedes), or with INGEST_MQTT_MODE=external this service
 * is a client of another broker (README: External broker).
 */
export class IngestService {
  /** INGEST_MQTT_MODE=external: the client of the external broker; undefined when embedded. */
  readonly subscriber: ExternalSubscriber | undefined;
  readonly ingestor: Ingestor;
  readonly metrics: IngestMetrics;
  private readonly embedded: EmbeddedBroker | undefined;
  private readonly pruneTimer: NodeJS.Timeout;
  private readonly opts: IngestServiceOptions;

  private constructor(opts: IngestServiceOptions, broker: EmbeddedBroker | ExternalSubscriber, ingestor: Ingestor, metrics: IngestMetrics) {
    this.opts = opts;
    if (broker instanceof ExternalSubscriber) this.subscriber = broker;
    else this.embedded = broker;
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
      maxBacklogItems: config.maxBacklogItems,
      deadLetterMaxBytes: config.deadLetterMaxBytes,
      metrics,
      log: log.child({ component: 'ingestor' }),
    });
    if (config.external) {
      const subscriber = await ExternalSubscriber.start({ ...config.external, ingestor, registry, log: log.child({ component: 'mqtt-client' }) });
      const service = new IngestService(opts, subscriber, ingestor, metrics);
      await service.prunePcm();
      return service;
    }
    const broker = await EmbeddedBroker.start({
      host: config.mqtt.host,
      port: config.mqtt.port,
      ingestor,
      log: log.child({ component: 'broker' }),
      maxPacketBytes: packetLimitFor(config.limits.maxPayloadBytes),
      access: new MqttAccess({ credentials: store, allowAnonymous: config.mqttAuth.allowAnonymous, servicePassword: config.mqttAuth.servicePassword }),
      credentialRecheckMs: config.mqttAuth.credentialRecheckMs,
      registry,
      tls: config.mqtt.tls,
    });
    if (config.mqttAuth.allowAnonymous) log.warn('MQTT_ALLOW_ANONYMOUS is on: a client without credentials may publish for any device');
    const service = new IngestService(opts, broker, ingestor, metrics);
    await service.prunePcm();
    return service;
  }

  /** The embedded broker. In external mode there is none, and asking for it is a programming error. */
  get broker(): EmbeddedBroker {
    if (!this.embedded) throw new Error('INGEST_MQTT_MODE=external: ingest runs no broker of its own (see IngestService.subscriber)');
    return this.embedded;
  }

  /** Where devices publish: the embedded broker, or the external one (without credentials). */
  get mqttUrl(): string {
    return this.subscriber ? this.opts.config.external!.url : this.broker.url;
  }

  /** Taking messages: the embedded broker is open, or the client is connected and subscribed. */
  mqttReady(): boolean {
    return this.subscriber ? this.subscriber.ready : this.broker.aedes.closed === false;
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

  /**
   * Stops taking messages, commits what is pending (acknowledging it, in
   * external mode), closes the broker or disconnects from it. The store
   * stays open (its owner closes it).
   */
  async close(): Promise<void> {
    clearInterval(this.pruneTimer);
    await (this.subscriber ?? this.broker).close();
    await this.ingestor.close();
  }
}
