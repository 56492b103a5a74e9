import { FRAME_HEADER_BYTES } from '@suido/ingest';
import { intBetween, pick } from '../random/distributions.ts';
import type { Rng } from '../random/prng.ts';
import type { MessageKind, OutMessage } from '../fleet/messages.ts';

/**
 * Ways a device gets a payload wrong, as firmware bugs and radio corruption
 * do. Each one is refused by the ingest decoders (a test holds them to that),
 * so every malformed message ends as one dead letter and none of its reads
 * is stored.
 */
export const MALFORMED_VARIANTS = {
  reads: ['json-truncated', 'ts-without-offset', 'register-negative', 'register-fraction', 'flag-unknown'],
  status: ['json-truncated', 'ts-without-offset', 'battery-out-of-range'],
  acoustic: ['frame-truncated', 'frame-too-short', 'frame-magic-invalid', 'frame-gain-invalid'],
} as const satisfies Record<MessageKind, readonly string[]>;

export type MalformedVariant = (typeof MALFORMED_VARIANTS)[MessageKind][number];

/** A corrupted copy of a well-formed message; it carries no valid reads. */
export function malform(message: OutMessage, rng: Rng): OutMessage {
  const variant: MalformedVariant = pick(rng, MALFORMED_VARIANTS[message.kind]);
  return { ...message, payload: corrupt(message, variant, rng), reads: [], malformed: variant, duplicate: false };
}

function corrupt(message: OutMessage, variant: MalformedVariant, rng: Rng): Buffer {
  const payload = message.payload;
  switch (variant) {
    case 'json-truncated':
      // Any strict prefix of a JSON object lacks its closing brace.
      return payload.subarray(0, intBetween(rng, 1, payload.length - 1));
    case 'ts-without-offset':
      return editJson(message, rng, (item) => {
        item.ts = String(item.ts).replace(/(Z|[+-]\d{2}:\d{2})$/, '');
      });
    case 'register-negative':
      return editJson(message, rng, (item) => {
        item.registerL = -1 - Number(item.registerL);
      });
    case 'register-fraction':
      return editJson(message, rng, (item) => {
        item.registerL = Number(item.registerL) + 0.5;
      });
    case 'flag-unknown':
      return editJson(message, rng, (item) => {
        item.flags = ['gremlins'];
      });
    case 'battery-out-of-range':
      return editJson(message, rng, (item) => {
        item.batteryPct = 140;
      });
    case 'frame-truncated': {
      // Cut inside the PCM: the header still promises every sample.
      const pcmBytes = payload.length - FRAME_HEADER_BYTES;
      return Buffer.from(payload.subarray(0, FRAME_HEADER_BYTES + intBetween(rng, 0, pcmBytes - 1)));
    }
    case 'frame-too-short':
      return Buffer.from(payload.subarray(0, intBetween(rng, 0, FRAME_HEADER_BYTES - 1)));
    case 'frame-magic-invalid': {
      const out = Buffer.from(payload);
      out.write('RIFF', 0, 'latin1');
      return out;
    }
    case 'frame-gain-invalid': {
      // 90 dB: beyond any preamp, so the level could not be normalised.
      const out = Buffer.from(payload);
      out.writeInt16LE(9000, 20);
      return out;
    }
  }
}

/** Re-encodes our own JSON payload with one item (a read, or the status itself) edited. */
function editJson(message: OutMessage, rng: Rng, edit: (item: Record<string, unknown>) => void): Buffer {
  const body = JSON.parse(message.payload.toString('utf8')) as Record<string, unknown>;
  if (Array.isArray(body.reads)) {
    const reads = body.reads as Record<string, unknown>[];
    edit(reads[intBetween(rng, 0, reads.length - 1)]!);
  } else {
    edit(body);
  }
  return Buffer.from(JSON.stringify(body));
}
