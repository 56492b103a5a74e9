import { decodeAcousticFrame, decodeDeviceStatus, decodeMeterReads, DEFAULT_LIMITS, parseTopic, type Decoded } from '@suido/ingest';
import { describe, expect, it } from 'vitest';
import { DAY_MS, HOUR_MS } from '../clock/tokyo-time.ts';
import { FleetSchedule, type DueSession } from '../fleet/fleet-schedule.ts';
import type { OutMessage } from '../fleet/messages.ts';
import { parseScenario, type FaultRates } from '../scenario/scenario.ts';
import { MALFORMED_VARIANTS } from './malformed.ts';

const FROM = Date.parse('2026-09-01T00:00:00Z');

function run(faults: Partial<FaultRates>, days = 10, meters = 800, sensors = 6): DueSession[] {
  const scenario = parseScenario({ seed: 99, fleet: { meters, sensors, sampleRateHz: 2000, frameIntervalMinutes: 30 }, faults });
  return [...new FleetSchedule(scenario, FROM).until(FROM + days * DAY_MS)].filter((d) => d.session);
}

function decode(m: OutMessage, nowMs: number): Decoded<unknown> {
  const topic = parseTopic(m.topic);
  if (!topic.ok) return topic;
  const { kind, deviceKind, deviceId } = topic.value;
  if (kind === 'meter-reads') return decodeMeterReads(m.payload, deviceId, nowMs, DEFAULT_LIMITS);
  if (kind === 'sensor-acoustic') return decodeAcousticFrame(m.payload, deviceId, nowMs, DEFAULT_LIMITS);
  return decodeDeviceStatus(m.payload, deviceKind, deviceId, nowMs, DEFAULT_LIMITS);
}

const within = (actual: number, expected: number, relative: number) => {
  expect(actual).toBeGreaterThan(expected * (1 - relative));
  expect(actual).toBeLessThan(expected * (1 + relative));
};

describe('faults', () => {
  it('change nothing at rate zero', () => {
    const messages = run({}, 4, 100, 2).flatMap((d) => d.session!.messages);
    expect(messages.some((m) => m.duplicate || m.malformed || m.late || m.outOfOrder)).toBe(false);
  });

  it('send malformed payloads at the asked rate, each refused by the ingest, and valid ones it accepts', () => {
    const sessions = run({ malformed: 0.05, duplicate: 0.1 });
    const all = sessions.flatMap((d) => d.session!.messages.map((m) => ({ m, at: d.at })));
    const originals = all.filter(({ m }) => !m.duplicate);
    const malformed = originals.filter(({ m }) => m.malformed);
    within(malformed.length / originals.length, 0.05, 0.2);
    const seen = new Set<string>();
    for (const { m, at } of all) {
      const decoded = decode(m, at + 1000);
      if (m.malformed) {
        expect(decoded.ok, `${m.kind}:${m.malformed} was accepted`).toBe(false);
        expect(m.reads).toEqual([]);
        seen.add(`${m.kind}:${m.malformed}`);
      } else {
        expect(decoded.ok, `${m.topic}: ${decoded.ok ? '' : decoded.rejection.message}`).toBe(true);
      }
    }
    const variants = Object.entries(MALFORMED_VARIANTS).flatMap(([kind, vs]) => vs.map((v) => `${kind}:${v}`));
    // Acoustic frames are few here; every meter variant must show up.
    expect(variants.filter((v) => !seen.has(v) && !v.startsWith('acoustic'))).toEqual([]);
  });

  it('duplicate messages byte for byte, right after the original, never a malformed one', () => {
    const messages = run({ duplicate: 0.1, malformed: 0.05 }).flatMap((d) => d.session!.messages);
    const valid = messages.filter((m) => !m.duplicate && !m.malformed);
    const dups = messages.filter((m) => m.duplicate);
    within(dups.length / valid.length, 0.1, 0.2);
    messages.forEach((m, i) => {
      if (!m.duplicate) return;
      expect(m.malformed).toBeUndefined();
      expect(messages[i - 1]!.payload.equals(m.payload)).toBe(true);
      expect(messages[i - 1]!.topic).toBe(m.topic);
    });
  });

  it('hold batches for 1-3 days when a meter goes offline, then send them all', () => {
    const sessions = run({ late: 0.05 }, 20, 400, 0);
    let periods = 0;
    let lateBatches = 0;
    for (const { at, session } of sessions) {
      const late = session!.messages.filter((m) => m.late);
      if (late.length === 0) continue;
      periods++;
      lateBatches += late.length;
      for (const m of late) {
        const delay = at - Math.max(...m.reads.map((r) => r.ts));
        expect(delay).toBeGreaterThan(DAY_MS);
        expect(delay).toBeLessThan(4 * DAY_MS + 5 * HOUR_MS);
      }
    }
    // An offline period starts on a night that would have sent a session.
    within(periods / (sessions.length + periods), 0.05, 0.3);
    within(lateBatches / periods, 2, 0.25);
  });

  it('shuffle reads within batches and send older batches after newer ones', () => {
    const sessions = run({ outOfOrder: 0.1, late: 0.1 }, 20, 400, 0);
    const batches = sessions.flatMap((d) => d.session!.messages).filter((m) => m.kind === 'reads');
    const shuffled = batches.filter((m) => {
      const ts = (JSON.parse(m.payload.toString()) as { reads: { ts: string }[] }).reads.map((r) => Date.parse(r.ts));
      return ts.some((t, i) => i > 0 && t < ts[i - 1]!);
    });
    within(shuffled.length / batches.length, 0.1, 0.25);
    const newerFirst = sessions.filter(({ session }) => {
      const firsts = session!.messages.filter((m) => m.kind === 'reads').map((m) => Math.min(...m.reads.map((r) => r.ts)));
      return firsts.some((t, i) => i > 0 && t < firsts[i - 1]!);
    });
    expect(newerFirst.length).toBeGreaterThan(0);
  });

  it('never contradict themselves: a read sent twice carries the same register', () => {
    const registers = new Map<string, number>();
    for (const { session } of run({ duplicate: 0.2, late: 0.1, outOfOrder: 0.2, malformed: 0.1 }, 10, 200, 0)) {
      for (const m of session!.messages) {
        for (const r of m.reads) {
          const key = `${m.deviceId}@${r.ts}`;
          expect(registers.get(key) ?? r.registerL).toBe(r.registerL);
          registers.set(key, r.registerL);
        }
      }
    }
    expect(registers.size).toBeGreaterThan(1000);
  });
});
