import { encodeDeviceStatus, encodeMeterReads, topics } from '@suido/ingest';
import { DAY_MS, HOUR_MS, tokyoDay, tokyoMidnight } from '../clock/tokyo-time.ts';
import { withMessageFaults } from '../faults/message-faults.ts';
import type { LedgerRead, OutMessage, Session } from '../fleet/messages.ts';
import type { ScheduledDevice } from '../fleet/scheduled-device.ts';
import { chance, gaussian, intBetween, shuffle } from '../random/distributions.ts';
import { createRng, type Rng } from '../random/prng.ts';
import type { FaultRates } from '../scenario/scenario.ts';
import { closeDay, type MeterProfile } from './meter.ts';

export interface MeterDeviceOptions {
  readonly seed: number;
  readonly faults: FaultRates;
  /** Simulation start: nothing before it is sent. */
  readonly fromMs: number;
}

/** Meters wake to send between 01:00 and 05:00 Tokyo time, when the radio network is quiet. */
const SEND_WINDOW_START_MS = 1 * HOUR_MS;
const SEND_WINDOW_MS = 4 * HOUR_MS;
/** A ten-year battery, drained evenly. */
const BATTERY_PCT_PER_DAY = 100 / 3650;

/**
 * A battery smart meter. Once a night it wakes, sends the 24 hourly reads of
 * the previous Tokyo day in one message and a status heartbeat, and sleeps.
 * With the `late` fault it loses its network for 1–3 days (store-and-
 * forward): it holds its batches and sends them all when it is back.
 */
export function meterDevice(profile: MeterProfile, opts: MeterDeviceOptions): ScheduledDevice {
  const { seed, faults, fromMs } = opts;
  const { id } = profile;
  /** The Tokyo day whose reads go out at `nextAt`, the night after it. */
  let day = tokyoDay(fromMs) - 1;
  let held: LedgerRead[][] = [];
  /** Nights before this one pass without a connection. */
  let offlineUntil = -Infinity;

  const sendTime = (night: number): number =>
    tokyoMidnight(night) + SEND_WINDOW_START_MS + Math.floor(createRng(seed, id, 'send', night).next() * SEND_WINDOW_MS);

  const device = {
    id,
    nextAt: sendTime(day + 1),
    heldBatches: () => held.length,
    fire(): Session | undefined {
      const at = device.nextAt;
      const usageDay = day;
      const night = day + 1;
      const reads = closeDay(profile, usageDay, seed, fromMs);
      day++;
      device.nextAt = sendTime(day + 1);
      // The night before the simulation starts: its reads precede the start.
      if (at < fromMs) return undefined;

      const rng = createRng(seed, id, 'faults', night);
      const goesOffline = chance(rng, faults.late);
      const newerFirst = chance(rng, faults.outOfOrder);
      // Back from an outage, a meter sends what it held before anything else can go wrong.
      const returning = held.length > 0;
      if (reads.length > 0) held.push(reads);
      if (night < offlineUntil) return undefined;
      if (goesOffline && !returning && held.length > 0) {
        offlineUntil = night + intBetween(rng, 1, 3);
        return undefined;
      }
      const batches = held;
      held = [];
      const late = batches.length > 1;
      const reverse = newerFirst && batches.length > 1;
      if (reverse) batches.reverse();
      const messages: OutMessage[] = batches.map((batch, i) => {
        const isLate = late && (reverse ? i > 0 : i < batches.length - 1);
        const shuffled = chance(rng, faults.outOfOrder);
        const sent = shuffled ? shuffle(rng, [...batch]) : batch;
        return {
          kind: 'reads',
          deviceId: id,
          topic: topics.meterReads(id),
          payload: encodeMeterReads(sent),
          reads: batch,
          late: isLate,
          outOfOrder: shuffled || (reverse && i > 0),
        };
      });
      messages.push(statusMessage(profile, at, fromMs, createRng(seed, id, 'status', night)));
      return { deviceId: id, messages: withMessageFaults(messages, faults, rng) };
    },
  };
  return device;
}

function statusMessage(profile: MeterProfile, at: number, fromMs: number, rng: Rng): OutMessage {
  const daysRun = (at - fromMs) / DAY_MS;
  const payload = encodeDeviceStatus({
    ts: at,
    batteryPct: Math.max(0, Math.round((profile.batteryPct - daysRun * BATTERY_PCT_PER_DAY) * 10) / 10),
    firmware: profile.firmware,
    rssiDbm: Math.round(Math.min(-40, Math.max(-130, profile.rssiDbm + 3 * gaussian(rng)))),
    uptimeS: Math.floor((at - fromMs) / 1000),
  });
  return { kind: 'status', deviceId: profile.id, topic: topics.meterStatus(profile.id), payload, reads: [] };
}
