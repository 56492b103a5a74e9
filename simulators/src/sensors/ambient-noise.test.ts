import { decodeAcousticFrame, DEFAULT_LIMITS } from '@suido/ingest';
import { describe, expect, it } from 'vitest';
import { createRng } from '../random/prng.ts';
import { parseScenario } from '../scenario/scenario.ts';
import { acousticFrame, sensorProfile } from './acoustic-sensor.ts';
import { renderAmbientNoise, toPcm, type AmbientNoise } from './ambient-noise.ts';

const RATE = 8000;
const quiet: AmbientNoise = {
  backgroundRms: 1e-4,
  cornerHz: 2000,
  mainsHz: 60,
  humRms: 0,
  harmonics: [1, 0.5, 0.3],
  trafficChance: 0,
  trafficRms: 2e-3,
};

const rms = (x: ArrayLike<number>) => Math.sqrt(Array.from(x).reduce((s, v) => s + v * v, 0) / x.length);

/** Power of one frequency (Goertzel), normalised by length. */
function powerAt(x: Float64Array, hz: number): number {
  const k = (2 * Math.PI * hz) / RATE;
  let s1 = 0;
  let s2 = 0;
  for (const v of x) {
    const s = v + 2 * Math.cos(k) * s1 - s2;
    s2 = s1;
    s1 = s;
  }
  return (s1 * s1 + s2 * s2 - 2 * Math.cos(k) * s1 * s2) / x.length ** 2;
}

function bandPower(x: Float64Array, from: number, to: number): number {
  let p = 0;
  for (let f = from; f < to; f += 10) p += powerAt(x, f);
  return p;
}

describe('ambient noise', () => {
  it('is the same for the same stream', () => {
    const a = renderAmbientNoise({ ...quiet, humRms: 5e-5, trafficChance: 0.5 }, RATE, RATE, createRng(1, 'S-0001', 'frame', 0));
    const b = renderAmbientNoise({ ...quiet, humRms: 5e-5, trafficChance: 0.5 }, RATE, RATE, createRng(1, 'S-0001', 'frame', 0));
    expect(a).toEqual(b);
  });

  it('has the asked background level, coloured: more energy low than high', () => {
    const levels: number[] = [];
    let low = 0;
    let high = 0;
    for (let i = 0; i < 8; i++) {
      const x = renderAmbientNoise(quiet, RATE, RATE, createRng(2, 'frame', i));
      levels.push(rms(x));
      low += bandPower(x, 100, 500);
      high += bandPower(x, 2500, 2900);
    }
    const mean = levels.reduce((a, b) => a + b, 0) / levels.length;
    expect(mean / quiet.backgroundRms).toBeGreaterThan(0.8);
    expect(mean / quiet.backgroundRms).toBeLessThan(1.25);
    expect(low).toBeGreaterThan(5 * high);
  });

  it('hums at the mains frequency and its harmonics', () => {
    const x = renderAmbientNoise({ ...quiet, humRms: 1e-4 }, RATE, RATE, createRng(3, 'hum'));
    const off = (powerAt(x, 90) + powerAt(x, 150) + powerAt(x, 210)) / 3;
    expect(powerAt(x, 60)).toBeGreaterThan(50 * off);
    expect(powerAt(x, 120)).toBeGreaterThan(10 * off);
  });

  it('catches passing traffic as a loud transient', () => {
    const calm = renderAmbientNoise(quiet, RATE, RATE, createRng(4, 'calm'));
    const busy = renderAmbientNoise({ ...quiet, trafficChance: 1 }, RATE, RATE, createRng(4, 'calm'));
    const peak = (x: Float64Array) => Math.max(...Array.from(x, Math.abs));
    expect(peak(busy)).toBeGreaterThan(3 * peak(calm));
  });
});

describe('PCM', () => {
  it('applies the gain and clips at full scale', () => {
    expect(Array.from(toPcm(Float64Array.from([0.25, -0.25, 2, -2]), 0))).toEqual([8192, -8192, 32767, -32768]);
    expect(toPcm(Float64Array.from([0.25]), 20 * Math.log10(2))[0]).toBe(16384);
  });

  it('makes frames the ingest accepts, at a night level a noise logger would see', () => {
    const fleet = parseScenario({ fleet: { sensors: 4 } }).fleet;
    for (let i = 0; i < 4; i++) {
      const profile = sensorProfile(9, i, fleet);
      const startMs = Date.now() - 60_000;
      const decoded = decodeAcousticFrame(acousticFrame(profile, startMs, RATE, RATE, createRng(9, profile.id, startMs)), profile.id, Date.now(), DEFAULT_LIMITS);
      if (!decoded.ok) throw new Error(decoded.rejection.message);
      expect(decoded.value).toMatchObject({ startMs, sampleRateHz: RATE, gainDb: profile.gainDb });
      const dbfs = 20 * Math.log10(rms(decoded.value.samples) / 32768);
      expect(dbfs).toBeGreaterThan(-70);
      expect(dbfs).toBeLessThan(-20);
    }
  });
});
