import { describe, expect, it } from 'vitest';
import {
  DEFAULT_LIMITS,
  REJECTION_CODES,
  decodeAcousticFrame,
  decodeDeviceStatus,
  decodeMeterReads,
  encodeAcousticFrame,
  encodeDeviceStatus,
  encodeMeterReads,
  parseTopic,
  topics,
  type Decoded,
  type RejectionCode,
} from './index.ts';

const NOW = Date.parse('2026-11-20T03:00:00Z');
const limits = DEFAULT_LIMITS;
const json = (v: unknown) => Buffer.from(JSON.stringify(v));
const seen = new Set<RejectionCode>();

function expectCode<T>(result: Decoded<T>, code: RejectionCode): void {
  expect(result.ok ? 'accepted' : result.rejection.code).toBe(code);
  if (!result.ok) expect(result.rejection.message.length).toBeGreaterThan(0);
  seen.add(code);
}

function frame(patch: (b: Buffer) => void = () => {}, samples = 800): Buffer {
  const b = encodeAcousticFrame({ startMs: NOW - 1000, sampleRateHz: 8000, gainDb: 20, samples: new Int16Array(samples).fill(7) });
  patch(b);
  return b;
}

describe('topics', () => {
  it('round-trips every device topic', () => {
    expect(parseTopic(topics.meterReads('M-1'))).toEqual({ ok: true, value: { kind: 'meter-reads', deviceKind: 'meter', deviceId: 'M-1' } });
    expect(parseTopic(topics.sensorAcoustic('S.9'))).toMatchObject({ ok: true, value: { kind: 'sensor-acoustic', deviceId: 'S.9' } });
    expect(parseTopic(topics.meterStatus('a'))).toMatchObject({ ok: true, value: { kind: 'meter-status' } });
    expect(parseTopic(topics.sensorStatus('b'))).toMatchObject({ ok: true, value: { kind: 'sensor-status' } });
  });
  it('rejects unknown topics and bad ids', () => {
    expectCode(parseTopic('water/v2/meters/M1/reads'), 'TOPIC_UNKNOWN');
    expectCode(parseTopic('water/v1/meters/M1/acoustic'), 'TOPIC_UNKNOWN');
    expectCode(parseTopic('water/v1/meters/M1/reads/extra'), 'TOPIC_UNKNOWN');
    expectCode(parseTopic('water/v1/meters/-M1/reads'), 'DEVICE_ID_INVALID');
    expectCode(parseTopic(`water/v1/meters/${'x'.repeat(65)}/reads`), 'DEVICE_ID_INVALID');
    expectCode(parseTopic('water/v1/sensors//acoustic'), 'DEVICE_ID_INVALID');
  });
});

describe('meter reads', () => {
  const decode = (payload: Buffer, now = NOW) => decodeMeterReads(payload, 'M-1', now, limits);

  it('decodes a batch, converting times to ms and dropping verbatim repeats', () => {
    const payload = encodeMeterReads([
      { ts: '2026-11-20T01:00:00+09:00', registerL: 100 },
      { ts: '2026-11-19T16:00:00Z', registerL: 100 }, // the same instant, another offset
      { ts: NOW - 3_600_000, registerL: 140, flags: ['leak', 'leak'] },
    ]);
    const result = decode(payload);
    expect(result).toEqual({
      ok: true,
      value: {
        meterId: 'M-1',
        repeatedInBatch: 1,
        reads: [
          { meterId: 'M-1', ts: Date.parse('2026-11-19T16:00:00Z'), registerL: 100, flags: [] },
          { meterId: 'M-1', ts: NOW - 3_600_000, registerL: 140, flags: ['leak'] },
        ],
      },
    });
  });
  it('has a code for every way a batch can be wrong', () => {
    const ok = { ts: '2026-11-20T02:00:00Z', registerL: 5 };
    expectCode(decode(Buffer.alloc(limits.maxPayloadBytes + 1, 32)), 'PAYLOAD_TOO_LARGE');
    expectCode(decode(Buffer.from('{"reads": [')), 'READS_JSON_INVALID');
    expectCode(decode(json([ok])), 'READS_SHAPE_INVALID');
    expectCode(decode(json({ reads: [ok], meterId: 'M-2' })), 'READS_SHAPE_INVALID');
    expectCode(decode(json({ reads: [] })), 'READS_BATCH_EMPTY');
    expectCode(decode(json({ reads: Array.from({ length: limits.maxReadsPerBatch + 1 }, (_, i) => ({ ...ok, registerL: i })) })), 'READS_BATCH_TOO_LARGE');
    expectCode(decode(json({ reads: [{ ...ok, ts: '2026-11-20T02:00:00' }] })), 'READ_TS_INVALID');
    expectCode(decode(json({ reads: [{ ...ok, ts: '2026-13-45T02:00:00Z' }] })), 'READ_TS_INVALID');
    expectCode(decode(json({ reads: [{ ...ok, ts: 1763604000000 }] })), 'READ_TS_INVALID');
    expectCode(decode(json({ reads: [{ ...ok, ts: '2026-11-20T03:10:00Z' }] })), 'READ_TS_FUTURE');
    expectCode(decode(json({ reads: [{ ...ok, ts: '2024-01-01T00:00:00Z' }] })), 'READ_TS_TOO_OLD');
    expectCode(decode(json({ reads: [{ ...ok, registerL: -1 }] })), 'READ_REGISTER_INVALID');
    expectCode(decode(json({ reads: [{ ...ok, registerL: 1.5 }] })), 'READ_REGISTER_INVALID');
    expectCode(decode(json({ reads: [{ ...ok, registerL: '12' }] })), 'READ_REGISTER_INVALID');
    expectCode(decode(json({ reads: [{ ...ok, flags: ['leak', 'gremlins'] }] })), 'READ_FLAG_UNKNOWN');
    expectCode(decode(json({ reads: [ok, { ...ok, registerL: 6 }] })), 'READ_TS_REPEATED_IN_BATCH');
  });
  it('accepts a clock a little ahead, within the configured skew', () => {
    expect(decode(json({ reads: [{ ts: '2026-11-20T03:04:00Z', registerL: 1 }] })).ok).toBe(true);
  });
});

describe('acoustic frames', () => {
  const decode = (payload: Uint8Array) => decodeAcousticFrame(payload, 'S-1', NOW, limits);

  it('round-trips header and PCM, also from an unaligned buffer', () => {
    const samples = Int16Array.from([0, 1, -1, 32767, -32768, 1234]);
    const encoded = encodeAcousticFrame({ startMs: NOW - 5000, sampleRateHz: 8000, gainDb: 12.5, samples });
    const unaligned = new Uint8Array(encoded.length + 1).subarray(1);
    unaligned.set(encoded);
    const result = decode(unaligned);
    expect(result).toEqual({ ok: true, value: { sensorId: 'S-1', startMs: NOW - 5000, sampleRateHz: 8000, gainDb: 12.5, samples } });
  });
  it('skips header bytes it does not know', () => {
    const base = frame(undefined, 4);
    const longer = Buffer.concat([base.subarray(0, 28), Buffer.alloc(4), base.subarray(28)]);
    longer.writeUInt8(32, 5);
    expect(decode(longer).ok).toBe(true);
  });
  it('has a code for every way a frame can be wrong', () => {
    expectCode(decode(Buffer.alloc(limits.maxPayloadBytes + 2)), 'PAYLOAD_TOO_LARGE');
    expectCode(decode(frame().subarray(0, 27)), 'FRAME_TOO_SHORT');
    expectCode(decode(frame((b) => b.write('RIFF', 0))), 'FRAME_MAGIC_INVALID');
    expectCode(decode(frame((b) => b.writeUInt8(2, 4))), 'FRAME_VERSION_UNSUPPORTED');
    expectCode(decode(frame((b) => b.writeUInt8(20, 5))), 'FRAME_HEADER_INVALID');
    expectCode(decode(frame((b) => b.writeUInt8(29, 5))), 'FRAME_HEADER_INVALID');
    expectCode(decode(frame((b) => b.writeUInt32LE(500, 8))), 'FRAME_SAMPLE_RATE_INVALID');
    expectCode(decode(frame((b) => b.writeUInt32LE(96_000, 8))), 'FRAME_SAMPLE_RATE_INVALID');
    expectCode(decode(frame((b) => b.writeBigUInt64LE(2n ** 60n, 12))), 'FRAME_TS_INVALID');
    expectCode(decode(frame((b) => b.writeBigUInt64LE(BigInt(NOW + 3_600_000), 12))), 'FRAME_TS_FUTURE');
    expectCode(decode(frame((b) => b.writeBigUInt64LE(0n, 12))), 'FRAME_TS_TOO_OLD');
    expectCode(decode(frame((b) => b.writeInt16LE(9000, 20))), 'FRAME_GAIN_INVALID');
    expectCode(decode(frame((b) => b.writeUInt32LE(0, 24))), 'FRAME_SAMPLE_COUNT_INVALID');
    expectCode(decode(frame((b) => b.writeUInt32LE(limits.maxSamplesPerFrame + 1, 24))), 'FRAME_SAMPLE_COUNT_INVALID');
    expectCode(decode(frame((b) => b.writeUInt32LE(801, 24))), 'FRAME_LENGTH_MISMATCH');
    expectCode(decode(frame().subarray(0, 28 + 799)), 'FRAME_LENGTH_MISMATCH');
  });
});

describe('device status', () => {
  const decode = (payload: Buffer) => decodeDeviceStatus(payload, 'meter', 'M-1', NOW, limits);
  it('round-trips', () => {
    const result = decode(encodeDeviceStatus({ ts: NOW, batteryPct: 81, firmware: '2.1.0' }));
    expect(result).toEqual({
      ok: true,
      value: { deviceId: 'M-1', deviceKind: 'meter', ts: NOW, batteryPct: 81, firmware: '2.1.0', rssiDbm: undefined, uptimeS: undefined },
    });
  });
  it('has a code for every way a status can be wrong', () => {
    expectCode(decode(Buffer.alloc(5000, 32)), 'PAYLOAD_TOO_LARGE');
    expectCode(decode(Buffer.from('nope')), 'STATUS_JSON_INVALID');
    expectCode(decode(json({ ts: '2026-11-20T02:00:00Z', batteryPct: 140 })), 'STATUS_SHAPE_INVALID');
    expectCode(decode(json({ ts: 'yesterday' })), 'STATUS_TS_INVALID');
    expectCode(decode(json({ ts: '2026-11-21T02:00:00Z' })), 'STATUS_TS_FUTURE');
    expectCode(decode(json({ ts: '2020-11-21T02:00:00Z' })), 'STATUS_TS_TOO_OLD');
  });
});

describe('rejection codes', () => {
  // READ_CONFLICT is decided against the store, so the pipeline tests own it.
  const decidedElsewhere: RejectionCode[] = ['READ_CONFLICT'];
  it('every decoder code is exercised by a test above', () => {
    const missing = REJECTION_CODES.filter((c) => !seen.has(c) && !decidedElsewhere.includes(c));
    expect(missing).toEqual([]);
  });
});
