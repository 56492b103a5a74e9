/**
 * Reads a RIFF/WAVE file (or its 64-bit-size RF64/BW64 form): 16-bit integer PCM, the format hand-held leak
 * loggers export; the 24/32-bit integer and 32/64-bit float PCM that
 * data-acquisition units and audio tools write; and the 8-bit formats of
 * older and telephone-grade recorders (unsigned PCM, G.711 A-law and µ-law).
 * A recording converted to 16 bits first would lose nothing the model uses,
 * but an engineer should not have to convert it. A file of several channels
 * is read one channel at a time, chosen by the caller, never mixed: two
 * channels are often two sensors (a correlator's pair), and averaging them
 * would invent a recording nobody made.
 */
export interface WavAudio {
  readonly sampleRateHz: number;
  /** Samples scaled to [-1, 1). */
  readonly samples: Float32Array;
}

export interface ReadWavOptions {
  /** Which channel to read, 1 to the file's count (as a recorder labels them); required where it has more than one. */
  readonly channel?: number | undefined;
}

export type WavErrorCode = 'WAV_NOT_RIFF' | 'WAV_NO_FORMAT' | 'WAV_NO_DATA' | 'WAV_FORMAT_UNSUPPORTED' | 'WAV_TRUNCATED' | 'WAV_CHANNEL_REQUIRED' | 'WAV_NO_SUCH_CHANNEL';

export class WavError extends Error {
  readonly code: WavErrorCode;
  constructor(code: WavErrorCode, message: string) {
    super(message);
    this.name = 'WavError';
    this.code = code;
  }
}

/** RIFF; RF64 (EBU Tech 3306) and BW64 (ITU-R BS.2088), which recorders write past 4 GB or by setting, are RIFF with 64-bit sizes in a ds64 chunk. */
const RIFF_TAGS: readonly string[] = ['RIFF', 'RF64', 'BW64'];
const PCM = 1;
const IEEE_FLOAT = 3;
const A_LAW = 6;
const MU_LAW = 7;
const EXTENSIBLE = 0xfffe;

/** G.711 µ-law: the byte is stored inverted; sign, 3-bit exponent, 4-bit mantissa, bias 0x84 (ITU-T G.711). */
function muLaw(byte: number): number {
  const u = ~byte & 0xff;
  const magnitude = (((u & 0x0f) << 3) + 0x84) << ((u >> 4) & 7);
  return (u & 0x80 ? 0x84 - magnitude : magnitude - 0x84) / 32768;
}

/** G.711 A-law: even bits inverted (0x55); a set sign bit is positive; segment 0 is linear (ITU-T G.711). */
function aLaw(byte: number): number {
  const a = byte ^ 0x55;
  const exponent = (a >> 4) & 7;
  const mantissa = (a & 0x0f) << 4;
  const magnitude = exponent === 0 ? mantissa + 8 : (mantissa + 0x108) << (exponent - 1);
  return (a & 0x80 ? magnitude : -magnitude) / 32768;
}

type SampleReader = (view: DataView, at: number) => number;
/** Sample readers by format code and bits, scaled to [-1, 1). */
const READERS: Record<string, SampleReader> = {
  // 8-bit PCM is unsigned, centred on 128.
  [`${PCM}/8`]: (v, at) => (v.getUint8(at) - 128) / 128,
  [`${A_LAW}/8`]: (v, at) => aLaw(v.getUint8(at)),
  [`${MU_LAW}/8`]: (v, at) => muLaw(v.getUint8(at)),
  [`${PCM}/16`]: (v, at) => v.getInt16(at, true) / 32768,
  // Little-endian 24-bit: the low two bytes unsigned, the high byte signed.
  [`${PCM}/24`]: (v, at) => (v.getUint16(at, true) + v.getInt8(at + 2) * 65536) / 8388608,
  [`${PCM}/32`]: (v, at) => v.getInt32(at, true) / 2147483648,
  [`${IEEE_FLOAT}/32`]: (v, at) => v.getFloat32(at, true),
  [`${IEEE_FLOAT}/64`]: (v, at) => v.getFloat64(at, true),
};
/** Above any recorder's rate (768 kHz is the highest in audio interfaces). */
const MAX_SAMPLE_RATE_HZ = 768_000;

export function readWav(bytes: Uint8Array, opts: ReadWavOptions = {}): WavAudio {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (at: number) => String.fromCharCode(...bytes.subarray(at, at + 4));
  if (bytes.byteLength < 12 || !RIFF_TAGS.includes(tag(0)) || tag(8) !== 'WAVE') throw new WavError('WAV_NOT_RIFF', 'not a RIFF/WAVE file');
  const riffSize = view.getUint32(4, true);
  let format: { channels: number; rate: number; bits: number; code: number } | undefined;
  /** RF64/BW64: the data chunk's 64-bit size from the ds64 chunk (its 32-bit field then reads 0xFFFFFFFF). */
  let ds64DataSize: number | undefined;
  let offset = 12;
  while (offset + 8 <= bytes.byteLength) {
    const id = tag(offset);
    let size = view.getUint32(offset + 4, true);
    const body = offset + 8;
    if (id === 'ds64' && size >= 16 && body + 16 <= bytes.byteLength) {
      ds64DataSize = view.getUint32(body + 8, true) + view.getUint32(body + 12, true) * 2 ** 32;
    } else if (id === 'fmt ') {
      if (size < 16 || body + 16 > bytes.byteLength) throw new WavError('WAV_TRUNCATED', 'fmt chunk is cut short');
      let code = view.getUint16(body, true);
      // WAVE_FORMAT_EXTENSIBLE carries the real format in its sub-format GUID.
      if (code === EXTENSIBLE && size >= 40) code = view.getUint16(body + 24, true);
      format = { code, channels: view.getUint16(body + 2, true), rate: view.getUint32(body + 4, true), bits: view.getUint16(body + 14, true) };
    } else if (id === 'data') {
      if (!format) throw new WavError('WAV_NO_FORMAT', 'data chunk before any fmt chunk');
      const read = READERS[`${format.code}/${format.bits}`];
      if (!read || format.channels < 1) {
        throw new WavError(
          'WAV_FORMAT_UNSUPPORTED',
          `need integer PCM of 8, 16, 24 or 32 bits, float PCM of 32 or 64 bits, or 8-bit A-law or µ-law; this file is ${format.channels} channel(s), ${format.bits}-bit, format code ${format.code}`,
        );
      }
      const channel = opts.channel ?? (format.channels === 1 ? 1 : undefined);
      if (channel === undefined) {
        throw new WavError('WAV_CHANNEL_REQUIRED', `${format.channels} channels (often one sensor each): choose one, 1 to ${format.channels}`);
      }
      if (!Number.isInteger(channel) || channel < 1 || channel > format.channels) {
        throw new WavError('WAV_NO_SUCH_CHANNEL', `channel ${channel} asked for; this file has ${format.channels} (1 to ${format.channels})`);
      }
      if (format.rate < 1 || format.rate > MAX_SAMPLE_RATE_HZ) {
        // A zero rate (found by fuzzing) would reach the resampler as a division by zero.
        throw new WavError('WAV_FORMAT_UNSUPPORTED', `sample rate ${format.rate} Hz outside 1..${MAX_SAMPLE_RATE_HZ}`);
      }
      if (size === 0xffffffff && ds64DataSize !== undefined) size = Math.min(ds64DataSize, Number.MAX_SAFE_INTEGER);
      // A recorder stopped before it finalised the header leaves the sizes at 0 with its samples after them
      // (a finalised empty recording's RIFF size covers the file exactly): read those to the end.
      if (size === 0 && riffSize + 8 !== bytes.byteLength) size = bytes.byteLength - body;
      // Some recorders write a data size larger than what they flushed; use what is there.
      const available = Math.min(size, bytes.byteLength - body);
      const width = format.bits / 8;
      // Channels interleave sample by sample; a last frame cut short is dropped whole.
      const stride = width * format.channels;
      if (available < stride) throw new WavError('WAV_TRUNCATED', 'data chunk holds no samples');
      const count = Math.floor(available / stride);
      const samples = new Float32Array(count);
      const first = body + (channel - 1) * width;
      for (let i = 0; i < count; i++) samples[i] = read(view, first + i * stride);
      if (format.code === IEEE_FLOAT && !samples.every(Number.isFinite)) {
        // A NaN would reach the model as a NaN score for every window it touches.
        throw new WavError('WAV_FORMAT_UNSUPPORTED', 'float samples include NaN or infinity');
      }
      return { sampleRateHz: format.rate, samples };
    }
    offset = body + size + (size % 2); // chunks are padded to even length
  }
  throw new WavError(format ? 'WAV_NO_DATA' : 'WAV_NO_FORMAT', format ? 'no data chunk' : 'no fmt chunk');
}

/** Writes mono 16-bit PCM as WAV (tests, and exporting a stored frame to listen to). */
export function writeWav(samples: Int16Array, sampleRateHz: number): Uint8Array {
  const out = new Uint8Array(44 + samples.length * 2);
  const view = new DataView(out.buffer);
  const put = (at: number, s: string) => [...s].forEach((c, i) => (out[at + i] = c.charCodeAt(0)));
  put(0, 'RIFF');
  view.setUint32(4, 36 + samples.length * 2, true);
  put(8, 'WAVE');
  put(12, 'fmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, PCM, true);
  view.setUint16(22, 1, true);
  view.setUint32(24, sampleRateHz, true);
  view.setUint32(28, sampleRateHz * 2, true);
  view.setUint16(32, 2, true);
  view.setUint16(34, 16, true);
  put(36, 'data');
  view.setUint32(40, samples.length * 2, true);
  samples.forEach((s, i) => view.setInt16(44 + i * 2, s, true));
  return out;
}
