import { describe, expect, it } from 'vitest';
import { BAND_COUNT } from './feature-spec.ts';
import { LEVEL_FEATURES, LOW_BANDS, VERDICT_INPUTS, VERDICT_INPUTS_EVERY_NIGHT, fitVerdictWeights, judgesFirstNights, levelRise, parseLevelVerdict, verdictInputCount, verdictInputs, verdictProbability, verdictRaises } from './level-history.ts';
import { seededRandom } from '../training/seeded-random.ts';

/** Band levels as the graph gives them (natural log of power) for levels in dB. */
const row = (db: (b: number) => number) => Float32Array.from({ length: BAND_COUNT }, (_, b) => (db(b) * Math.LN10) / 10);

describe("a sensor's band levels against its earlier nights", () => {
  it('gives the rise in dB by medians, as its level over the bands and its shape', () => {
    const baseline = [row(() => -60), row(() => -61), row(() => -59), row(() => -20)]; // one loud window: the median ignores it
    const current = [row((b) => (b < LOW_BANDS ? -57 : -60)), row((b) => (b < LOW_BANDS ? -56.5 : -60.5)), row((b) => (b < LOW_BANDS ? -57.5 : -59.5))];
    const rise = levelRise(current, baseline)!;
    expect(rise).toHaveLength(LEVEL_FEATURES);
    // Lower medians: baseline -60 of (-61, -60, -59, -20); current -57 and -60 of its three. The rise is 3 dB in
    // the low bands, 0 above: its level (median over 24 bands, 16 of them 0) is 0, its shape the rises themselves.
    expect(rise[0]).toBeCloseTo(0, 4);
    for (let b = 0; b < BAND_COUNT; b++) expect(rise[1 + b]).toBeCloseTo(b < LOW_BANDS ? 3 : 0, 4);
    expect([rise[1 + BAND_COUNT], rise[2 + BAND_COUNT]].map((x) => Number(x!.toFixed(4)))).toEqual([3, 3]);
    // A night louder by 4 dB in every band: all level, no shape.
    const louder = levelRise(current.map((r) => r.map((v) => v + (4 * Math.LN10) / 10)), current)!;
    expect(louder[0]).toBeCloseTo(4, 3);
    for (let b = 0; b < BAND_COUNT; b++) expect(Math.abs(louder[1 + b]!)).toBeLessThan(1e-3);
    expect(levelRise(current, [])).toBeUndefined();
  });

  it("puts the night score as a margin over the sensor's threshold, its site as a flag, the rise, then the plastic main's terms", () => {
    const rise = new Float64Array(LEVEL_FEATURES).fill(2);
    rise[0] = 5;
    const x = verdictInputs(0.9, 0.5, 'near_pump', 'pvc', rise, ['near_prv', 'near_pump']);
    expect(x).toHaveLength(verdictInputCount(2));
    expect(x[0]).toBeCloseTo(Math.log(9), 6);
    expect([x[1], x[2], x[3], x[4]]).toEqual([0, 1, 5, 2]);
    expect([...x.slice(-4)]).toEqual([1, 5, 2, 2]);
    const metal = verdictInputs(0.5, 0.5, undefined, 'ductile_iron', rise, []);
    expect(metal[0]).toBe(0);
    expect([...metal.slice(-4)]).toEqual([0, 0, 0, 0]);
    expect([...verdictInputs(0.5, 0.5, undefined, undefined, rise, []).slice(-4)]).toEqual([0, 0, 0, 0]);
  });

  it('in the every-night layout adds whether there was an earlier night, and gives a first night its rise as 0', () => {
    const rise = new Float64Array(LEVEL_FEATURES).fill(2);
    const later = verdictInputs(0.9, 0.5, 'near_pump', 'pvc', rise, ['near_pump'], VERDICT_INPUTS_EVERY_NIGHT);
    expect(later).toHaveLength(verdictInputCount(1, VERDICT_INPUTS_EVERY_NIGHT));
    expect(later).toHaveLength(verdictInputCount(1) + 1);
    // The old layout's inputs, then the flag.
    expect([...later.slice(0, -1)]).toEqual([...verdictInputs(0.9, 0.5, 'near_pump', 'pvc', rise, ['near_pump'])]);
    expect(later[later.length - 1]).toBe(1);
    const first = verdictInputs(0.9, 0.5, 'near_pump', 'pvc', undefined, ['near_pump'], VERDICT_INPUTS_EVERY_NIGHT);
    expect([...first.slice(0, 2)]).toEqual([...later.slice(0, 2)]);
    expect([...first.slice(2, 2 + LEVEL_FEATURES)].every((v) => v === 0)).toBe(true);
    // Plastic main, and its rise terms 0; no earlier night.
    expect([...first.slice(-5)]).toEqual([1, 0, 0, 0, 0]);
    // A verdict fitted on later nights only was never shown a first night: it refuses one.
    expect(() => verdictInputs(0.9, 0.5, undefined, 'pvc', undefined, [])).toThrow(RangeError);
    expect([judgesFirstNights({ inputs: VERDICT_INPUTS }), judgesFirstNights({ inputs: VERDICT_INPUTS_EVERY_NIGHT })]).toEqual([false, true]);
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

    const d = verdictInputCount(1);
    const whole = { inputs: VERDICT_INPUTS, sites: ['near_prv'], inputMean: Array(d).fill(0), inputStd: Array(d).fill(1), weights: Array(d).fill(0.1), bias: -1, threshold: 0.6 };
    expect(parseLevelVerdict(JSON.stringify(whole))).toEqual(whole);
    expect(() => parseLevelVerdict(JSON.stringify({ ...whole, weights: whole.weights.slice(1) }))).toThrow(/weights/);
    expect(() => parseLevelVerdict(JSON.stringify({ ...whole, inputStd: Array(d).fill(0) }))).toThrow(/positive/);
    expect(() => parseLevelVerdict(JSON.stringify({ ...whole, threshold: 1.5 }))).toThrow(/threshold/);
    // A verdict fitted on another layout of inputs (2.4.1's) is refused, not misread.
    expect(() => parseLevelVerdict(JSON.stringify({ ...whole, inputs: undefined }))).toThrow(/inputs/);
    expect(() => parseLevelVerdict(JSON.stringify({ ...whole, inputs: 'margin-sites-level/1' }))).toThrow(/inputs/);
    // The every-night layout holds one input more.
    const e = verdictInputCount(1, VERDICT_INPUTS_EVERY_NIGHT);
    const every = { ...whole, inputs: VERDICT_INPUTS_EVERY_NIGHT, inputMean: Array(e).fill(0), inputStd: Array(e).fill(1), weights: Array(e).fill(0.1) };
    expect(parseLevelVerdict(JSON.stringify(every))).toEqual(every);
    expect(() => parseLevelVerdict(JSON.stringify({ ...every, weights: whole.weights }))).toThrow(/weights/);
    expect(parseLevelVerdict(JSON.stringify({ ...whole, confirmedThreshold: 0.4 })).confirmedThreshold).toBe(0.4);
    // Confirmation lowers the bar for two nights in a row; above the night-alone threshold it would mean nothing.
    expect(() => parseLevelVerdict(JSON.stringify({ ...whole, confirmedThreshold: 0.7 }))).toThrow(/confirmedThreshold/);
    expect(() => parseLevelVerdict(JSON.stringify({ ...whole, confirmedThreshold: '0.4' }))).toThrow(/confirmedThreshold/);
  });

  it('raises a night by itself at the threshold, or at the confirmed threshold when the night before reached it too', () => {
    const v = { threshold: 0.8, confirmedThreshold: 0.5 };
    expect(verdictRaises(v, 0.8, undefined)).toBe(true);
    expect(verdictRaises(v, 0.79, undefined)).toBe(false);
    expect(verdictRaises(v, 0.6, 0.55)).toBe(true);
    expect(verdictRaises(v, 0.6, 0.45)).toBe(false);
    expect(verdictRaises(v, 0.45, 0.9)).toBe(false);
    // Without a confirmed threshold every night stands alone, as before.
    expect(verdictRaises({ threshold: 0.8 }, 0.6, 0.9)).toBe(false);
  });
});
