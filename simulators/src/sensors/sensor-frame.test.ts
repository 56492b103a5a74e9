import { decodeAcousticFrame, DEFAULT_LIMITS } from '@suido/ingest';
import { describe, expect, it } from 'vitest';
import { createRng } from '../random/prng.ts';
import { parseScenario } from '../scenario/scenario.ts';
import { acousticFrame, sensorProfile } from './acoustic-sensor.ts';
import { drawAcousticSite, type AcousticSite } from './acoustic-site.ts';
import { drawLeak } from './leak/leak-noise.ts';
import { QUIET_NIGHT } from './night-conditions.ts';
import { AUDIBLE_SNR_DB, quietNightSnrDb, renderSensorFrame } from './sensor-frame.ts';
import { SAMPLE_RATES_HZ } from './sensor-hardware.ts';
import { bandPower } from './signal/band-power.ts';

const NIGHT = Date.parse('2026-01-14T03:00:00+09:00');

function render(site: AcousticSite, leaks: ReturnType<typeof drawLeak>[], i = 0, startMs = NIGHT) {
  return renderSensorFrame(site, { startMs: startMs + i * 60_000, sampleCount: site.hardware.sampleRateHz, night: QUIET_NIGHT, leaks }, createRng(5, 'frame', i));
}

describe('a sensor frame', () => {
  const site = drawAcousticSite(createRng(1, 'site'), { material: 'ductile_iron', environment: 'quiet_residential', sampleRateHz: 8000 });
  const leak = drawLeak('ductile_iron', createRng(1, 'leak'), { sizeLps: 0.5, distanceM: 30 });

  it('is the same for the same stream, and labels a frame without a leak with nulls', () => {
    const a = render(site, []);
    expect(render(site, [])).toEqual(a);
    expect(a).toMatchObject({ snrDb: null, audible: null, daytime: false, sampleRateHz: 8000, gainDb: site.hardware.gainDb });
    expect(a.localHour).toBeCloseTo(3, 5);
    const b = render(site, [leak]);
    expect(b.audible).toBe(b.snrDb! >= AUDIBLE_SNR_DB);
  });

  it('is a frame the ingest accepts, with the sensor gain in its header', () => {
    const fleet = parseScenario({ fleet: { sensors: 6 } }).fleet;
    for (let i = 0; i < 6; i++) {
      const profile = sensorProfile(9, i, fleet);
      const startMs = Date.now() - 60_000;
      const { payload, frame } = acousticFrame(profile, { startMs, sampleCount: 8000, night: QUIET_NIGHT, leaks: [] }, createRng(9, i));
      const decoded = decodeAcousticFrame(payload, profile.id, Date.now(), DEFAULT_LIMITS);
      if (!decoded.ok) throw new Error(decoded.rejection.message);
      expect(decoded.value).toMatchObject({ startMs, sampleRateHz: 8000, gainDb: profile.gainDb });
      expect(Array.from(decoded.value.samples)).toEqual(Array.from(frame.samples));
    }
  });

  it('carries a DC offset, as a real ADC does', () => {
    const f = render(site, []);
    const mean = f.samples.reduce((a, b) => a + b, 0) / f.samples.length;
    expect(Math.abs(mean - site.hardware.dcOffsetLsb)).toBeLessThan(15);
  });

  it('hears the same physics at every sample rate: a band both rates see has the same level', () => {
    const levels = SAMPLE_RATES_HZ.map((rate) => {
      const s = drawAcousticSite(createRng(2, 'site'), { material: 'ductile_iron', environment: 'quiet_residential', sampleRateHz: rate });
      let p = 0;
      for (let i = 0; i < 8; i++) p += bandPower(render(s, [leak], i).samples, rate, 200, 1500) / (32767 * 10 ** (s.hardware.gainDb / 20)) ** 2;
      return 10 * Math.log10(p);
    });
    for (const l of levels) expect(Math.abs(l - levels[0]!)).toBeLessThan(1.5);
  });

  it('clips at int16 full scale when the gain is high and the sound loud', () => {
    const loud = drawLeak('ductile_iron', createRng(3, 'loud'), { sizeLps: 2, distanceM: 0 });
    const hot: AcousticSite = { ...site, hardware: { ...site.hardware, gainDb: 40, sensitivityDb: 6 } };
    const cold: AcousticSite = { ...site, hardware: { ...site.hardware, gainDb: 0, sensitivityDb: 6 } };
    const h = render(hot, [loud]);
    expect(h.clipped).toBe(true);
    expect(Math.max(...h.samples)).toBe(32767);
    expect(Math.min(...h.samples)).toBe(-32768);
    expect(render(cold, [loud]).clipped).toBe(false);
  });

  it('measures a leak as less audible the farther it is', () => {
    const snr = [5, 40, 90, 140].map((d) => quietNightSnrDb(site, [drawLeak('ductile_iron', createRng(4, 'leak'), { sizeLps: 0.2, distanceM: d })])!);
    for (let i = 1; i < snr.length; i++) expect(snr[i]).toBeLessThan(snr[i - 1]!);
    expect(quietNightSnrDb(site, [])).toBeNull();
  });

  it('labels a small, distant leak on plastic, heard by an accelerometer, inaudible — but still a leak', () => {
    const plastic = drawAcousticSite(createRng(6, 'site'), { material: 'pe', environment: 'arterial_road', sensorType: 'accelerometer', sampleRateHz: 8000 });
    const faint = drawLeak('pe', createRng(6, 'leak'), { sizeLps: 0.05, distanceM: 80 });
    expect(quietNightSnrDb(plastic, [faint])!).toBeLessThan(AUDIBLE_SNR_DB);
    const f = render(plastic, [faint]);
    expect(f.audible).toBe(false);
    expect(f.snrDb).not.toBeNull();
  });

  it('hears daytime as louder than the night', () => {
    const day = Date.parse('2026-01-14T14:00:00+09:00');
    let night = 0;
    let noon = 0;
    for (let i = 0; i < 6; i++) {
      night += bandPower(render(site, [], i).samples, 8000, 20, 4000);
      noon += bandPower(render(site, [], i, day).samples, 8000, 20, 4000);
    }
    expect(render(site, [], 0, day).daytime).toBe(true);
    expect(noon).toBeGreaterThan(2 * night);
  });
});
