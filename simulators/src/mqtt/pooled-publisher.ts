import type { MqttClient } from 'mqtt';
import type { OutMessage, Session } from '../fleet/messages.ts';
import { backoffDelayMs, sleep, type BackoffPolicy } from './backoff.ts';
import { openConnection, type MqttLogin } from './connection.ts';
import { InFlightLimit } from './in-flight-limit.ts';
import type { DeliveryEvents, Publisher } from './publisher.ts';

export interface PooledPublisherOptions {
  readonly url: string;
  readonly connections: number;
  /** Messages awaiting PUBACK on each connection. */
  readonly maxInFlight: number;
  /** Pool connections are `${clientIdPrefix}-${n}`. */
  readonly clientIdPrefix: string;
  readonly events: DeliveryEvents;
  readonly abandon: AbortSignal;
  readonly backoff?: BackoffPolicy | undefined;
  readonly connectTimeoutMs?: number | undefined;
  /** The gateway every pooled connection logs in as (undefined: anonymous). */
  readonly login?: MqttLogin | undefined;
  /** PEM of the CA that signed an mqtts:// broker's certificate. */
  readonly ca?: Buffer | undefined;
}

/**
 * A few persistent connections shared by the whole fleet, as a gateway or a
 * head-end system forwards for many meters: the way to drive hundreds of
 * thousands of devices from one process. With authentication on, they log in
 * as a gateway, and the registry must route the fleet's devices through it. A device always uses the same
 * connection, so its messages keep their order.
 */
export class PooledPublisher implements Publisher {
  private readonly pool: PooledConnection[];
  private readonly opts: PooledPublisherOptions;

  constructor(opts: PooledPublisherOptions) {
    this.opts = opts;
    this.pool = Array.from({ length: opts.connections }, (_, n) => new PooledConnection(`${opts.clientIdPrefix}-${n + 1}`, opts));
  }

  async deliver(session: Session): Promise<void> {
    const connection = this.pool[affinity(session.deviceId, this.pool.length)]!;
    let failure: unknown;
    await Promise.all(
      session.messages.map((m) =>
        connection.publish(m).then(
          () => this.opts.events.acked(m),
          (err: unknown) => void (failure ??= err),
        ),
      ),
    );
    if (failure !== undefined) throw failure;
  }

  async close(): Promise<void> {
    await Promise.all(this.pool.map((c) => c.close()));
  }
}

/** One pooled connection: connects lazily, reconnects with back-off, bounds what awaits PUBACK. */
class PooledConnection {
  private readonly clientId: string;
  private readonly opts: PooledPublisherOptions;
  private readonly window: InFlightLimit;
  private client: MqttClient | undefined;
  private connecting: Promise<MqttClient> | undefined;
  /** Clients whose loss was already reported: one dropped connection is one error, not one per message. */
  private readonly reported = new WeakSet<MqttClient>();

  constructor(clientId: string, opts: PooledPublisherOptions) {
    this.clientId = clientId;
    this.opts = opts;
    this.window = new InFlightLimit(opts.maxInFlight);
  }

  /** Resolves once the broker acknowledged the message; retries across reconnects until then. */
  async publish(m: OutMessage): Promise<void> {
    const { abandon, events, backoff } = this.opts;
    for (let attempt = 0; ; attempt++) {
      const client = await this.connected();
      try {
        await this.window.run(() => client.publishAsync(m.topic, m.payload, { qos: 1 }), abandon);
        return;
      } catch (err) {
        abandon.throwIfAborted();
        if (!this.reported.has(client)) {
          this.reported.add(client);
          events.failed(err as Error);
        }
        if (client.connected) {
          // The connection is up, yet the publish failed: wait before trying again.
          await sleep(backoffDelayMs(attempt, backoff), abandon);
        }
        events.retrying(1);
      }
    }
  }

  private connected(): Promise<MqttClient> {
    if (this.client?.connected) return Promise.resolve(this.client);
    this.connecting ??= this.connect().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async connect(): Promise<MqttClient> {
    const { url, abandon, events, backoff, connectTimeoutMs, login, ca } = this.opts;
    for (let attempt = 0; ; attempt++) {
      abandon.throwIfAborted();
      try {
        const client = await openConnection(url, { clientId: this.clientId, signal: abandon, connectTimeoutMs, login, ca });
        this.client = client;
        client.on('close', () => {
          if (this.client === client) this.client = undefined;
        });
        return client;
      } catch (err) {
        abandon.throwIfAborted();
        events.failed(err as Error);
        await sleep(backoffDelayMs(attempt, backoff), abandon);
      }
    }
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    await client?.endAsync().catch(() => {});
  }
}

/** FNV-1a of the device id: a stable connection per device. */
function affinity(deviceId: string, n: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < deviceId.length; i++) h = Math.imul(h ^ deviceId.charCodeAt(i), 0x01000193);
  return (h >>> 0) % n;
}
