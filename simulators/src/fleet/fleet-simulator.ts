import { setMaxListeners } from 'node:events';
import { SimClock } from '../clock/sim-clock.ts';
import { sleep, type BackoffPolicy } from '../mqtt/backoff.ts';
import { InFlightLimit } from '../mqtt/in-flight-limit.ts';
import { PerDevicePublisher } from '../mqtt/per-device-publisher.ts';
import { PooledPublisher } from '../mqtt/pooled-publisher.ts';
import type { DeliveryEvents, Publisher } from '../mqtt/publisher.ts';
import type { MqttLogin } from '../mqtt/connection.ts';
import { scenarioStartMs, type Scenario } from '../scenario/scenario.ts';
import { FleetSchedule } from './fleet-schedule.ts';
import { FleetTally, type FleetProgress, type FleetReport } from './fleet-report.ts';

export interface FleetSimulatorOptions {
  /** Broker URL, e.g. mqtt://127.0.0.1:1883. */
  readonly url: string;
  readonly scenario: Scenario;
  /** Called every `progressIntervalMs` while running. */
  readonly onProgress?: (progress: FleetProgress) => void;
  readonly progressIntervalMs?: number;
  /** Keep every acknowledged valid read in the report (end-to-end tests; memory grows with the run). */
  readonly recordLedger?: boolean;
  /** After `stop()`, how long deliveries in flight may still finish before they are given up. */
  readonly stopGraceMs?: number;
  /** Pooled connections are `${clientIdPrefix}-1` …; defaults to one unique to this process. */
  readonly clientIdPrefix?: string;
  /** How long to wait for CONNACK before trying again. Default 10 s: LTE-M attach is slow, a LAN is not. */
  readonly connectTimeoutMs?: number;
  /** Delays between attempts after a failure. Default 100 ms doubling to 5 s. */
  readonly backoff?: BackoffPolicy;
  /** The real clock (tests). */
  readonly wallClock?: () => number;
  /** How the fleet logs in to the broker; unset: anonymously (MQTT_ALLOW_ANONYMOUS). */
  readonly credentials?: FleetCredentials;
  /** PEM of the CA that signed an mqtts:// broker's certificate; unset: the system's CAs. */
  readonly ca?: Buffer | undefined;
}

/**
 * Per-device connections log in as each device (username = device id);
 * pooled connections as one gateway, which the registry must name as the
 * gateway of every device in the fleet (README: Devices and credentials).
 */
export interface FleetCredentials {
  /** Device id → its secret, for per-device connections. */
  readonly devices?: ReadonlyMap<string, string> | undefined;
  /** The gateway login of pooled connections. */
  readonly gateway?: MqttLogin | undefined;
}

const DEFAULT_PROGRESS_INTERVAL_MS = 5_000;
const DEFAULT_STOP_GRACE_MS = 5_000;

/**
 * Runs a scenario's fleet against a broker: pulls each device's sessions from
 * the schedule as the simulated clock reaches them and delivers them over
 * MQTT, QoS 1, counting a message only once its PUBACK came. Back-pressure
 * runs from the broker to the clock: when deliveries lag, the schedule waits
 * (simulated time keeps its pace; sessions go out late, as in a congested
 * network). A delivery that fails is retried with back-off, never dropped.
 */
export class FleetSimulator {
  private readonly opts: FleetSimulatorOptions;
  private readonly stopping = new AbortController();
  private readonly abandon = new AbortController();
  private running: Promise<FleetReport> | undefined;

  constructor(opts: FleetSimulatorOptions) {
    this.opts = opts;
    // Every connection, back-off sleep and waiter listens on these; thousands at once is by design.
    setMaxListeners(0, this.stopping.signal, this.abandon.signal);
  }

  /** Runs until the fleet has caught up with the present (with `stopWhenCaughtUp`) or `stop()`. */
  run(): Promise<FleetReport> {
    if (this.running) throw new Error('FleetSimulator.run() may be called once');
    this.running = this.runOnce();
    return this.running;
  }

  /** Stops scheduling, lets deliveries in flight finish within the grace period, then gives up the rest. Resolves when `run()` has. */
  async stop(): Promise<void> {
    this.stopping.abort(new StopRequested());
    await this.running?.catch(() => {});
  }

  private async runOnce(): Promise<FleetReport> {
    const { scenario, url } = this.opts;
    const wall = this.opts.wallClock ?? Date.now;
    const startedAt = Date.now();
    const clock = new SimClock({ startMs: scenarioStartMs(scenario.clock, wall()), speed: scenario.clock.speed, wallClock: wall });
    const schedule = new FleetSchedule(scenario, clock.startMs);
    const tally = new FleetTally(this.opts.recordLedger ?? false);
    const events: DeliveryEvents = {
      acked: (m) => tally.acknowledged(m),
      failed: (err) => tally.failed(err),
      retrying: (n) => (tally.retries += n),
    };
    const conn = scenario.connection;
    const { connectTimeoutMs, backoff, ca } = this.opts;
    const publisher: Publisher =
      conn.mode === 'pooled'
        ? new PooledPublisher({
            url,
            connections: conn.connections,
            maxInFlight: conn.maxInFlight,
            clientIdPrefix: this.opts.clientIdPrefix ?? `suido-sim-${process.pid}-${scenario.seed}`,
            events,
            abandon: this.abandon.signal,
            connectTimeoutMs,
            backoff,
            login: this.opts.credentials?.gateway,
            ca,
          })
        : new PerDevicePublisher({ url, maxInFlight: conn.maxInFlight, events, abandon: this.abandon.signal, connectTimeoutMs, backoff, loginOf: deviceLogins(this.opts.credentials), ca });
    // Per-device: one connection per session in flight. Pooled: enough
    // sessions to keep every connection's in-flight window full.
    const sessions = new InFlightLimit(conn.mode === 'pooled' ? conn.connections * conn.maxInFlight : conn.maxConcurrent);
    const inFlight = new Set<Promise<void>>();

    const progress = (): FleetProgress => ({
      simNowMs: clock.now(),
      simStartMs: clock.startMs,
      caughtUpAtMs: clock.caughtUpAtMs,
      messages: structuredClone(tally.messages),
      published: tally.published,
      acked: tally.acked,
      inFlightSessions: inFlight.size,
      errors: tally.errors,
      retries: tally.retries,
    });
    const { onProgress } = this.opts;
    const timer = onProgress ? setInterval(() => onProgress(progress()), this.opts.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS) : undefined;

    let caughtUp = false;
    const stop = this.stopping.signal;
    try {
      for (;;) {
        const at = schedule.nextAt();
        if (!Number.isFinite(at)) break;
        if (scenario.clock.stopWhenCaughtUp && at > clock.caughtUpAtMs) {
          caughtUp = true;
          break;
        }
        await clock.until(at, stop);
        const due = schedule.fire()!;
        const session = due.session;
        if (!session || session.messages.length === 0) continue;
        await sessions.acquire(stop);
        tally.sent(session);
        const delivery: Promise<void> = publisher
          .deliver(session)
          .catch((err: unknown) => {
            // Only abandonment ends a delivery early; its messages count as unacked.
            if (!this.abandon.signal.aborted) tally.failed(err as Error);
          })
          .finally(() => {
            sessions.release();
            inFlight.delete(delivery);
          });
        inFlight.add(delivery);
      }
    } catch (err) {
      // The clock's sleep and the session limit reject when stop() aborts them.
      if (!stop.aborted) throw err;
    } finally {
      await this.drain(inFlight);
      await publisher.close();
      clearInterval(timer);
    }

    const end = progress();
    return {
      ...end,
      caughtUp,
      stopped: stop.aborted,
      wallMs: Date.now() - startedAt,
      readsPublished: tally.readsPublished,
      readsAcked: tally.readsAcked,
      duplicatesSent: tally.duplicatesSent,
      malformedSent: tally.malformedSent,
      malformedByVariant: { ...tally.malformedByVariant },
      lateBatches: tally.lateBatches,
      outOfOrderBatches: tally.outOfOrderBatches,
      heldBatches: schedule.heldBatches(),
      unacked: tally.published - tally.acked,
      lastError: tally.lastError,
      ledger: tally.ledgerSnapshot(),
    };
  }

  /** Waits for deliveries in flight; once stop is asked for, only for the grace period. */
  private async drain(inFlight: Set<Promise<void>>): Promise<void> {
    const all = Promise.allSettled([...inFlight]);
    const stop = this.stopping.signal;
    if (!stop.aborted) {
      await Promise.race([all, new Promise<void>((resolve) => stop.addEventListener('abort', () => resolve(), { once: true }))]);
    }
    if (stop.aborted) {
      const grace = new AbortController();
      await Promise.race([all, sleep(this.opts.stopGraceMs ?? DEFAULT_STOP_GRACE_MS, grace.signal).catch(() => {})]);
      grace.abort();
      this.abandon.abort(new StopRequested());
      await all;
    }
  }
}

function deviceLogins(credentials: FleetCredentials | undefined): ((deviceId: string) => MqttLogin | undefined) | undefined {
  const devices = credentials?.devices;
  if (!devices) return undefined;
  return (deviceId) => {
    const password = devices.get(deviceId);
    return password === undefined ? undefined : { username: deviceId, password };
  };
}

class StopRequested extends Error {
  constructor() {
    super('simulation stopped');
    this.name = 'StopRequested';
  }
}
