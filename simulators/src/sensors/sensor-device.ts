import { encodeDeviceStatus, topics } from '@suido/ingest';
import { DAY_MS, HOUR_MS, tokyoDay, tokyoMidnight } from '../clock/tokyo-time.ts';
import { withMessageFaults } from '../faults/message-faults.ts';
import type { OutMessage, Session } from '../fleet/messages.ts';
import type { ScheduledDevice } from '../fleet/scheduled-device.ts';
import { createRng } from '../random/prng.ts';
import type { FaultRates, FleetSpec } from '../scenario/scenario.ts';
import { acousticFrame, type SensorProfile } from './acoustic-sensor.ts';
import type { LeakSource } from './leak/leak-noise.ts';
import { drawNightConditions, drawRainIntensity, type NightConditions } from './night-conditions.ts';

export interface SensorDeviceOptions {
  readonly seed: number;
  readonly faults: FaultRates;
  readonly fleet: FleetSpec;
  /** Simulation start: no frame starts before it. */
  readonly fromMs: number;
  /** Leaks on this sensor's pipe, each heard from `fromMs` until `untilMs` (the repair). */
  readonly leaks?: readonly ActiveLeak[] | undefined;
  /**
   * The Tokyo day the sound is drawn from: night N after it sounds the same
   * whatever the date (a scenario whose clock starts at a day's midnight,
   * as the end-to-end tests' do). Without it the draws follow the calendar
   * day, so a fleet restarted on the same nights sends the same frames
   * again, which ingest deduplicates.
   */
  readonly soundOriginDay?: number | undefined;
  /**
   * Records the frame that starts at `startMs` for this sensor when another
   * renders it (a pair's recorder: fleet/main-pairs.ts); default: the sensor
   * alone, with `leaks`.
   */
  readonly record?: ((startMs: number) => Buffer) | undefined;
}

export interface ActiveLeak {
  readonly fromMs: number;
  readonly untilMs: number;
  readonly source: LeakSource;
}

/** The city's weather on a Tokyo day: every sensor of a fleet gets the same rain. */
export function fleetRainIntensity(seed: number, day: number): number {
  return drawRainIntensity(createRng(seed, 'weather', day));
}

/** What differs at a sensor from night to night (flow, pressure, pumps), with the city's weather. */
export function sensorNight(seed: number, id: string, day: number): NightConditions {
  return drawNightConditions(createRng(seed, id, 'night', day), fleetRainIntensity(seed, day));
}

/** Sensors record from 02:00 to 04:00 Tokyo time, when traffic and water use are lowest. */
const WINDOW_START_MS = 2 * HOUR_MS;
const WINDOW_MS = 2 * HOUR_MS;
/** Between the end of a recording and its upload: the modem wakes and attaches. */
const UPLOAD_DELAY_MS = 1500;
const BATTERY_PCT_PER_DAY = 100 / 1825;

/**
 * A battery acoustic logger: every `frameIntervalMinutes` inside the night
 * window it records one frame and uploads it; with the night's last frame it
 * also sends a status heartbeat. A frame recorded while a leak is active on
 * its pipe carries that leak's noise at the sensor.
 */
export function sensorDevice(profile: SensorProfile, opts: SensorDeviceOptions): ScheduledDevice {
  const { seed, faults, fleet, fromMs } = opts;
  // Draws are keyed by night and time since the origin (the epoch when there is none).
  const originDay = opts.soundOriginDay ?? 0;
  const originMs = opts.soundOriginDay === undefined ? 0 : tokyoMidnight(opts.soundOriginDay);
  const { id } = profile;
  const intervalMs = fleet.frameIntervalMinutes * 60_000;
  const slots = Math.max(1, Math.floor(WINDOW_MS / intervalMs));
  const sampleCount = Math.round(fleet.sampleRateHz * fleet.frameSeconds);
  const frameMs = Math.ceil((sampleCount / fleet.sampleRateHz) * 1000);
  const slotStart = (night: number, slot: number) => tokyoMidnight(night) + WINDOW_START_MS + slot * intervalMs + profile.slotOffsetMs;

  let night = tokyoDay(fromMs);
  let slot = 0;
  const advance = (): void => {
    slot++;
    if (slot === slots) {
      slot = 0;
      night++;
    }
  };
  while (slotStart(night, slot) < fromMs) advance();

  const device = {
    id,
    nextAt: slotStart(night, slot) + frameMs + UPLOAD_DELAY_MS,
    heldBatches: () => 0,
    fire(): Session | undefined {
      const at = device.nextAt;
      const startMs = slotStart(night, slot);
      const last = slot === slots - 1;
      const alone = () => {
        const leaks = (opts.leaks ?? []).filter((l) => l.fromMs <= startMs && startMs < l.untilMs).map((l) => l.source);
        const request = { startMs, sampleCount, night: sensorNight(seed, id, tokyoDay(startMs) - originDay), leaks };
        return acousticFrame(profile, request, createRng(seed, id, 'frame', startMs - originMs)).payload;
      };
      const payload = opts.record ? opts.record(startMs) : alone();
      const messages: OutMessage[] = [{ kind: 'acoustic', deviceId: id, topic: topics.sensorAcoustic(id), payload, reads: [] }];
      if (last) messages.push(statusMessage(profile, at, fromMs));
      advance();
      device.nextAt = slotStart(night, slot) + frameMs + UPLOAD_DELAY_MS;
      return { deviceId: id, messages: withMessageFaults(messages, faults, createRng(seed, id, 'faults', startMs - originMs)) };
    },
  };
  return device;
}

function statusMessage(profile: SensorProfile, at: number, fromMs: number): OutMessage {
  const payload = encodeDeviceStatus({
    ts: at,
    batteryPct: Math.max(0, Math.round((profile.batteryPct - ((at - fromMs) / DAY_MS) * BATTERY_PCT_PER_DAY) * 10) / 10),
    firmware: profile.firmware,
    rssiDbm: profile.rssiDbm,
    uptimeS: Math.floor((at - fromMs) / 1000),
  });
  return { kind: 'status', deviceId: profile.id, topic: topics.sensorStatus(profile.id), payload, reads: [] };
}
