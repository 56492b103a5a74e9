import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_LIMITS,
  FRAME_HEADER_BYTES,
  METER_FLAGS,
  REJECTION_CODES,
  decodeAcousticFrame,
  decodeDeviceStatus,
  decodeMeterReads,
  encodeAcousticFrame,
  encodeMeterReads,
  parseTopic,
  type Decoded,
} from './index.ts';

/**
 * Property-based tests of every device payload decoder: whatever bytes a
 * device (or an attacker) sends, a decoder returns a value or a rejection
 * with a known code — it never throws, since one throw in the broker's
 * publish hook would take the device's connection (and its batch) with it.
 * FUZZ_RUNS scales the case count (CI default below; the count is in each
 * test's name so the run log records how many cases ran).
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 2000);
// A fixed seed by default, so that CI is reproducible; FUZZ_SEED=random explores new cases.
if (process.env.FUZZ_SEED !== 'random') fc.configureGlobal({ seed: Number(process.env.FUZZ_SEED ?? 20261125) });
const NOW = Date.parse('2026-11-20T03:00:00Z');
const KNOWN = new Set<string>(REJECTION_CODES);

function expectDecoded<T>(result: Decoded<T>): void {
  if (!result.ok) {
    expect(KNOWN.has(result.rejection.code), result.rejection.code).toBe(true);
    expect(result.rejection.message.length).toBeGreaterThan(0);
  }
}

const jsonBytes = fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v) ?? 'null'));
/** Bytes near valid JSON: a valid document with one byte changed, or cut short. */
function mutated(valid: fc.Arbitrary<Buffer>): fc.Arbitrary<Buffer> {
  return fc.tuple(valid, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.boolean()).map(([buf, at, byte, cut]) => {
    if (buf.length === 0) return buf;
    const i = at % buf.length;
    if (cut) return buf.subarray(0, i);
    const copy = Buffer.from(buf);
    copy[i] = byte;
    return copy;
  });
}

const readArb = fc.record({
  ts: fc.integer({ min: NOW - DEFAULT_LIMITS.maxAgeMs, max: NOW }),
  registerL: fc.maxSafeNat(),
  flags: fc.subarray([...METER_FLAGS]),
});
const validReads = fc.array(readArb, { minLength: 1, maxLength: 50 });

describe('meter reads decoder (fuzz)', () => {
  it(`never throws on ${RUNS} arbitrary byte strings`, () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => expectDecoded(decodeMeterReads(bytes, 'M-1', NOW, DEFAULT_LIMITS))), {
      numRuns: RUNS,
    });
  });

  it(`never throws on ${RUNS} arbitrary JSON documents`, () => {
    fc.assert(fc.property(jsonBytes, (bytes) => expectDecoded(decodeMeterReads(bytes, 'M-1', NOW, DEFAULT_LIMITS))), { numRuns: RUNS });
  });

  it(`round-trips ${RUNS} valid batches, one read per instant`, () => {
    fc.assert(
      fc.property(validReads, (reads) => {
        // Two reads at one instant with different registers are a rejection (tested
        // in contracts.test.ts); keep the first per instant so the batch is valid.
        const unique = [...new Map(reads.map((r) => [r.ts, r])).values()];
        const result = decodeMeterReads(encodeMeterReads(unique), 'M-1', NOW, DEFAULT_LIMITS);
        expect(result.ok).toBe(true);
        if (!result.ok) return;
        expect(result.value.reads.map((r) => [r.ts, r.registerL, [...r.flags].sort()])).toEqual(
          unique.map((r) => [r.ts, r.registerL, [...r.flags].sort()]),
        );
      }),
      { numRuns: RUNS },
    );
  });

  it(`never throws on ${RUNS} valid batches with one byte changed or cut short`, () => {
    const valid = validReads.map((reads) => encodeMeterReads(reads));
    fc.assert(fc.property(mutated(valid), (bytes) => expectDecoded(decodeMeterReads(bytes, 'M-1', NOW, DEFAULT_LIMITS))), { numRuns: RUNS });
  });
});

const frameArb = fc.record({
  startMs: fc.integer({ min: NOW - DEFAULT_LIMITS.maxAgeMs, max: NOW }),
  sampleRateHz: fc.integer({ min: DEFAULT_LIMITS.minSampleRateHz, max: DEFAULT_LIMITS.maxSampleRateHz }),
  gainDb: fc.integer({ min: -4000, max: 8000 }).map((g) => g / 100),
  samples: fc.array(fc.integer({ min: -32768, max: 32767 }), { minLength: 1, maxLength: 300 }).map((a) => Int16Array.from(a)),
});

describe('acoustic frame decoder (fuzz)', () => {
  it(`never throws on ${RUNS} arbitrary byte strings`, () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => expectDecoded(decodeAcousticFrame(bytes, 'S-1', NOW, DEFAULT_LIMITS))),
      { numRuns: RUNS },
    );
  });

  it(`round-trips ${RUNS} valid frames`, () => {
    fc.assert(
      fc.property(frameArb, (frame) => {
        const result = decodeAcousticFrame(encodeAcousticFrame(frame), 'S-1', NOW, DEFAULT_LIMITS);
        expect(result.ok).toBe(true);
        if (!result.ok) return;
        expect(result.value.startMs).toBe(frame.startMs);
        expect(result.value.sampleRateHz).toBe(frame.sampleRateHz);
        expect(result.value.gainDb).toBeCloseTo(frame.gainDb, 6);
        expect(Array.from(result.value.samples)).toEqual(Array.from(frame.samples));
      }),
      { numRuns: RUNS },
    );
  });

  it(`never throws on ${RUNS} valid frames with a header byte changed or the payload cut short`, () => {
    const arb = fc.tuple(frameArb, fc.nat(FRAME_HEADER_BYTES - 1), fc.integer({ min: 0, max: 255 }), fc.nat()).map(([frame, at, byte, cut]) => {
      const buf = Buffer.from(encodeAcousticFrame(frame));
      buf[at] = byte;
      return cut % 4 === 0 ? buf.subarray(0, cut % buf.length) : buf;
    });
    fc.assert(fc.property(arb, (bytes) => expectDecoded(decodeAcousticFrame(bytes, 'S-1', NOW, DEFAULT_LIMITS))), { numRuns: RUNS });
  });
});

describe('device status decoder and topic parser (fuzz)', () => {
  it(`status never throws on ${RUNS} arbitrary JSON documents or bytes`, () => {
    const arb = fc.oneof(jsonBytes, fc.uint8Array({ maxLength: 256 }).map((b) => Buffer.from(b)));
    fc.assert(fc.property(arb, (bytes) => expectDecoded(decodeDeviceStatus(bytes, 'meter', 'M-1', NOW, DEFAULT_LIMITS))), { numRuns: RUNS });
  });

  it(`topic parser never throws on ${RUNS} topics, including object-prototype names`, () => {
    // Names an object lookup might resolve through Object.prototype.
    const tricky = fc.constantFrom('constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'meters', 'sensors', 'reads', '');
    const segment = fc.oneof(tricky, fc.string({ maxLength: 12 }));
    const topic = fc.oneof(
      fc.string({ maxLength: 80 }),
      fc.tuple(segment, segment, segment).map(([a, id, b]) => `water/v1/${a}/${id}/${b}`),
    );
    fc.assert(fc.property(topic, (t) => expectDecoded(parseTopic(t))), { numRuns: RUNS });
  });
});
