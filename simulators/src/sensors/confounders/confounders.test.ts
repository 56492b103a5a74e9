import { describe, expect, it } from 'vitest';
import { createRng } from '../../random/prng.ts';
import { drawAcousticSite, type AcousticSite } from '../acoustic-site.ts';
import type { Environment } from '../environment.ts';
import { QUIET_NIGHT, type NightConditions } from '../night-conditions.ts';
import { frameContext, renderSensorFrame } from '../sensor-frame.ts';
import { bandPower, shortTimeRms, tonePower } from '../signal/band-power.ts';
import { binGrid } from '../signal/spectral-noise.ts';
import { rainInFrame } from './rain.ts';
import { tramInFrame } from './tram.ts';
import { waterUseChance } from './water-use-noise.ts';

const at = (iso: string) => Date.parse(iso);
const NIGHT = at('2026-01-14T03:00:00+09:00');
const RATE = 8000;

function site(environment: Environment, seed: number, type: 'hydrophone' | 'accelerometer' = 'hydrophone'): AcousticSite {
  const s = drawAcousticSite(createRng(seed, 'site', environment), { material: 'ductile_iron', environment, sensorType: type, sampleRateHz: RATE });
  return { ...s, hardware: { ...s.hardware, gainDb: 20, sensitivityDb: 0 } };
}

function frames(s: AcousticSite, startMs: number, count: number, night: NightConditions = QUIET_NIGHT, seconds = 1, stepMs = 60_000) {
  return Array.from({ length: count }, (_, i) =>
    renderSensorFrame(s, { startMs: startMs + i * stepMs, sampleCount: RATE * seconds, night, leaks: [] }, createRng(11, s.environment, startMs, i)),
  );
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

describe('confounders', () => {
  it('mains hum from a transformer is tonal: lines at 120 Hz (magnetostriction) and 60 Hz stand far above their neighbours', () => {
    const base = site('quiet_residential', 1);
    const s: AcousticSite = { ...base, mainsHum: { ...base.mainsHum, transformer: { levelDb: -68, harmonicDb: [-8, 0, -8, -6, -15, -10] } } };
    for (const f of frames(s, NIGHT, 3)) {
      expect(f.confounders).toContain('mains_hum');
      const neighbours = (tonePower(f.samples, RATE, 90) + tonePower(f.samples, RATE, 150)) / 2;
      expect(tonePower(f.samples, RATE, 120)).toBeGreaterThan(30 * neighbours);
      expect(tonePower(f.samples, RATE, 60)).toBeGreaterThan(5 * (tonePower(f.samples, RATE, 45) + tonePower(f.samples, RATE, 75)) / 2);
    }
  });

  it('a pump station adds its rotation and blade-pass lines while it runs', () => {
    const s = site('near_pump', 2);
    const pump = s.pump!;
    const on = frames(s, NIGHT, 2, { ...QUIET_NIGHT, pumpOnAtNight: true });
    const off = frames(s, NIGHT, 2, { ...QUIET_NIGHT, pumpOnAtNight: false });
    const bladePass = pump.rotationHz * pump.vanes;
    for (const f of on) expect(f.confounders).toContain('pump');
    for (const f of off) expect(f.confounders).not.toContain('pump');
    expect(tonePower(on[0]!.samples, RATE, bladePass, 3)).toBeGreaterThan(5 * tonePower(off[0]!.samples, RATE, bladePass, 3));
  });

  it('road traffic is a loud, low, transient rumble: the level swings within a frame as a vehicle passes', () => {
    const base = site('arterial_road', 3);
    const s: AcousticSite = { ...base, traffic: { ...base.traffic, nightPerS: 0.01, peakDb: [-50, -45], cornerHz: 80 } };
    const rendered = frames(s, NIGHT, 40, QUIET_NIGHT, 4);
    const swing = (samples: Int16Array) => {
      const levels = shortTimeRms(samples, RATE / 4);
      return Math.max(...levels) / Math.min(...levels);
    };
    const withTraffic = rendered.filter((f) => f.confounders.includes('traffic'));
    const without = rendered.filter((f) => !f.confounders.includes('traffic'));
    expect(withTraffic.length).toBeGreaterThan(3);
    expect(without.length).toBeGreaterThan(3);
    const level = (f: (typeof rendered)[number]) => bandPower(f.samples, RATE, 0, 4000);
    // Loud: the frames that catch a pass are louder than the quiet ones…
    expect(median(withTraffic.map(level))).toBeGreaterThan(2 * median(without.map(level)));
    // …and transient: within 4 s the level swings as a vehicle comes and goes, which steady noise never does.
    const swings = withTraffic.map((f) => swing(f.samples));
    const steady = without.map((f) => swing(f.samples));
    expect(Math.max(...steady)).toBeLessThan(1.4);
    expect(Math.max(...swings)).toBeGreaterThan(2);
    expect(median(swings)).toBeGreaterThan(1.1 * median(steady));
    // Mostly below 200 Hz.
    const loud = withTraffic.sort((a, b) => bandPower(b.samples, RATE, 0, 4000) - bandPower(a.samples, RATE, 0, 4000))[0]!;
    expect(bandPower(loud.samples, RATE, 5, 200)).toBeGreaterThan(bandPower(loud.samples, RATE, 200, 4000));
  });

  it('trams run by day on a timetable and never at 02:00-04:00', () => {
    const s = site('tram_line', 4);
    const grid = binGrid(RATE, RATE);
    const tramsAt = (startMs: number, n: number, stepMs: number) =>
      Array.from({ length: n }, (_, i) => tramInFrame(s.tram!, frameContext(s, grid, startMs + i * stepMs, QUIET_NIGHT, i))).filter(Boolean).length;
    expect(tramsAt(at('2026-01-14T02:00:00+09:00'), 120, 60_000)).toBe(0);
    // Through a daytime hour, about every headway a car passes within earshot.
    const daytime = tramsAt(at('2026-01-14T11:00:00+09:00'), 360, 10_000);
    expect(daytime).toBeGreaterThan(20);
    expect(daytime).toBeLessThan(360);
  });

  it('customers use water mostly in the evening, rarely at night', () => {
    const s = site('quiet_residential', 5);
    const evening = waterUseChance(s.waterUse, at('2026-01-14T20:30:00+09:00'), 20.5);
    const night = waterUseChance(s.waterUse, at('2026-01-14T03:00:00+09:00'), 3);
    expect(evening).toBeGreaterThan(10 * night);
  });

  it('rain falls only on wet nights, as broadband impulses', () => {
    const s = site('quiet_residential', 6);
    const grid = binGrid(RATE, RATE);
    expect(rainInFrame(s.rain, frameContext(s, grid, NIGHT, QUIET_NIGHT, 1))).toBeUndefined();
    const wet = { ...QUIET_NIGHT, rainIntensity: 1 };
    const rainy = frames(s, NIGHT, 6, wet).filter((f) => f.confounders.includes('rain'));
    expect(rainy.length).toBeGreaterThan(2);
    const dry = frames(s, NIGHT, 6);
    // Impulsive: peaks well above the RMS (crest factor) compared with a dry night.
    const crest = (x: Int16Array) => {
      let mean = 0;
      for (const v of x) mean += v;
      mean /= x.length;
      let sum = 0;
      let peak = 0;
      for (const v of x) {
        sum += (v - mean) ** 2;
        peak = Math.max(peak, Math.abs(v - mean));
      }
      return peak / Math.sqrt(sum / x.length);
    };
    expect(median(rainy.map((f) => crest(f.samples)))).toBeGreaterThan(median(dry.map((f) => crest(f.samples))));
    expect(bandPower(rainy[0]!.samples, RATE, 500, 3000)).toBeGreaterThan(3 * bandPower(dry[0]!.samples, RATE, 500, 3000));
  });

  it('a pressure-reducing valve hisses steadily in the leak band, every frame', () => {
    const s = site('near_prv', 7);
    const night = { ...QUIET_NIGHT, prvDb: 0 };
    const rendered = frames(s, NIGHT, 6, night);
    expect(rendered.every((f) => f.confounders.includes('prv'))).toBe(true);
    const withoutPrv = frames({ ...s, prv: undefined }, NIGHT, 6, night);
    const band = (fs: typeof rendered) => fs.reduce((sum, f) => sum + bandPower(f.samples, RATE, 200, 2000), 0);
    expect(band(rendered)).toBeGreaterThan(2 * band(withoutPrv));
  });
});
