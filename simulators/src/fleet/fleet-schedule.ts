import { tokyoDay, tokyoMidnight } from '../clock/tokyo-time.ts';
import { meterDevice } from '../meters/meter-device.ts';
import { meterId, meterProfile, type PremisesLeakFlow } from '../meters/meter.ts';
import { createRng } from '../random/prng.ts';
import { resolveTime } from '../scenario/leaks.ts';
import type { Scenario } from '../scenario/scenario.ts';
import { sensorId, sensorProfile, type SensorProfile } from '../sensors/acoustic-sensor.ts';
import { drawLeak } from '../sensors/leak/leak-noise.ts';
import { sensorDevice, type ActiveLeak } from '../sensors/sensor-device.ts';
import { EventQueue } from './event-queue.ts';
import { PairRecorder, fleetPairs } from './main-pairs.ts';
import type { Session } from './messages.ts';
import type { ScheduledDevice } from './scheduled-device.ts';

/**
 * The scenario's leaks on one sensor's pipe. Each leak's sound (level,
 * spectrum, and distance or size when the scenario leaves them out) is drawn
 * from the seed, the sensor and the leak's place in the list.
 */
export function leaksAt(scenario: Scenario, profile: SensorProfile, clockStartMs: number): ActiveLeak[] {
  const out: ActiveLeak[] = [];
  scenario.leaks.forEach((spec, index) => {
    if (spec.sensor !== profile.id) return;
    const source = drawLeak(profile.pipeMaterial, createRng(scenario.seed, profile.id, 'leak', index), { sizeLps: spec.sizeLps, distanceM: spec.distanceM });
    out.push({ fromMs: resolveTime(spec.start, clockStartMs), untilMs: spec.end ? resolveTime(spec.end, clockStartMs) : Infinity, source });
  });
  return out;
}

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
    const premises = new Map<string, PremisesLeakFlow>();
    for (const p of scenario.premisesLeaks) premises.set(p.meter, { fromMs: resolveTime(p.start, fromMs), flowLph: p.flowLph });
    for (let i = 0; i < fleet.meters; i++) this.add(meterDevice(meterProfile(seed, i, fleet, premises.get(meterId(i))), { seed, faults, fromMs }));
    // A clock started at a day's midnight from `daysBack` replays the same nights on every run: the same sound too,
    // so a model's verdict on a scenario does not change with the date a test runs on.
    const soundOriginDay = scenario.clock.align === 'day' && scenario.clock.start === undefined ? tokyoDay(fromMs) : undefined;
    // A pair on one main records together (main-pairs.ts); every other sensor alone.
    const paired = new Map<string, { profile: SensorProfile; record: (startMs: number) => Buffer }>();
    for (const fp of fleetPairs(scenario)) {
      const recorder = new PairRecorder(fp, {
        seed,
        sampleCount: Math.round(fleet.sampleRateHz * fleet.frameSeconds),
        scenario,
        clockStartMs: fromMs,
        originDay: soundOriginDay ?? 0,
        originMs: soundOriginDay === undefined ? 0 : tokyoMidnight(soundOriginDay),
      });
      paired.set(fp.a.id, { profile: fp.a, record: (startMs) => recorder.frame('a', startMs) });
      paired.set(fp.b.id, { profile: fp.b, record: (startMs) => recorder.frame('b', startMs) });
    }
    for (let i = 0; i < fleet.sensors; i++) {
      const pair = paired.get(sensorId(i));
      const profile = pair?.profile ?? sensorProfile(seed, i, fleet, scenario.sensorEnvironments[sensorId(i)]);
      this.add(sensorDevice(profile, { seed, faults, fleet, fromMs, leaks: pair ? undefined : leaksAt(scenario, profile, fromMs), soundOriginDay, record: pair?.record }));
    }
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
