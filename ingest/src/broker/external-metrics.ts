import { Counter, Gauge, type Registry } from 'prom-client';

/** Prometheus metrics of the external-broker client, registered on the caller's registry. */
export class ExternalBrokerMetrics {
  readonly unacked: Gauge;
  readonly connected: Gauge;
  readonly connects: Counter<'session'>;
  readonly disconnects: Counter<'reason'>;
  readonly redelivered: Counter;
  readonly windowFull: Counter;

  /** The same figures as plain numbers, for logs and tests. */
  readonly totals = {
    received: 0,
    acknowledged: 0,
    redelivered: 0,
    /** Most messages held unacknowledged at once on one connection. */
    maxUnacked: 0,
    connects: 0,
    sessionsResumed: 0,
    storeFailures: 0,
    windowFull: 0,
  };

  constructor(registry: Registry) {
    const registers = [registry];
    this.unacked = new Gauge({
      name: 'suido_ingest_mqtt_unacked_messages',
      help: 'Messages received from the external broker and not yet acknowledged: waiting for their durable commit (the backlog inside this worker)',
      registers,
    });
    this.connected = new Gauge({
      name: 'suido_ingest_mqtt_connected',
      help: '1 while connected and subscribed to the external broker',
      registers,
    });
    this.connects = new Counter({
      name: 'suido_ingest_mqtt_connects_total',
      help: 'Connections to the external broker, by whether it still had this worker\'s session (resumed) or not (new: anything it had queued for us is gone)',
      labelNames: ['session'],
      registers,
    });
    this.disconnects = new Counter({
      name: 'suido_ingest_mqtt_disconnects_total',
      help: 'Connections lost or dropped: store_failure (dropped on purpose so that the broker redelivers), connection (network, broker)',
      labelNames: ['reason'],
      registers,
    });
    this.redelivered = new Counter({
      name: 'suido_ingest_mqtt_redelivered_total',
      help: 'Messages the broker sent again (DUP): unacknowledged on an earlier connection',
      registers,
    });
    this.windowFull = new Counter({
      name: 'suido_ingest_mqtt_window_full_total',
      help: 'Times reading from the broker paused because the unacknowledged window was full (back-pressure)',
      registers,
    });
    for (const session of ['resumed', 'new']) this.connects.inc({ session }, 0);
    for (const reason of ['store_failure', 'connection']) this.disconnects.inc({ reason }, 0);
  }
}
