import { describe, expect, it } from 'vitest';
import { createRng } from '../random/prng.ts';
import { drawLeak } from './leak/leak-noise.ts';
import { QUIET_NIGHT } from './night-conditions.ts';
import { renderSensorFrame } from './sensor-frame.ts';
import { drawSensorPair, renderPairFrame, type SensorPair } from './sensor-pair.ts';
import { fft, nextPowerOfTwo } from './signal/fft.ts';

/**
 * The normalised cross-correlation of two recordings at every lag within
 * ±maxLag samples (positive: b later than a), through one transform each.
 */
function crossCorrelation(a: Int16Array, b: Int16Array, maxLag: number): Map<number, number> {
  const m = nextPowerOfTwo(2 * a.length);
  const spectrum = (x: Int16Array) => {
    const re = new Float64Array(m);
    const im = new Float64Array(m);
    const mean = x.reduce((s, v) => s + v, 0) / x.length;
    x.forEach((v, i) => (re[i] = v - mean));
    fft(re, im);
    return { re, im };
  };
  const correlate = (x: { re: Float64Array; im: Float64Array }, y: { re: Float64Array; im: Float64Array }) => {
    // conj(X)·Y, back to lags.
    const re = new Float64Array(m);
    const im = new Float64Array(m);
    for (let k = 0; k < m; k++) {
      re[k] = x.re[k]! * y.re[k]! + x.im[k]! * y.im[k]!;
      im[k] = x.re[k]! * y.im[k]! - x.im[k]! * y.re[k]!;
    }
    fft(re, im, true);
    return re;
  };
  const sa = spectrum(a);
  const sb = spectrum(b);
  const rab = correlate(sa, sb);
  const norm = Math.sqrt(correlate(sa, sa)[0]! * correlate(sb, sb)[0]!);
  const out = new Map<number, number>();
  for (let lag = -maxLag; lag <= maxLag; lag++) out.set(lag, rab[(lag + m) % m]! / norm);
  return out;
}

function peak(r: Map<number, number>): { lag: number; value: number } {
  let best = { lag: 0, value: 0 };
  for (const [lag, value] of r) if (Math.abs(value) > Math.abs(best.value)) best = { lag, value };
  return best;
}

const SECONDS = 8;

function pairOn(seed: number): SensorPair {
  return drawSensorPair(createRng(seed, 'pair'), { material: 'ductile_iron', environment: 'quiet_residential', sensorType: 'accelerometer', spacingM: 120 });
}

describe('a sensor pair on one main (a correlator pair)', () => {
  const pair = pairOn(5);
  const fs = pair.a.hardware.sampleRateHz;
  const c = pair.a.pipe.waveSpeedMs;
  const maxLag = Math.ceil((pair.spacingM / c) * fs) + 4;
  const request = (leaks: { positionM: number }[]) => ({
    startMs: Date.UTC(2026, 10, 20, 17, 0),
    sampleCount: SECONDS * fs,
    nights: { a: QUIET_NIGHT, b: QUIET_NIGHT },
    leaks: leaks.map((l) => ({ leak: drawLeak('ductile_iron', createRng(9, 'leak'), { sizeLps: 0.6, distanceM: 0 }), positionM: l.positionM })),
  });

  it('listens to one main at one rate, each sensor with its own device', () => {
    expect(pair.b.material).toBe(pair.a.material);
    expect(pair.b.pipe).toBe(pair.a.pipe);
    expect(pair.b.hardware.sampleRateHz).toBe(fs);
    expect(pair.b.hardware).not.toEqual(pair.a.hardware);
    expect(pair.spacingM).toBe(120);
  });

  it("hears a leak at both sensors as one sound: the cross-correlation peaks at the lag its position gives, and the position follows from it", () => {
    for (const positionM of [30, 85]) {
      const frame = renderPairFrame(pair, request([{ positionM }]), createRng(11, 'frame', positionM));
      const expectedLagS = (pair.spacingM - positionM - positionM) / c;
      expect(frame.leakLagS).toBeCloseTo(expectedLagS, 9);
      expect(frame.a.snrDb!).toBeGreaterThan(0);
      expect(frame.b.snrDb!).toBeGreaterThan(0);
      const p = peak(crossCorrelation(frame.a.samples, frame.b.samples, maxLag));
      expect(Math.abs(p.lag - expectedLagS * fs), `peak at ${p.lag} samples`).toBeLessThanOrEqual(2);
      // d_a = (D − c·τ)/2 (DOMAIN.md): the leak placed within a few metres.
      expect(Math.abs((pair.spacingM - (c * p.lag) / fs) / 2 - positionM)).toBeLessThan(5);
      expect(Math.abs(p.value)).toBeGreaterThan(0.2);
    }
  });

  it('without a leak the two recordings share nothing: no correlation peak', () => {
    const frame = renderPairFrame(pair, request([]), createRng(11, 'frame', 'none'));
    expect(frame.leakLagS).toBeNull();
    expect(Math.abs(peak(crossCorrelation(frame.a.samples, frame.b.samples, maxLag)).value)).toBeLessThan(0.05);
  });

  it("hears a PRV beside one sensor at both, as a leak: a peak where the valve stands, beyond the sensor or between the two", () => {
    const prvPair = drawSensorPair(createRng(8, 'pair'), { material: 'ductile_iron', environment: 'near_prv', sensorType: 'hydrophone', spacingM: 150 });
    const d = prvPair.a.prv!.distanceM;
    const speed = prvPair.a.pipe.waveSpeedMs;
    const rate = prvPair.a.hardware.sampleRateHz;
    const frame = renderPairFrame(prvPair, { startMs: Date.UTC(2026, 10, 20, 17, 0), sampleCount: SECONDS * rate, nights: { a: QUIET_NIGHT, b: QUIET_NIGHT }, leaks: [] }, createRng(3, 'prv-frame'));
    expect(frame.leakLagS).toBeNull();
    expect(frame.b.confounders).toContain('prv');
    const p = peak(crossCorrelation(frame.a.samples, frame.b.samples, Math.ceil((150 / speed) * rate) + 4));
    // Beyond sensor a, the valve reaches b 150 m later (the edge of the lags); towards b, (|150 − d| − d)/c later.
    const beyond = (150 / speed) * rate;
    const between = ((Math.abs(150 - d) - d) / speed) * rate;
    expect(Math.min(Math.abs(p.lag - beyond), Math.abs(p.lag - between)), `peak at ${p.lag}, valve ${d.toFixed(1)} m from a`).toBeLessThanOrEqual(2);
    expect(Math.abs(p.value)).toBeGreaterThan(0.1);
  });

  it('renders each sensor as it would alone where no leak is shared, and a single sensor exactly as before', () => {
    const frame = renderPairFrame(pair, request([]), createRng(11, 'frame', 'none'));
    // Without a leak the pair's frames are each sensor's own, from the pair's streams.
    const seed = createRng(11, 'frame', 'none').uint32();
    const alone = renderSensorFrame(pair.a, { startMs: request([]).startMs, sampleCount: SECONDS * fs, night: QUIET_NIGHT, leaks: [] }, createRng(seed, 'a'));
    expect(frame.a.samples).toEqual(alone.samples);
  });
});
