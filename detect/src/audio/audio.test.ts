import { describe, expect, it } from 'vitest';
import { resample } from './resample.ts';
import { WavError, readWav, writeWav } from './wav.ts';

const tone = (hz: number, rate: number, seconds: number, amp = 0.5) =>
  Float32Array.from({ length: Math.round(rate * seconds) }, (_, i) => amp * Math.sin((2 * Math.PI * hz * i) / rate));
const rms = (x: Float32Array, from = 0, to = x.length) => Math.sqrt(x.subarray(from, to).reduce((s, v) => s + v * v, 0) / (to - from));

describe('resample', () => {
  it('keeps an in-band tone at its level, at non-integer ratios', () => {
    for (const rate of [8000, 11025, 10000, 16000]) {
      const out = resample(tone(440, rate, 1), rate, 4000);
      expect(out.length).toBe(4000);
      expect(rms(out, 200, 3800)).toBeCloseTo(0.5 / Math.SQRT2, 2);
      // The tone is still at 440 Hz: compare with a clean 4 kHz tone, sample by sample.
      const reference = tone(440, 4000, 1);
      let err = 0;
      for (let i = 200; i < 3800; i++) err = Math.max(err, Math.abs(out[i]! - reference[i]!));
      expect(err, `${rate} Hz`).toBeLessThan(0.01);
    }
  });
  it('removes what would alias into the model band', () => {
    // 3 kHz at 11,025 Hz would fold to 1 kHz at 4 kHz without the low-pass.
    const out = resample(tone(3000, 11025, 1), 11025, 4000);
    expect(rms(out, 200, 3800)).toBeLessThan(0.5 * 10 ** (-60 / 20));
  });
  it('is the identity at the same rate', () => {
    const x = tone(100, 4000, 0.1);
    expect(resample(x, 4000, 4000)).toEqual(x);
  });
});

/** A WAV file of any format code, bits and channels around the given data bytes. */
function rawWav(code: number, bits: number, channels: number, data: readonly number[]): Uint8Array {
  const out = new Uint8Array(44 + data.length);
  out.set(writeWav(new Int16Array(0), 8000).subarray(0, 44));
  const v = new DataView(out.buffer);
  v.setUint32(4, 36 + data.length, true);
  v.setUint16(20, code, true);
  v.setUint16(22, channels, true);
  v.setUint32(28, (8000 * channels * bits) / 8, true);
  v.setUint16(32, (channels * bits) / 8, true);
  v.setUint16(34, bits, true);
  v.setUint32(40, data.length, true);
  out.set(data, 44);
  return out;
}

describe('WAV', () => {
  it('round-trips mono 16-bit PCM', () => {
    const pcm = Int16Array.from([0, 1, -1, 32767, -32768, 1000]);
    const wav = readWav(writeWav(pcm, 8000));
    expect(wav.sampleRateHz).toBe(8000);
    expect(Array.from(wav.samples)).toEqual(Array.from(pcm, (s) => s / 32768));
  });
  it('reads 24 and 32-bit integer and 32 and 64-bit float mono PCM, WAVE_FORMAT_EXTENSIBLE too', () => {
    const values = [0, 0.5, -0.5, -1, 0.25];
    // A 16-bit header with its format code, bits and block alignment changed, and the data re-encoded.
    const wav = (code: number, bits: number, put: (v: DataView, at: number, x: number) => void, extensible = false) => {
      const width = bits / 8;
      const head = writeWav(new Int16Array(0), 8000).subarray(0, 36);
      const fmtExtra = extensible ? 24 : 0;
      const out = new Uint8Array(36 + fmtExtra + 8 + values.length * width);
      out.set(head);
      const v = new DataView(out.buffer);
      v.setUint32(16, 16 + fmtExtra, true);
      v.setUint16(20, extensible ? 0xfffe : code, true);
      v.setUint32(28, 8000 * width, true);
      v.setUint16(32, width, true);
      v.setUint16(34, bits, true);
      if (extensible) {
        v.setUint16(36, 22, true);
        v.setUint16(38, bits, true);
        v.setUint16(44, code, true); // the sub-format GUID starts with the format code
      }
      out.set([...'data'].map((c) => c.charCodeAt(0)), 36 + fmtExtra);
      v.setUint32(40 + fmtExtra, values.length * width, true);
      values.forEach((x, i) => put(v, 44 + fmtExtra + i * width, x));
      return out;
    };
    const int24 = (v: DataView, at: number, x: number) => {
      const n = Math.round(x * 8388608) & 0xffffff;
      v.setUint8(at, n & 0xff);
      v.setUint8(at + 1, (n >> 8) & 0xff);
      v.setUint8(at + 2, (n >> 16) & 0xff);
    };
    const files = [
      wav(1, 24, int24),
      wav(1, 32, (v, at, x) => v.setInt32(at, Math.round(x * 2147483648), true)),
      wav(3, 32, (v, at, x) => v.setFloat32(at, x, true)),
      wav(3, 64, (v, at, x) => v.setFloat64(at, x, true)),
      wav(1, 24, int24, true),
      wav(3, 32, (v, at, x) => v.setFloat32(at, x, true), true),
    ];
    for (const f of files) expect(Array.from(readWav(f).samples)).toEqual(values);
    const nan = wav(3, 32, (v, at, x) => v.setFloat32(at, x === 0.25 ? Number.NaN : x, true));
    expect(() => readWav(nan)).toThrow(expect.objectContaining({ code: 'WAV_FORMAT_UNSUPPORTED' }));
    expect(() => readWav(wav(1, 12, () => {}))).toThrow(expect.objectContaining({ code: 'WAV_FORMAT_UNSUPPORTED' }));
  });
  it('reads 8-bit unsigned PCM, G.711 A-law and µ-law, with their standard end points and in order', () => {
    expect(Array.from(readWav(rawWav(1, 8, 1, [128, 192, 64, 0, 255])).samples)).toEqual([0, 0.5, -0.5, -1, 127 / 128]);
    const decode = (code: number, bytes: number[]) => Array.from(readWav(rawWav(code, 8, 1, bytes)).samples, (x) => Math.round(x * 32768));
    // µ-law: 0x00 and 0x80 are the loudest (-/+32124), 0x7f and 0xff silence.
    expect(decode(7, [0x00, 0x80, 0x7f, 0xff])).toEqual([-32124, 32124, 0, 0]);
    // A-law: 0xd5 / 0x55 the quietest (+/-8), 0xaa / 0x2a the loudest (+/-32256).
    expect(decode(6, [0xd5, 0x55, 0xaa, 0x2a])).toEqual([8, -8, 32256, -32256]);
    // Each law's 128 positive codes are 128 distinct levels, so every byte means what the table says.
    const muPositive = decode(7, Array.from({ length: 128 }, (_, i) => 0xff - i));
    expect(new Set(muPositive).size).toBe(128);
    expect(muPositive).toEqual([...muPositive].sort((a, b) => a - b));
    const aPositive = decode(6, Array.from({ length: 128 }, (_, i) => 0x80 | (i ^ 0x55)));
    expect(new Set(aPositive).size).toBe(128);
    expect(aPositive).toEqual([...aPositive].sort((a, b) => a - b));
  });
  it('reads the one channel asked for from an interleaved file, and asks which where there are several', () => {
    // Three channels of 16-bit samples, interleaved, and half of a fourth frame.
    const samples = [1, -1, 100, 2, -2, 200, 3, -3, 300, 4, -4];
    const bytes = new Uint8Array(samples.length * 2);
    samples.forEach((x, i) => new DataView(bytes.buffer).setInt16(i * 2, x, true));
    const file = rawWav(1, 16, 3, [...bytes]);
    const channel = (c: number) => Array.from(readWav(file, { channel: c }).samples, (x) => x * 32768);
    expect(channel(1)).toEqual([1, 2, 3]);
    expect(channel(2)).toEqual([-1, -2, -3]);
    expect(channel(3)).toEqual([100, 200, 300]);
    expect(() => readWav(file)).toThrow(expect.objectContaining({ code: 'WAV_CHANNEL_REQUIRED', message: expect.stringContaining('1 to 3') }));
    for (const c of [0, 4, 1.5]) expect(() => readWav(file, { channel: c })).toThrow(expect.objectContaining({ code: 'WAV_NO_SUCH_CHANNEL' }));
    // A mono file is channel 1 whether or not it is named.
    expect(readWav(writeWav(Int16Array.from([7]), 8000), { channel: 1 }).samples[0]).toBe(7 / 32768);
  });
  it('skips unknown chunks and reads a data chunk that runs past the end', () => {
    const base = writeWav(Int16Array.from([5, 6, 7]), 4000);
    const list = new Uint8Array([...'LIST'].map((c) => c.charCodeAt(0)).concat([3, 0, 0, 0, 1, 2, 3, 0]));
    const withList = new Uint8Array([...base.subarray(0, 36), ...list, ...base.subarray(36)]);
    new DataView(withList.buffer).setUint32(36 + list.length + 4, 1000, true);
    expect(Array.from(readWav(withList).samples)).toEqual([5 / 32768, 6 / 32768, 7 / 32768]);
  });
  it('reads RF64 and BW64 files by their ds64 data size, stopping before a chunk after the data', () => {
    const base = writeWav(Int16Array.from([5, 6, 7]), 4000);
    const chunk = (id: string, body: number[]) => [...id].map((c) => c.charCodeAt(0)).concat([body.length, 0, 0, 0], body);
    // ds64: RIFF size, data size (6 bytes), sample count, each 64-bit little-endian; then an empty table length.
    const ds64 = chunk('ds64', [0, 0, 0, 0, 0, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    const list = chunk('LIST', [9, 9, 9, 9]);
    for (const id of ['RF64', 'BW64']) {
      const file = new Uint8Array([...base.subarray(0, 12), ...ds64, ...base.subarray(12), ...list]);
      file.set([...id].map((c) => c.charCodeAt(0)), 0);
      const v = new DataView(file.buffer);
      v.setUint32(4, 0xffffffff, true);
      v.setUint32(12 + ds64.length + 24 + 4, 0xffffffff, true);
      expect(Array.from(readWav(file).samples)).toEqual([5 / 32768, 6 / 32768, 7 / 32768]);
    }
  });
  it('reads the samples of a recording whose header was never finalised (sizes left at 0), not an empty one', () => {
    const unfinished = writeWav(Int16Array.from([5, 6, 7]), 4000);
    const v = new DataView(unfinished.buffer);
    v.setUint32(4, 0, true);
    v.setUint32(40, 0, true);
    expect(Array.from(readWav(unfinished).samples)).toEqual([5 / 32768, 6 / 32768, 7 / 32768]);
    expect(() => readWav(writeWav(new Int16Array(0), 8000))).toThrow(expect.objectContaining({ code: 'WAV_TRUNCATED' }));
  });
  it('refuses what it cannot read, with a code', () => {
    const stereo = writeWav(Int16Array.from([1, 2]), 8000);
    new DataView(stereo.buffer).setUint16(22, 2, true);
    const code = (b: Uint8Array) => {
      try {
        readWav(b);
        return 'read';
      } catch (err) {
        return (err as WavError).code;
      }
    };
    expect(code(stereo)).toBe('WAV_CHANNEL_REQUIRED');
    expect(code(new TextEncoder().encode('hello, this is not audio'))).toBe('WAV_NOT_RIFF');
    expect(code(writeWav(new Int16Array(0), 8000))).toBe('WAV_TRUNCATED');
    expect(code(writeWav(Int16Array.from([1]), 8000).subarray(0, 30))).toBe('WAV_TRUNCATED');
  });
});
