import { meterDevice } from '../meters/meter-device.ts';
import { meterProfile } from '../meters/meter.ts';
import { sensorProfile } from '../sensors/acoustic-sensor.ts';
import { sensorDevice } from '../sensors/sensor-device.ts';
import type { Scenario } from '../scenario/scenario.ts';
import { EventQueue } from './event-queue.ts';
import type { Session } from './messages.ts';
import type { ScheduledDevice } from './scheduled-device.ts';

/** A session due at a simulated instant; `session` is undefined when the device stayed silent. */
export interface DueSession {
  readonly at: number;
  readonly session: Session | undefined;
}

/**
 * Every device of a scenario's fleet, ordered by when it next sends. It knows
 * nothing of clocks or networks: the simulator pulls sessions from it as its
 * clock reaches them, and tests pull them as fast as they like.
 */
export class FleetSchedule {
  private readonly queue = new EventQueue<ScheduledDevice>();
  private readonly devices: ScheduledDevice[] = [];

  constructor(scenario: Scenario, fromMs: number) {
    const { seed, fleet, faults } = scenario;
    for (let i = 0; i < fleet.meters; i++) this.add(meterDevice(meterProfile(seed, i, fleet), { seed, faults, fromMs }));
    for (let i = 0; i < fleet.sensors; i++) this.add(sensorDevice(sensorProfile(seed, i, fleet), { seed, faults, fleet, fromMs }));
  }

  private add(device: ScheduledDevice): void {
    this.devices.push(device);
    if (Number.isFinite(device.nextAt)) this.queue.push(device.nextAt, device);
  }

  /** When the next session is due; Infinity when no device will send again. */
  nextAt(): number {
    return this.queue.peekKey() ?? Infinity;
  }

  /** Fires the earliest device. */
  fire(): DueSession | undefined {
    const device = this.queue.pop();
    if (!device) return undefined;
    const at = device.nextAt;
    const session = device.fire();
    if (Number.isFinite(device.nextAt)) this.queue.push(device.nextAt, device);
    return { at, session };
  }

  /** Every session due up to and including `untilMs`, in order. */
  *until(untilMs: number): Generator<DueSession> {
    while (this.nextAt() <= untilMs) yield this.fire()!;
  }

  /** Batches meters hold for store-and-forward and have not sent yet. */
  heldBatches(): number {
    return this.devices.reduce((n, d) => n + d.heldBatches(), 0);
  }
}
