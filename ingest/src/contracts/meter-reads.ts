import Type, { type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import { accept, reject, type Decoded, type RejectionCode } from './rejection.ts';
import { parseIsoTimestamp, timestampProblem, type DecodeLimits } from './limits.ts';
import { parseJsonPayload } from './json-payload.ts';

/**
 * Status flags a meter raises itself (PARTS.md: Kamstrup-style alarm codes).
 * They are inputs to the meter-side alert rules, beside our own.
 */
export const METER_FLAGS = ['leak', 'reverse', 'tamper', 'burst', 'dry', 'low_battery'] as const;
export type MeterFlag = (typeof METER_FLAGS)[number];

/**
 * Payload of `water/v1/meters/{meterId}/reads`. The schema is the contract's
 * documentation: `meterReadsJsonSchema` is what the README shows.
 */
export const MeterReadsPayload = Type.Object(
  {
    reads: Type.Array(
      Type.Object(
        {
          ts: Type.String({ description: 'ISO 8601 with offset: end of the interval the register closes' }),
          registerL: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'cumulative register, litres' }),
          flags: Type.Optional(Type.Array(Type.Enum(METER_FLAGS), { maxItems: METER_FLAGS.length })),
        },
        { additionalProperties: false },
      ),
      { minItems: 1 },
    ),
  },
  { additionalProperties: false },
);
export type MeterReadsPayload = Static<typeof MeterReadsPayload>;
export const meterReadsJsonSchema: unknown = MeterReadsPayload;

const checkPayload = Compile(MeterReadsPayload);

/** One interval read, as stored: the register at `ts`. */
export interface MeterRead {
  readonly meterId: string;
  /** Milliseconds since the Unix epoch. */
  readonly ts: number;
  /** Cumulative register in integer litres: billing needs exact integers. */
  readonly registerL: number;
  readonly flags: readonly MeterFlag[];
}

export interface MeterReadBatch {
  readonly meterId: string;
  readonly reads: readonly MeterRead[];
  /** Reads repeated verbatim inside the batch, dropped here. */
  readonly repeatedInBatch: number;
}

/** Maps the first schema error to the most specific stable code. */
function shapeRejection(value: unknown): { ok: false; rejection: { code: RejectionCode; message: string } } {
  const first = checkPayload.Errors(value)[0];
  const path = first?.instancePath ?? '';
  const where = path === '' ? 'payload' : path;
  const detail = `${where}: ${first?.message ?? 'does not match the meter reads schema'}`;
  if (path === '/reads' && first?.keyword === 'minItems') return reject('READS_BATCH_EMPTY', 'batch holds no reads');
  if (/^\/reads\/\d+\/registerL$/.test(path)) return reject('READ_REGISTER_INVALID', `${detail} (a non-negative integer of litres)`);
  if (/^\/reads\/\d+\/ts$/.test(path)) return reject('READ_TS_INVALID', `${detail} (an ISO 8601 string with offset)`);
  if (/^\/reads\/\d+\/flags\/\d+$/.test(path)) {
    return reject('READ_FLAG_UNKNOWN', `${detail} (one of ${METER_FLAGS.join(', ')})`);
  }
  return reject('READS_SHAPE_INVALID', detail);
}

export function decodeMeterReads(payload: Uint8Array, meterId: string, nowMs: number, limits: DecodeLimits): Decoded<MeterReadBatch> {
  const parsed = parseJsonPayload(payload, limits.maxPayloadBytes, 'READS_JSON_INVALID');
  if (!parsed.ok) return parsed;
  const value = parsed.value;
  if (!checkPayload.Check(value)) return shapeRejection(value);
  const raw = value.reads;
  if (raw.length > limits.maxReadsPerBatch) {
    return reject('READS_BATCH_TOO_LARGE', `batch of ${raw.length} reads exceeds ${limits.maxReadsPerBatch}`);
  }

  const byTs = new Map<number, MeterRead>();
  let repeatedInBatch = 0;
  for (let i = 0; i < raw.length; i++) {
    const r = raw[i]!;
    const ts = parseIsoTimestamp(r.ts);
    if (ts === undefined) return reject('READ_TS_INVALID', `/reads/${i}/ts: '${r.ts.slice(0, 40)}' is not ISO 8601 with offset`);
    const problem = timestampProblem(ts, nowMs, limits);
    if (problem === 'future') return reject('READ_TS_FUTURE', `/reads/${i}/ts: ${r.ts} is ahead of the server clock`);
    if (problem === 'old') return reject('READ_TS_TOO_OLD', `/reads/${i}/ts: ${r.ts} is older than the accepted age`);
    const read: MeterRead = { meterId, ts, registerL: r.registerL, flags: r.flags ? [...new Set(r.flags)] : [] };
    const earlier = byTs.get(ts);
    if (earlier) {
      // A device retry can repeat a read inside one batch; two different
      // registers for one instant mean a broken device, and billing cannot pick.
      if (earlier.registerL !== read.registerL) {
        return reject('READ_TS_REPEATED_IN_BATCH', `/reads/${i}/ts: ${r.ts} appears twice with different registers`);
      }
      repeatedInBatch++;
      continue;
    }
    byTs.set(ts, read);
  }
  return accept({ meterId, reads: [...byTs.values()], repeatedInBatch });
}

/** What a meter sends; used by simulators and tests. */
export function encodeMeterReads(reads: readonly { ts: number | string; registerL: number; flags?: readonly MeterFlag[] }[]): Buffer {
  const body: MeterReadsPayload = {
    reads: reads.map((r) => {
      const ts = typeof r.ts === 'number' ? new Date(r.ts).toISOString() : r.ts;
      return r.flags && r.flags.length > 0 ? { ts, registerL: r.registerL, flags: [...r.flags] } : { ts, registerL: r.registerL };
    }),
  };
  return Buffer.from(JSON.stringify(body));
}
