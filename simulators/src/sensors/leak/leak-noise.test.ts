import type { PipeMaterial } from '@suido/ingest';
import { describe, expect, it } from 'vitest';
import { createRng } from '../../random/prng.ts';
import { drawAcousticSite, type AcousticSite } from '../acoustic-site.ts';
import { QUIET_NIGHT } from '../night-conditions.ts';
import { nominalPipe } from '../pipe/pipe-acoustics.ts';
import { renderSensorFrame } from '../sensor-frame.ts';
import { bandPower } from '../signal/band-power.ts';
import { binGrid } from '../signal/spectral-noise.ts';
import { drawLeak, leakPowersAtSensor, type LeakSource } from './leak-noise.ts';

const NIGHT = Date.parse('2026-01-14T03:00:00+09:00');
const grid = binGrid(16000, 16000);

function share(powers: Float64Array, fromHz: number, toHz: number): number {
  let inBand = 0;
  let total = 0;
  powers.forEach((p, k) => {
    total += p;
    if (grid.freqs[k]! >= fromHz && grid.freqs[k]! < toHz) inBand += p;
  });
  return inBand / total;
}

/** A quiet site at a fixed gain, so only the leak changes between renders. */
function quietSite(material: PipeMaterial, seed: number): AcousticSite {
  const site = drawAcousticSite(createRng(seed, 'site'), { material, environment: 'quiet_residential', sensorType: 'hydrophone', sampleRateHz: 8000 });
  return { ...site, hardware: { ...site.hardware, gainDb: 20, sensitivityDb: 0 } };
}

/** The same frames rendered with and without the leak: every source has its own stream, so the background is sample for sample the same. */
function bandPowers(site: AcousticSite, leak: LeakSource, fromHz: number, toHz: number): { withLeak: number; without: number } {
  let withLeak = 0;
  let without = 0;
  for (let i = 0; i < 6; i++) {
    const request = { startMs: NIGHT + i * 600_000, sampleCount: 8000, night: QUIET_NIGHT };
    const a = renderSensorFrame(site, { ...request, leaks: [leak] }, createRng(3, 'frame', i));
    const b = renderSensorFrame(site, { ...request, leaks: [] }, createRng(3, 'frame', i));
    withLeak += bandPower(a.samples, 8000, fromHz, toHz);
    without += bandPower(b.samples, 8000, fromHz, toHz);
  }
  return { withLeak, without };
}

/** Band power the leak adds over the background in that band, dB. */
function excessDb(site: AcousticSite, leak: LeakSource, fromHz: number, toHz: number): number {
  const { withLeak, without } = bandPowers(site, leak, fromHz, toHz);
  return 10 * Math.log10((withLeak - without) / without);
}

describe('leak noise', () => {
  it('is broadband hiss, not a tone: no 10 Hz slice holds more than a few per cent of it', () => {
    for (let i = 0; i < 10; i++) {
      const powers = leakPowersAtSensor(drawLeak('ductile_iron', createRng(1, 'leak', i), { distanceM: 0 }), nominalPipe('ductile_iron'), grid);
      const total = powers.reduce((a, b) => a + b, 0);
      expect(Math.max(...powers) / total).toBeLessThan(0.03);
    }
  });

  it('sits mostly at 200-1,500 Hz on metal, below 300 Hz on plastic, in between on asbestos cement', () => {
    const mean = (m: PipeMaterial, from: number, to: number) => {
      let s = 0;
      for (let i = 0; i < 20; i++) s += share(leakPowersAtSensor(drawLeak(m, createRng(2, m, i), { distanceM: 0 }), nominalPipe(m), grid), from, to);
      return s / 20;
    };
    expect(mean('ductile_iron', 200, 1500)).toBeGreaterThan(0.6);
    expect(mean('steel', 200, 1500)).toBeGreaterThan(0.6);
    expect(mean('pvc', 0, 300)).toBeGreaterThan(0.75);
    expect(mean('pe', 0, 300)).toBeGreaterThan(0.75);
    expect(mean('asbestos_cement', 0, 300)).toBeGreaterThan(mean('ductile_iron', 0, 300));
    expect(mean('asbestos_cement', 0, 300)).toBeLessThan(mean('pvc', 0, 300));
  });

  it('is weaker on plastic and loses more of itself per metre there', () => {
    const level = (m: PipeMaterial, d: number) => {
      let s = 0;
      for (let i = 0; i < 20; i++) s += leakPowersAtSensor(drawLeak(m, createRng(4, m, i), { sizeLps: 0.3, distanceM: d }), nominalPipe(m), grid).reduce((a, b) => a + b, 0);
      return 10 * Math.log10(s / 20);
    };
    expect(level('pvc', 0)).toBeLessThan(level('ductile_iron', 0) - 3);
    // Total power: PVC loses ~13 dB over 40 m, iron ~5 (what survives in plastic is the low end, so the loss per metre slows with distance).
    const lossPerMetre = (m: PipeMaterial) => (level(m, 0) - level(m, 40)) / 40;
    expect(lossPerMetre('pvc')).toBeGreaterThan(2 * lossPerMetre('ductile_iron'));
    expect(lossPerMetre('pe')).toBeGreaterThan(2 * lossPerMetre('steel'));
  });

  it('on a metal main, rises over the 200-1,500 Hz background with its size and falls with distance', () => {
    const site = quietSite('ductile_iron', 5);
    const leak = (sizeLps: number, distanceM: number) => drawLeak('ductile_iron', createRng(6, 'one leak'), { sizeLps, distanceM });
    const bySize = [0.05, 0.3, 2].map((q) => excessDb(site, leak(q, 40), 200, 1500));
    const byDistance = [5, 60, 130].map((d) => excessDb(site, leak(0.3, d), 200, 1500));
    expect(bySize[1]! - bySize[0]!).toBeGreaterThan(5);
    expect(bySize[2]! - bySize[1]!).toBeGreaterThan(5);
    expect(byDistance[0]! - byDistance[1]!).toBeGreaterThan(3);
    expect(byDistance[1]! - byDistance[2]!).toBeGreaterThan(3);
  });

  it('on a plastic main, reaches the sensor almost only below 300 Hz', () => {
    const site = quietSite('pvc', 7);
    const leak = drawLeak('pvc', createRng(8, 'plastic leak'), { sizeLps: 1, distanceM: 10 });
    const added = (from: number, to: number) => {
      const { withLeak, without } = bandPowers(site, leak, from, to);
      return withLeak - without;
    };
    expect(added(20, 300)).toBeGreaterThan(5 * added(300, 4000));
    expect(excessDb(site, leak, 20, 300)).toBeGreaterThan(3);
  });

  it('draws sizes log-uniformly over 0.05-2 L/s and distances up to about one sensor spacing', () => {
    const leaks = Array.from({ length: 2000 }, (_, i) => drawLeak('pvc', createRng(9, i)));
    const sizes = leaks.map((l) => l.sizeLps);
    expect(Math.min(...sizes)).toBeGreaterThanOrEqual(0.05);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(2);
    // Log-uniform: the geometric middle (0.316 L/s) splits them in half.
    expect(sizes.filter((q) => q < Math.sqrt(0.05 * 2)).length / sizes.length).toBeCloseTo(0.5, 1);
    expect(Math.max(...leaks.map((l) => l.distanceM))).toBeLessThanOrEqual(80 * 1.15);
  });
});
