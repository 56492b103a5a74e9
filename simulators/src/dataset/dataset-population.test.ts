import { describe, expect, it } from 'vitest';
import { assignSplits, drawPopulation, SPLITS, type DatasetSensor } from './dataset-population.ts';

const share = (xs: readonly DatasetSensor[], f: (s: DatasetSensor) => boolean) => xs.filter(f).length / Math.max(1, xs.length);

describe('the sensor population', () => {
  const population = drawPopulation(12, 900, 0.4);
  const leaks = population.filter((s) => s.leak);

  it('puts a leak on about 40 % of pipes, some of them inaudible', () => {
    expect(share(population, (s) => s.leak !== null)).toBeGreaterThan(0.35);
    expect(share(population, (s) => s.leak !== null)).toBeLessThan(0.45);
    const inaudible = share(leaks, (s) => s.sensorAudible === false);
    expect(inaudible).toBeGreaterThan(0.15);
    expect(inaudible).toBeLessThan(0.6);
  });

  it('gives the label no shortcut: sample rate, gain, sensor type, material and environment carry no information about it', () => {
    const overall = share(population, (s) => s.leak !== null);
    const groups = new Map<string, DatasetSensor[]>();
    for (const s of population) {
      for (const key of [`rate ${s.site.hardware.sampleRateHz}`, `type ${s.site.hardware.type}`, `material ${s.site.material}`, `env ${s.site.environment}`]) {
        groups.set(key, [...(groups.get(key) ?? []), s]);
      }
    }
    for (const [key, members] of groups) {
      if (members.length < 60) continue;
      // Binomial spread of a share over n sensors is sqrt(p(1-p)/n): allow 3.5 of them.
      const tolerance = 3.5 * Math.sqrt((overall * (1 - overall)) / members.length);
      expect(Math.abs(share(members, (s) => s.leak !== null) - overall), key).toBeLessThan(tolerance);
    }
    const meanGain = (xs: readonly DatasetSensor[]) => xs.reduce((a, s) => a + s.site.hardware.gainDb, 0) / xs.length;
    expect(Math.abs(meanGain(leaks) - meanGain(population.filter((s) => !s.leak)))).toBeLessThan(2.5);
  });

  it('starts a share of leaks inside the recorded nights, from the second night on, and leaves everything else as it was', () => {
    expect(population.every((s) => s.leakStartMs === null)).toBe(true);
    const withOnsets = drawPopulation(12, 900, 0.4, { share: 0.5, nights: 4 });
    const started = withOnsets.filter((s) => s.leakStartMs !== null);
    expect(started.every((s) => s.leak !== null)).toBe(true);
    expect(started.length / leaks.length).toBeGreaterThan(0.4);
    expect(started.length / leaks.length).toBeLessThan(0.6);
    const DAY = 86_400_000;
    for (const s of started) {
      // From midnight before night 1 to 04:00 after the last night's midnight (Tokyo days; Tokyo has no DST).
      const first = Date.UTC(1970, 0, 1) + s.firstDay * DAY - 9 * 3_600_000;
      expect(s.leakStartMs!).toBeGreaterThanOrEqual(first + DAY);
      expect(s.leakStartMs!).toBeLessThanOrEqual(first + 3 * DAY + 4 * 3_600_000);
    }
    // Its own random stream: the sites, leaks and splits are the same draws.
    expect(withOnsets.map(({ leakStartMs: _, ...rest }) => rest)).toEqual(population.map(({ leakStartMs: _, ...rest }) => rest));
  });

  it('holds a condition fixed for every sensor and leaves every other draw as it was', () => {
    const fixed = drawPopulation(12, 900, 0.4, undefined, { material: 'pvc', environment: 'near_pump', sensorType: 'hydrophone', sampleRateHz: 8000, leakDistanceM: [0, 5] });
    expect(new Set(fixed.map((s) => `${s.site.material} ${s.site.environment} ${s.site.hardware.type} ${s.site.hardware.sampleRateHz}`))).toEqual(new Set(['pvc near_pump hydrophone 8000']));
    const distances = fixed.flatMap((s) => (s.leak ? [s.leak.distanceM] : []));
    expect(Math.min(...distances)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...distances)).toBeLessThanOrEqual(5);
    // Spread over the range, not one value.
    expect(Math.max(...distances) - Math.min(...distances)).toBeGreaterThan(4);
    // The same sensors leak, with the same sizes, on the same days, in the same splits.
    const kept = (xs: readonly DatasetSensor[]) => xs.map((s) => [s.id, s.split, s.firstDay, s.leak === null, s.leak?.sizeLps]);
    expect(kept(fixed)).toEqual(kept(population));
    // A fixed distance is that distance; an unfixed one is drawn up to about a sensor spacing.
    expect(drawPopulation(12, 60, 0.4, undefined, { leakDistanceM: [2, 2] }).flatMap((s) => (s.leak ? [s.leak.distanceM] : []))).toSatisfy((d: number[]) => d.every((x) => x === 2));
    // Closer leaks on a plastic main are louder at the sensor.
    const snr = (range: readonly [number, number]) => {
      const xs = drawPopulation(12, 300, 1, undefined, { material: 'pvc', leakDistanceM: range }).map((s) => s.sensorSnrDb!).sort((a, b) => a - b);
      return xs[xs.length >> 1]!;
    };
    expect(snr([0, 5])).toBeGreaterThan(snr([40, 80]) + 6);
  });

  it('splits 70/15/15 by sensor with about the same share of leaks in each', () => {
    for (const split of SPLITS) {
      const members = population.filter((s) => s.split === split);
      expect(members.length / population.length).toBeCloseTo({ train: 0.7, val: 0.15, test: 0.15 }[split], 1);
      expect(Math.abs(share(members, (s) => s.leak !== null) - share(population, (s) => s.leak !== null))).toBeLessThan(0.02);
    }
    expect(assignSplits(1, [true, false, true])).toEqual(assignSplits(1, [true, false, true]));
  });

  it('is the same for the same seed, and a sensor keeps its traits when the population grows', () => {
    const traits = (xs: readonly DatasetSensor[]) => xs.map((s) => [s.id, s.leak?.sizeLps, s.leak?.distanceM, s.site.hardware.gainDb, s.site.material, s.firstDay]);
    const small = drawPopulation(12, 30, 0.4);
    expect(drawPopulation(12, 30, 0.4)).toEqual(small);
    expect(traits(small)).toEqual(traits(population.slice(0, 30)));
    expect(traits(drawPopulation(13, 30, 0.4))).not.toEqual(traits(small));
  });
});
