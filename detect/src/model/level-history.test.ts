import { describe, expect, it } from 'vitest';
import { BAND_COUNT } from './feature-spec.ts';
import { LEVEL_FEATURES, LOW_BANDS, fitVerdictWeights, levelRise, parseLevelVerdict, verdictInputs, verdictProbability } from './level-history.ts';
import { seededRandom } from '../training/seeded-random.ts';

/** Band levels as the graph gives them (natural log of power) for levels in dB. */
const row = (db: (b: number) => number) => Float32Array.from({ length: BAND_COUNT }, (_, b) => (db(b) * Math.LN10) / 10);

describe("a sensor's band levels against its earlier nights", () => {
  it('gives each band its rise in dB by medians, and the low bands against the rest', () => {
    const baseline = [row(() => -60), row(() => -61), row(() => -59), row(() => -20)]; // one loud window: the median ignores it
    const current = [row((b) => (b < LOW_BANDS ? -57 : -60)), row((b) => (b < LOW_BANDS ? -56.5 : -60.5)), row((b) => (b < LOW_BANDS ? -57.5 : -59.5))];
    const rise = levelRise(current, baseline)!;
    expect(rise).toHaveLength(LEVEL_FEATURES);
    // Lower medians: baseline -60 of (-61, -60, -59, -20); current -57 and -60 of its three.
    for (let b = 0; b < BAND_COUNT; b++) expect(rise[b]).toBeCloseTo(b < LOW_BANDS ? 3 : 0, 4);
    expect(rise[BAND_COUNT]).toBeCloseTo((3 * LOW_BANDS) / BAND_COUNT, 4);
    expect([rise[BAND_COUNT + 1], rise[BAND_COUNT + 2], rise[BAND_COUNT + 3]].map((x) => Number(x!.toFixed(4)))).toEqual([3, 0, 3]);
    expect(levelRise(current, [])).toBeUndefined();
  });

  it("puts the night score as a margin over the sensor's threshold, its site as a flag, then the rise", () => {
    const rise = new Float64Array(LEVEL_FEATURES).fill(2);
    const x = verdictInputs(0.9, 0.5, 'near_pump', rise, ['near_prv', 'near_pump']);
    expect(x[0]).toBeCloseTo(Math.log(9), 6);
    expect([x[1], x[2], x[3]]).toEqual([0, 1, 2]);
    expect(verdictInputs(0.5, 0.5, undefined, rise, [])[0]).toBe(0);
  });
});

describe('fitting the verdict', () => {
  it('learns which input tells leak from no leak, and reads back what it wrote', () => {
    const r = seededRandom(5);
    const inputs: Float64Array[] = [];
    const labels: number[] = [];
    for (let i = 0; i < 400; i++) {
      const y = i % 2;
      // Input 0 is noise; input 1 is 3 dB higher with a leak, with 1 dB of spread.
      inputs.push(Float64Array.of(r() * 10, 3 * y + (r() - 0.5) * 2));
      labels.push(y);
    }
    const fitted = fitVerdictWeights(inputs, labels);
    expect(fitted.weights[1]!).toBeGreaterThan(2);
    expect(Math.abs(fitted.weights[0]!)).toBeLessThan(0.5);
    const right = inputs.filter((x, i) => verdictProbability(fitted, x) >= 0.5 === (labels[i] === 1)).length;
    expect(right / inputs.length).toBeGreaterThan(0.9);
    expect(() => fitVerdictWeights([], [])).toThrow(RangeError);

    const d = 1 + LEVEL_FEATURES;
    const whole = { sites: ['near_prv'], inputMean: Array(d + 1).fill(0), inputStd: Array(d + 1).fill(1), weights: Array(d + 1).fill(0.1), bias: -1, threshold: 0.6 };
    expect(parseLevelVerdict(JSON.stringify(whole))).toEqual(whole);
    expect(() => parseLevelVerdict(JSON.stringify({ ...whole, weights: whole.weights.slice(1) }))).toThrow(/weights/);
    expect(() => parseLevelVerdict(JSON.stringify({ ...whole, inputStd: Array(d + 1).fill(0) }))).toThrow(/positive/);
    expect(() => parseLevelVerdict(JSON.stringify({ ...whole, threshold: 1.5 }))).toThrow(/threshold/);
  });
});
