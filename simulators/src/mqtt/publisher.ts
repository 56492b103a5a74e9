import type { MqttClient } from 'mqtt';
import type { OutMessage, Session } from '../fleet/messages.ts';
import type { InFlightLimit } from './in-flight-limit.ts';

/** What a publisher tells the simulator as deliveries progress. */
export interface DeliveryEvents {
  /** The message's PUBACK came. Called once per message, however many attempts it took. */
  acked(message: OutMessage): void;
  /** An attempt failed (connect, publish, dropped connection); the messages not acknowledged will be retried. */
  failed(err: Error): void;
  /** Messages about to be sent again after a failure. */
  retrying(count: number): void;
}

/** Delivers sessions over MQTT, QoS 1, retrying until every message is acknowledged. */
export interface Publisher {
  /** Resolves once every message of the session is acknowledged; rejects only when the publisher is abandoned. */
  deliver(session: Session): Promise<void>;
  /** Closes connections gracefully (after `deliver`s have settled). */
  close(): Promise<void>;
}

/**
 * Publishes messages pipelined on one connection, at most `limit.limit` of
 * them awaiting PUBACK at once. Returns the messages acknowledged; throws the
 * first failure once every publish has settled, so nothing is left pending.
 */
export async function publishAll(
  client: MqttClient,
  messages: readonly OutMessage[],
  limit: InFlightLimit,
  onAcked: (m: OutMessage) => void,
  signal?: AbortSignal,
): Promise<void> {
  let failure: Error | undefined;
  await Promise.all(
    messages.map((m) =>
      limit
        .run(async () => {
          // After a failure the connection is going down: do not queue more on it.
          if (failure) throw failure;
          await client.publishAsync(m.topic, m.payload, { qos: 1 });
        }, signal)
        .then(
          () => onAcked(m),
          (err: unknown) => {
            failure ??= err instanceof Error ? err : new Error(String(err));
          },
        ),
    ),
  );
  if (failure) throw failure;
}
