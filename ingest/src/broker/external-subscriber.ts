import { readFileSync } from 'node:fs';
import mqtt, { type IClientOptions, type IConnackPacket, type IPublishPacket, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { ExternalMqttConfig } from '../config/ingest-config.ts';
import { topics } from '../contracts/index.ts';
import type { Ingestor } from '../pipeline/ingestor.ts';
import { ExternalBrokerMetrics } from './external-metrics.ts';

/** Every device topic of contract version 1, one filter each (README: Device contracts). */
export const DEVICE_TOPIC_FILTERS: readonly string[] = [topics.meterReads('+'), topics.meterStatus('+'), topics.sensorAcoustic('+'), topics.sensorStatus('+')];

export const EXTERNAL_BROKER_ERROR_CODES = ['MQTT_CONNECT_REFUSED', 'MQTT_SUBSCRIBE_REFUSED', 'MQTT_UNREACHABLE'] as const;
export type ExternalBrokerErrorCode = (typeof EXTERNAL_BROKER_ERROR_CODES)[number];

export class ExternalBrokerError extends Error {
  readonly code: ExternalBrokerErrorCode;
  constructor(code: ExternalBrokerErrorCode, message: string, cause?: unknown) {
    super(message, { cause });
    this.name = 'ExternalBrokerError';
    this.code = code;
  }
}

export interface ExternalSubscriberOptions extends ExternalMqttConfig {
  readonly ingestor: Ingestor;
  readonly registry: Registry;
  readonly log: Logger;
  /** start() fails when no subscribed connection came within this long. Default 30 s. */
  readonly startTimeoutMs?: number;
}

/** CONNACK reason codes (MQTT 5 §3.2.2.2) that a retry will not cure: a configuration mistake. */
const REFUSALS_NOT_RETRIED_AT_START = new Set([0x84, 0x85, 0x86, 0x87, 0x8c]);

/**
 * One network connection to the broker. A PUBACK belongs to the connection
 * that carried its PUBLISH: once that connection is gone the broker
 * redelivers the message on the next one (same packet id, DUP), and an
 * acknowledgement sent late on the new connection could acknowledge a
 * different message that reused the id, before it is stored.
 */
interface Connection {
  readonly stream: MqttClient['stream'];
  open: boolean;
  unacked: number;
  /** mqtt.js callbacks held while the window is full: the socket is not read meanwhile. */
  readonly held: Array<() => void>;
}

/**
 * Passed to mqtt.js's handleMessage callback to make it skip the PUBACK it
 * would send at once (node_modules/mqtt/build/lib/handlers/publish.js: an
 * error there ends the packet without `_sendPacket`) and go on reading.
 */
const ACK_LATER = new Error('PUBACK deferred until the durable commit');

/**
 * Ingest as a client of an external broker (INGEST_MQTT_MODE=external):
 * MQTT 5, a persistent session (clean start off, session expiry), QoS 1
 * subscriptions to the device topics, through `$share/<group>/` when workers
 * share the load.
 *
 * Acknowledged means stored. mqtt.js handles incoming packets one at a time
 * and sends a QoS 1 PUBACK as soon as `handleMessage` calls back; it reads
 * the next packet only after that. Calling back after the commit would
 * therefore allow one message per commit, and a commit batches many
 * messages. So `handleMessage` hands each message to the Ingestor and calls
 * back at once with ACK_LATER (no PUBACK); the PUBACK is written on the
 * connection when the Ingestor's commit holding the message resolved
 * (PUBACKs leave in commit order, which is arrival order). A rejected
 * payload resolves as a dead letter in the same commit and is acknowledged
 * like any other: it never blocks the window.
 *
 * Back-pressure: at most `receiveMaximum` messages are unacknowledged. It is
 * sent as the MQTT 5 Receive Maximum, and enforced here as well, because
 * Mosquitto 2.0.11 was measured sending 45 unacknowledged messages to a
 * client that asked for 5 (README: External broker). When the window is
 * full the handleMessage callback is held, mqtt.js stops reading, TCP fills
 * and the broker queues: the backlog stays in the broker, not in memory here.
 *
 * A failed commit is not acknowledged. MQTT 5 lets a broker resend an
 * unacknowledged message only on a new connection (§4.4), so the worker drops
 * the connection and reconnects after a back-off; the broker, holding the
 * session, redelivers, and the store's keys make the repeat harmless.
 */
export class ExternalSubscriber {
  readonly metrics: ExternalBrokerMetrics;
  /** The filters as subscribed, with the share prefix when there is one. */
  readonly filters: readonly string[];
  readonly client: MqttClient;
  private readonly opts: ExternalSubscriberOptions;
  private readonly log: Logger;
  private conn: Connection | undefined;
  private subscribed = false;
  private failures = 0;
  private droppedForStore = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private closing = false;
  private closed: Promise<void> | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private starting: { resolve(): void; reject(err: Error): void } | undefined;

  private constructor(opts: ExternalSubscriberOptions) {
    this.opts = opts;
    this.log = opts.log;
    this.metrics = new ExternalBrokerMetrics(opts.registry);
    this.filters = DEVICE_TOPIC_FILTERS.map((f) => (opts.shareGroup === undefined ? f : `$share/${opts.shareGroup}/${f}`));
    const options: IClientOptions = {
      protocolVersion: 5,
      clientId: opts.clientId,
      clean: false,
      keepalive: opts.keepaliveSeconds,
      connectTimeout: 10_000,
      // Reconnection is ours: mqtt.js retries at a fixed period, we back off.
      reconnectPeriod: 0,
      // Subscribing is ours too, on every connection (see onConnect).
      resubscribe: false,
      manualConnect: true,
      properties: { sessionExpiryInterval: opts.sessionExpirySeconds, receiveMaximum: opts.receiveMaximum },
      ...(opts.username !== undefined && { username: opts.username }),
      ...(opts.password !== undefined && { password: opts.password }),
      ...(opts.caFile !== undefined && { ca: readFileSync(opts.caFile) }),
    };
    this.client = mqtt.connect(opts.url, options);
    this.client.handleMessage = (packet, callback) => this.onPublish(packet, callback);
    this.client.on('connect', (connack) => this.onConnect(connack));
    this.client.on('close', () => this.onClose());
    this.client.on('error', (err) => this.onError(err));
  }

  /** Connects and subscribes; resolves once the broker granted every subscription. */
  static async start(opts: ExternalSubscriberOptions): Promise<ExternalSubscriber> {
    const s = new ExternalSubscriber(opts);
    const timeoutMs = opts.startTimeoutMs ?? 30_000;
    let timer: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        s.starting = { resolve, reject };
        timer = setTimeout(() => reject(new ExternalBrokerError('MQTT_UNREACHABLE', `no subscribed connection to ${opts.url} within ${timeoutMs} ms`)), timeoutMs);
        s.client.connect();
      });
    } catch (err) {
      await s.close();
      throw err;
    } finally {
      clearTimeout(timer);
      s.starting = undefined;
    }
    return s;
  }

  /** Connected, and the broker granted the subscriptions. */
  get ready(): boolean {
    return this.subscribed && this.conn?.open === true;
  }

  private onConnect(connack: IConnackPacket): void {
    const conn: Connection = { stream: this.client.stream, open: true, unacked: 0, held: [] };
    this.conn = conn;
    const resumed = connack.sessionPresent;
    const t = this.metrics.totals;
    t.connects++;
    if (resumed) t.sessionsResumed++;
    this.metrics.connects.inc({ session: resumed ? 'resumed' : 'new' });
    const info = { url: this.opts.url, clientId: this.opts.clientId, sessionPresent: resumed };
    if (!resumed && t.connects > 1) this.log.warn(info, 'broker had no session for this worker: whatever it queued for us meanwhile is lost (session expired, or broker restarted without persistence)');
    else this.log.info(info, 'connected to external broker');
    // Subscribing again on a resumed session is harmless (the broker replaces
    // the same subscription) and picks up a changed share group or filter set.
    this.client.subscribe([...this.filters], { qos: 1 }, (err, granted) => {
      if (this.conn !== conn || !conn.open) return;
      const refused = granted?.filter((g) => (g.qos & 0x80) !== 0) ?? [];
      if (err || refused.length > 0) {
        const detail = refused.map((g) => `${g.topic} (reason 0x${g.qos.toString(16)})`).join(', ') || (err as Error).message;
        const failure = new ExternalBrokerError('MQTT_SUBSCRIBE_REFUSED', `broker refused the subscriptions: ${detail}`, err);
        this.log.error({ err: failure.message, code: failure.code }, 'subscription refused; will reconnect');
        this.starting?.reject(failure);
        this.drop(conn, 'connection');
        return;
      }
      this.subscribed = true;
      this.metrics.connected.set(1);
      // After a drop for a failed commit, only a successful commit resets the back-off.
      if (!this.droppedForStore) this.failures = 0;
      this.starting?.resolve();
    });
  }

  private onPublish(packet: IPublishPacket, callback: (err?: Error) => void): void {
    const conn = this.conn;
    // Not taken: no PUBACK, so the broker keeps it for this session and redelivers.
    if (this.closing || conn === undefined || !conn.open || conn.stream !== this.client.stream) return callback(ACK_LATER);
    const t = this.metrics.totals;
    t.received++;
    if (packet.dup) {
      t.redelivered++;
      this.metrics.redelivered.inc();
    }
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    const messageId = packet.qos > 0 ? packet.messageId : undefined;
    conn.unacked++;
    t.maxUnacked = Math.max(t.maxUnacked, conn.unacked);
    this.metrics.unacked.inc();
    const handled = this.opts.ingestor
      .submit({ topic: packet.topic, payload, clientId: null })
      .then(
        () => {
          if (messageId !== undefined) this.acknowledge(conn, messageId);
        },
        (err: Error) => this.commitFailed(conn, err),
      )
      .finally(() => {
        conn.unacked--;
        this.metrics.unacked.dec();
        this.inFlight.delete(handled);
        if (conn.unacked < this.opts.receiveMaximum) for (const release of conn.held.splice(0)) release();
      });
    this.inFlight.add(handled);
    if (conn.unacked < this.opts.receiveMaximum) return callback(ACK_LATER);
    t.windowFull++;
    this.metrics.windowFull.inc();
    conn.held.push(() => callback(ACK_LATER));
  }

  /**
   * PUBACK with reason Success and no properties: the 4-byte form MQTT 5
   * allows (§3.4.2.1), written on the connection that carried the PUBLISH and
   * only while it is open. mqtt.js writes whole packets synchronously, so
   * this never lands inside one of its packets.
   */
  private acknowledge(conn: Connection, messageId: number): void {
    if (!conn.open || conn.stream !== this.client.stream || !conn.stream.writable) return;
    conn.stream.write(Buffer.of(0x40, 0x02, messageId >> 8, messageId & 0xff));
    this.metrics.totals.acknowledged++;
    this.droppedForStore = false;
    this.failures = 0;
  }

  private commitFailed(conn: Connection, err: Error): void {
    if (!conn.open) return;
    this.metrics.totals.storeFailures++;
    this.log.error({ err: err.message, code: (err as { code?: string }).code }, 'commit failed: messages not acknowledged; reconnecting so that the broker redelivers them');
    this.droppedForStore = true;
    this.drop(conn, 'store_failure');
  }

  /** Ends a connection without DISCONNECT; the session stays with the broker. */
  private drop(conn: Connection, reason: 'store_failure' | 'connection'): void {
    if (!conn.open) return;
    this.closeConnection(conn, reason);
    conn.stream.destroy();
  }

  private closeConnection(conn: Connection, reason: 'store_failure' | 'connection'): void {
    if (!conn.open) return;
    conn.open = false;
    this.subscribed = false;
    this.metrics.connected.set(0);
    this.metrics.disconnects.inc({ reason });
    // The old connection's remaining packets are dropped unread (onPublish sees it closed).
    for (const release of conn.held.splice(0)) release();
  }

  private onClose(): void {
    if (this.conn?.open) this.closeConnection(this.conn, 'connection');
    if (this.closing || this.reconnectTimer) return;
    const { reconnectMinMs, reconnectMaxMs } = this.opts;
    const ceiling = Math.min(reconnectMaxMs, reconnectMinMs * 2 ** Math.min(this.failures, 20));
    // Half fixed, half random: workers dropped together do not return together.
    const delay = Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
    this.failures++;
    this.log.warn({ url: this.opts.url, clientId: this.opts.clientId, retryInMs: delay }, 'not connected to external broker; reconnecting');
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (!this.closing) this.client.reconnect();
    }, delay);
  }

  private onError(err: Error & { code?: number | string }): void {
    const code = err.code;
    if (typeof code === 'number' && REFUSALS_NOT_RETRIED_AT_START.has(code)) {
      // Credentials can be fixed on the broker while we run: keep retrying then; at start, fail.
      const failure = new ExternalBrokerError('MQTT_CONNECT_REFUSED', `broker refused the connection as client '${this.opts.clientId}': ${err.message} (check MQTT_USERNAME, MQTT_PASSWORD, MQTT_CLIENT_ID)`, err);
      this.log.error({ code: failure.code, reason: err.message }, 'broker refused the connection');
      this.starting?.reject(failure);
      return;
    }
    this.log.warn({ err: err.message, code }, 'external broker connection error');
  }

  /**
   * Stops taking messages, lets every commit in flight finish and its PUBACK
   * go out, then disconnects normally: the broker keeps the session, and
   * queues for it, for the session expiry interval.
   */
  close(): Promise<void> {
    return (this.closed ??= this.closeOnce());
  }

  private async closeOnce(): Promise<void> {
    this.closing = true;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    void this.opts.ingestor.flush();
    await Promise.allSettled([...this.inFlight]);
    this.subscribed = false;
    this.metrics.connected.set(0);
    const conn = this.conn;
    if (conn?.open) {
      conn.open = false;
      for (const release of conn.held.splice(0)) release();
    }
    await this.client.endAsync(false);
  }
}
