import type { MqttClient } from 'mqtt';
import type { OutMessage, Session } from '../fleet/messages.ts';
import { backoffDelayMs, sleep, type BackoffPolicy } from './backoff.ts';
import { openConnection, type MqttLogin } from './connection.ts';
import { InFlightLimit } from './in-flight-limit.ts';
import { publishAll, type DeliveryEvents, type Publisher } from './publisher.ts';

export interface PerDevicePublisherOptions {
  readonly url: string;
  /** Messages awaiting PUBACK on one device's connection. */
  readonly maxInFlight: number;
  readonly events: DeliveryEvents;
  /** Aborting it gives up: connections are dropped, pending deliveries reject. */
  readonly abandon: AbortSignal;
  readonly backoff?: BackoffPolicy | undefined;
  readonly connectTimeoutMs?: number | undefined;
  /** Each device logs in as itself: username = device id (undefined: anonymous). */
  readonly loginOf?: ((deviceId: string) => MqttLogin | undefined) | undefined;
  /** PEM of the CA that signed an mqtts:// broker's certificate. */
  readonly ca?: Buffer | undefined;
}

/**
 * Each session on its own connection with the device's id as client id:
 * connect, publish, wait for every PUBACK, disconnect, as a battery meter
 * does. A device's sessions run one after another, because a second
 * connection with the same client id would take over the first.
 */
export class PerDevicePublisher implements Publisher {
  private readonly opts: PerDevicePublisherOptions;
  private readonly tails = new Map<string, Promise<void>>();
  private readonly clients = new Set<MqttClient>();

  constructor(opts: PerDevicePublisherOptions) {
    this.opts = opts;
  }

  deliver(session: Session): Promise<void> {
    const previous = this.tails.get(session.deviceId) ?? Promise.resolve();
    const run = previous.then(() => this.deliverNow(session));
    const tail = run.catch(() => {});
    this.tails.set(session.deviceId, tail);
    void tail.then(() => {
      if (this.tails.get(session.deviceId) === tail) this.tails.delete(session.deviceId);
    });
    return run;
  }

  private async deliverNow(session: Session): Promise<void> {
    const { url, maxInFlight, events, abandon, backoff, connectTimeoutMs, loginOf, ca } = this.opts;
    const login = loginOf?.(session.deviceId);
    const acked = new Set<OutMessage>();
    let pending: readonly OutMessage[] = session.messages;
    for (let attempt = 0; ; attempt++) {
      abandon.throwIfAborted();
      let client: MqttClient | undefined;
      try {
        client = await openConnection(url, { clientId: session.deviceId, signal: abandon, connectTimeoutMs, login, ca });
        this.clients.add(client);
        await publishAll(client, pending, new InFlightLimit(maxInFlight), (m) => {
          acked.add(m);
          events.acked(m);
        });
        // Everything is acknowledged: a failed DISCONNECT loses nothing.
        await client.endAsync().catch(() => {});
        return;
      } catch (err) {
        abandon.throwIfAborted();
        client?.end(true);
        events.failed(err as Error);
        pending = pending.filter((m) => !acked.has(m));
        await sleep(backoffDelayMs(attempt, backoff), abandon);
        events.retrying(pending.length);
      } finally {
        if (client) this.clients.delete(client);
      }
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.tails.values());
    await Promise.all([...this.clients].map((c) => c.endAsync(true).catch(() => {})));
  }
}
