import { chance } from '../random/distributions.ts';
import type { Rng } from '../random/prng.ts';
import type { OutMessage } from '../fleet/messages.ts';
import type { FaultRates } from '../scenario/scenario.ts';
import { malform } from './malformed.ts';

/**
 * Applies the per-message faults to what a device sends in one session:
 * a malformed payload replaces the message (its reads are lost, as they
 * would be from a device that sends garbage); a duplicate follows the
 * original. A malformed message is never duplicated, so the dead letters a
 * run leaves are exactly its malformed messages.
 */
export function withMessageFaults(messages: readonly OutMessage[], rates: FaultRates, rng: Rng): OutMessage[] {
  const out: OutMessage[] = [];
  for (const m of messages) {
    // Both draws always happen, so changing one rate does not shift the
    // stream under the other.
    const bad = chance(rng, rates.malformed);
    const twice = chance(rng, rates.duplicate);
    if (bad) {
      out.push(malform(m, rng));
      continue;
    }
    out.push(m);
    if (twice) out.push({ ...m, duplicate: true });
  }
  return out;
}
