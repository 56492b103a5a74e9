import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { AlertEvent } from '@suido/ingest';
import { alertMessage, alertTopic, type AlertPublisher } from './alert-publisher.ts';

export interface MqttAlertPublisherOptions {
  /** Broker URL, e.g. mqtt://127.0.0.1:1883. */
  readonly url: string;
  /** Default `suido-alerts-{pid}`. */
  readonly clientId?: string | undefined;
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  /** PEM of the CA that signed an mqtts:// broker's certificate; unset: the system's CAs. */
  readonly ca?: Buffer | undefined;
  /** Pause between reconnection attempts. Default 1,000 ms. */
  readonly reconnectPeriodMs?: number | undefined;
  /** A publish not acknowledged within this fails (the relay retries it). Default 10,000 ms. */
  readonly publishTimeoutMs?: number | undefined;
  readonly log: Logger;
}

export const ALERT_PUBLISH_ERROR_CODES = ['ALERT_PUBLISH_UNAVAILABLE', 'ALERT_PUBLISH_TIMEOUT', 'ALERT_PUBLISH_FAILED'] as const;
export type AlertPublishErrorCode = (typeof ALERT_PUBLISH_ERROR_CODES)[number];

export class AlertPublishError extends Error {
  readonly code: AlertPublishErrorCode;
  constructor(code: AlertPublishErrorCode, message: string, cause?: unknown) {
    super(message, { cause });
    this.name = 'AlertPublishError';
    this.code = code;
  }
}

/**
 * Publishes alert events as JSON at QoS 1 with mqtt.js, reconnecting on its
 * own. While disconnected it refuses at once (ALERT_PUBLISH_UNAVAILABLE)
 * rather than queue in memory: the store's event table is the queue, and the
 * relay comes back to it. Not retained: a retained message per alert would
 * outlive the alert (resolved alerts would have to be deleted from the
 * broker); current state is the API's job.
 */
export class MqttAlertPublisher implements AlertPublisher {
  readonly client: MqttClient;
  private readonly publishTimeoutMs: number;

  constructor(opts: MqttAlertPublisherOptions) {
    this.publishTimeoutMs = opts.publishTimeoutMs ?? 10_000;
    this.client = mqtt.connect(opts.url, {
      clientId: opts.clientId ?? `suido-alerts-${process.pid}`,
      reconnectPeriod: opts.reconnectPeriodMs ?? 1000,
      connectTimeout: 10_000,
      ...(opts.username !== undefined && { username: opts.username }),
      ...(opts.password !== undefined && { password: opts.password }),
      ...(opts.ca !== undefined && { ca: opts.ca }),
    });
    const log = opts.log;
    this.client.on('connect', () => log.info({ url: opts.url }, 'alert publisher connected'));
    this.client.on('offline', () => log.warn({ url: opts.url }, 'alert publisher offline; reconnecting'));
    this.client.on('error', (err) => log.warn({ err: err.message }, 'alert publisher connection error'));
  }

  get connected(): boolean {
    return this.client.connected;
  }

  async publish(event: AlertEvent): Promise<void> {
    if (!this.client.connected) throw new AlertPublishError('ALERT_PUBLISH_UNAVAILABLE', 'not connected to the broker');
    const topic = alertTopic(event.alert.kind, event.alert.sourceId);
    const payload = JSON.stringify(alertMessage(event));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new AlertPublishError('ALERT_PUBLISH_TIMEOUT', `no PUBACK within ${this.publishTimeoutMs} ms`)), this.publishTimeoutMs);
    });
    try {
      await Promise.race([
        this.client.publishAsync(topic, payload, { qos: 1 }).catch((err: unknown) => {
          throw new AlertPublishError('ALERT_PUBLISH_FAILED', `publish to ${topic} failed: ${(err as Error).message}`, err);
        }),
        timeout,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}
