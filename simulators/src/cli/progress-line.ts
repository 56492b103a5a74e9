import { MESSAGE_KINDS } from '../fleet/messages.ts';
import type { FleetProgress, FleetReport } from '../fleet/fleet-report.ts';

const TOKYO = new Intl.DateTimeFormat('sv-SE', { timeZone: 'Asia/Tokyo', dateStyle: 'short', timeStyle: 'short' });

/** Simulated time in Tokyo, where the fleet lives: "2026-11-22 14:00 JST". */
export function tokyoTime(ms: number): string {
  return `${TOKYO.format(ms)} JST`;
}

/** One line for stderr every few seconds. */
export function progressLine(p: FleetProgress): string {
  const span = p.caughtUpAtMs - p.simStartMs;
  const share = Number.isFinite(span) && span > 0 ? Math.min(1, (p.simNowMs - p.simStartMs) / span) : undefined;
  const catchUp = share === undefined ? '' : share >= 1 ? ' live' : ` ${Math.floor(share * 100)}% to now`;
  const kinds = MESSAGE_KINDS.map((k) => `${k} ${p.messages[k].acked}`).join(', ');
  return `[sim ${tokyoTime(p.simNowMs)}${catchUp}] sent ${p.published} acked ${p.acked} (${kinds}) in flight ${p.inFlightSessions} errors ${p.errors}`;
}

/** The end-of-run summary. */
export function summary(r: FleetReport): string {
  const how = r.stopped ? 'stopped' : r.caughtUp ? 'caught up with the present' : 'finished';
  const malformed = Object.entries(r.malformedByVariant)
    .map(([v, n]) => `${v} ${n}`)
    .join(', ');
  return [
    `Simulation ${how} after ${(r.wallMs / 1000).toFixed(1)} s: ${tokyoTime(r.simStartMs)} → ${tokyoTime(r.simNowMs)}`,
    ...MESSAGE_KINDS.map((k) => `  ${k.padEnd(9)} sent ${r.messages[k].published}, acked ${r.messages[k].acked}`),
    `  hourly    ${r.readsPublished} valid reads sent (each once), ${r.readsAcked} acked`,
    `  faults    ${r.duplicatesSent} duplicates, ${r.lateBatches} late batches (${r.heldBatches} still held), ${r.outOfOrderBatches} out of order, ${r.malformedSent} malformed${malformed ? ` (${malformed})` : ''}`,
    `  delivery  ${r.unacked} unacked, ${r.retries} retries, ${r.errors} errors${r.lastError ? ` (last: ${r.lastError})` : ''}`,
  ].join('\n');
}
