import { describe, expect, it } from 'vitest';
import { fromPcm16 } from './pcm16.ts';

describe('fromPcm16', () => {
  it('scales 16-bit PCM to full scale ±1, the extremes included', () => {
    expect(Array.from(fromPcm16(Int16Array.of(-32768, -16384, 0, 16384, 32767)))).toEqual([-1, -0.5, 0, 0.5, 32767 / 32768].map(Math.fround));
    expect(fromPcm16(new Int16Array(0))).toHaveLength(0);
  });
});
