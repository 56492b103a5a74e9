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
    expect(() => readWav(wav(1, 8, (v, at, x) => v.setInt8(at, Math.round(x * 127))))).toThrow(expect.objectContaining({ code: 'WAV_FORMAT_UNSUPPORTED' }));
  });
  it('skips unknown chunks and reads a data chunk that runs past the end', () => {
    const base = writeWav(Int16Array.from([5, 6, 7]), 4000);
    const list = new Uint8Array([...'LIST'].map((c) => c.charCodeAt(0)).concat([3, 0, 0, 0, 1, 2, 3, 0]));
    const withList = new Uint8Array([...base.subarray(0, 36), ...list, ...base.subarray(36)]);
    new DataView(withList.buffer).setUint32(36 + list.length + 4, 1000, true);
    expect(Array.from(readWav(withList).samples)).toEqual([5 / 32768, 6 / 32768, 7 / 32768]);
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
    expect(code(stereo)).toBe('WAV_FORMAT_UNSUPPORTED');
    expect(code(new TextEncoder().encode('hello, this is not audio'))).toBe('WAV_NOT_RIFF');
    expect(code(writeWav(new Int16Array(0), 8000))).toBe('WAV_TRUNCATED');
    expect(code(writeWav(Int16Array.from([1]), 8000).subarray(0, 30))).toBe('WAV_TRUNCATED');
  });
});
