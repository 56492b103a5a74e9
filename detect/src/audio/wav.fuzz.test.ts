import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WavError, readWav, writeWav } from './wav.ts';

/**
 * The WAV reader takes files from hand-held loggers that crews upload: any
 * bytes at all. It returns audio or throws a WavError with a code, never
 * anything else, and never a sample rate a resampler cannot use.
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 2000);
// A fixed seed by default, so that CI is reproducible; FUZZ_SEED=random explores new cases.
if (process.env.FUZZ_SEED !== 'random') fc.configureGlobal({ seed: Number(process.env.FUZZ_SEED ?? 20261125) });

function readOrWavError(bytes: Uint8Array): void {
  try {
    const audio = readWav(bytes);
    expect(audio.samples.length).toBeGreaterThan(0);
    expect(Number.isInteger(audio.sampleRateHz) && audio.sampleRateHz > 0).toBe(true);
  } catch (err) {
    expect(err).toBeInstanceOf(WavError);
  }
}

const wavArb = fc
  .tuple(fc.array(fc.integer({ min: -32768, max: 32767 }), { minLength: 1, maxLength: 200 }), fc.integer({ min: 1000, max: 48000 }))
  .map(([samples, rate]) => ({ samples: Int16Array.from(samples), rate }));

describe('WAV reader (fuzz)', () => {
  it(`round-trips ${RUNS} mono 16-bit files`, () => {
    fc.assert(
      fc.property(wavArb, ({ samples, rate }) => {
        const audio = readWav(writeWav(samples, rate));
        expect(audio.sampleRateHz).toBe(rate);
        expect(Array.from(audio.samples, (s) => Math.round(s * 32768))).toEqual(Array.from(samples));
      }),
      { numRuns: RUNS },
    );
  });

  it(`returns audio or a WavError on ${RUNS} arbitrary byte strings`, () => {
    const riffish = fc.uint8Array({ maxLength: 120 }).map((tail) => Uint8Array.from([...Buffer.from('RIFF\x00\x00\x00\x00WAVE'), ...tail]));
    fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), riffish), readOrWavError), { numRuns: RUNS });
  });

  it(`returns audio or a WavError on ${RUNS} valid files with a header byte changed or cut short`, () => {
    const arb = fc.tuple(wavArb, fc.nat(43), fc.integer({ min: 0, max: 255 }), fc.nat()).map(([{ samples, rate }, at, byte, cut]) => {
      const bytes = writeWav(samples, rate);
      bytes[at] = byte;
      return cut % 3 === 0 ? bytes.subarray(0, cut % bytes.length) : bytes;
    });
    fc.assert(fc.property(arb, readOrWavError), { numRuns: RUNS });
  });

  it(`returns audio or a WavError on ${RUNS} files with any sample rate field, 0 included`, () => {
    const arb = fc.tuple(wavArb, fc.oneof(fc.constant(0), fc.nat({ max: 0xffffffff }))).map(([{ samples }, rate]) => {
      const bytes = writeWav(samples, 8000);
      new DataView(bytes.buffer).setUint32(24, rate, true);
      return bytes;
    });
    fc.assert(fc.property(arb, readOrWavError), { numRuns: RUNS });
  });
});
