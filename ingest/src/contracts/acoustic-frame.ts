import { accept, reject, type Decoded } from './rejection.ts';
import { timestampProblem, type DecodeLimits } from './limits.ts';

/**
 * Acoustic frame, format version 1: a fixed little-endian header, then mono
 * int16 PCM, little-endian.
 *
 *   offset size  field
 *        0    4  magic "SUAF"
 *        4    1  format version (1)
 *        5    1  header length in bytes (>= 28; extra bytes are skipped, so
 *                 a v1 header can grow without breaking old decoders)
 *        6    2  reserved, 0
 *        8    4  sample rate, Hz (uint32)
 *       12    8  start time, ms since the Unix epoch (uint64)
 *       20    2  gain, hundredths of a dB (int16): the sensor's preamp gain,
 *                 so that level = PCM / 10^(gain/20) is comparable across sensors
 *       22    2  reserved, 0
 *       24    4  sample count (uint32)
 *       28    …  PCM samples, int16 LE
 */
export const FRAME_MAGIC = 0x46415553; // "SUAF" read as uint32 LE
export const FRAME_FORMAT_VERSION = 1;
export const FRAME_HEADER_BYTES = 28;
const MAX_HEADER_BYTES = 255;
const MAX_DATE_MS = 8.64e15;
const MIN_GAIN_DB = -40;
const MAX_GAIN_DB = 80;

export interface AcousticFrame {
  readonly sensorId: string;
  /** Milliseconds since the Unix epoch of the first sample. */
  readonly startMs: number;
  readonly sampleRateHz: number;
  readonly gainDb: number;
  readonly samples: Int16Array;
}

export function decodeAcousticFrame(payload: Uint8Array, sensorId: string, nowMs: number, limits: DecodeLimits): Decoded<AcousticFrame> {
  if (payload.byteLength > limits.maxPayloadBytes) {
    return reject('PAYLOAD_TOO_LARGE', `payload of ${payload.byteLength} bytes exceeds ${limits.maxPayloadBytes}`);
  }
  if (payload.byteLength < FRAME_HEADER_BYTES) {
    return reject('FRAME_TOO_SHORT', `${payload.byteLength} bytes is shorter than the ${FRAME_HEADER_BYTES}-byte header`);
  }
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  if (view.getUint32(0, true) !== FRAME_MAGIC) return reject('FRAME_MAGIC_INVALID', 'frame does not start with "SUAF"');
  const version = view.getUint8(4);
  if (version !== FRAME_FORMAT_VERSION) {
    return reject('FRAME_VERSION_UNSUPPORTED', `format version ${version}; this server reads ${FRAME_FORMAT_VERSION}`);
  }
  const headerBytes = view.getUint8(5);
  if (headerBytes < FRAME_HEADER_BYTES || headerBytes > MAX_HEADER_BYTES || headerBytes % 2 !== 0) {
    return reject('FRAME_HEADER_INVALID', `header length ${headerBytes} must be an even number >= ${FRAME_HEADER_BYTES}`);
  }
  const sampleRateHz = view.getUint32(8, true);
  if (sampleRateHz < limits.minSampleRateHz || sampleRateHz > limits.maxSampleRateHz) {
    return reject('FRAME_SAMPLE_RATE_INVALID', `sample rate ${sampleRateHz} Hz outside ${limits.minSampleRateHz}-${limits.maxSampleRateHz}`);
  }
  const startBig = view.getBigUint64(12, true);
  // Beyond ±8.64e15 ms a JavaScript Date is invalid (found by fuzzing: the
  // rejection message's toISOString() threw on such a start time).
  if (startBig > BigInt(MAX_DATE_MS)) return reject('FRAME_TS_INVALID', 'start time is not a valid epoch in ms');
  const startMs = Number(startBig);
  const problem = timestampProblem(startMs, nowMs, limits);
  if (problem === 'future') return reject('FRAME_TS_FUTURE', `start time ${new Date(startMs).toISOString()} is ahead of the server clock`);
  if (problem === 'old') return reject('FRAME_TS_TOO_OLD', `start time ${new Date(startMs).toISOString()} is older than the accepted age`);
  const gainDb = view.getInt16(20, true) / 100;
  if (gainDb < MIN_GAIN_DB || gainDb > MAX_GAIN_DB) {
    return reject('FRAME_GAIN_INVALID', `gain ${gainDb} dB outside ${MIN_GAIN_DB}..${MAX_GAIN_DB} dB`);
  }
  const sampleCount = view.getUint32(24, true);
  if (sampleCount === 0 || sampleCount > limits.maxSamplesPerFrame) {
    return reject('FRAME_SAMPLE_COUNT_INVALID', `sample count ${sampleCount} outside 1..${limits.maxSamplesPerFrame}`);
  }
  const pcmBytes = payload.byteLength - headerBytes;
  if (pcmBytes !== sampleCount * 2) {
    return reject('FRAME_LENGTH_MISMATCH', `header says ${sampleCount} samples (${sampleCount * 2} bytes), payload carries ${pcmBytes} bytes`);
  }
  return accept({ sensorId, startMs, sampleRateHz, gainDb, samples: readPcm(payload, headerBytes, sampleCount) });
}

/** Copies the PCM out of the packet (aligned, independent of the MQTT buffer). */
function readPcm(payload: Uint8Array, offset: number, count: number): Int16Array {
  const samples = new Int16Array(count);
  if (IS_LITTLE_ENDIAN) {
    new Uint8Array(samples.buffer).set(payload.subarray(offset, offset + count * 2));
  } else {
    const view = new DataView(payload.buffer, payload.byteOffset + offset, count * 2);
    for (let i = 0; i < count; i++) samples[i] = view.getInt16(i * 2, true);
  }
  return samples;
}

const IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** What a sensor sends; used by simulators and tests. */
export function encodeAcousticFrame(frame: Omit<AcousticFrame, 'sensorId'>): Buffer {
  const out = Buffer.alloc(FRAME_HEADER_BYTES + frame.samples.length * 2);
  out.writeUInt32LE(FRAME_MAGIC, 0);
  out.writeUInt8(FRAME_FORMAT_VERSION, 4);
  out.writeUInt8(FRAME_HEADER_BYTES, 5);
  out.writeUInt32LE(frame.sampleRateHz, 8);
  out.writeBigUInt64LE(BigInt(frame.startMs), 12);
  out.writeInt16LE(Math.round(frame.gainDb * 100), 20);
  out.writeUInt32LE(frame.samples.length, 24);
  for (let i = 0; i < frame.samples.length; i++) out.writeInt16LE(frame.samples[i]!, FRAME_HEADER_BYTES + i * 2);
  return out;
}
