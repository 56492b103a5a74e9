import { describe, expect, it } from 'vitest';
import type { MeterFlag } from '@suido/ingest';
import { DAY_MS, HOUR_MS, meterSeries, readAt, type SeriesRead } from './interval-series.ts';
import { burstAt, continuousFlowAt, reverseFlowAt, stuckAt, tamperAt } from './meter-conditions.ts';
import { DEFAULT_METER_RULES_CONFIG as C, meterRulesConfig } from './meter-rules-config.ts';
import { IDLE, stepRule } from './rule-state.ts';

const T0 = Date.parse('2026-11-01T00:00:00+09:00');

/** Reads every `stepMs` from T0 with the given litres per interval; `null` leaves the read out. */
function reads(litres: readonly (number | null)[], stepMs = HOUR_MS, start = 1000, flags: Record<number, MeterFlag[]> = {}): SeriesRead[] {
  const out: SeriesRead[] = [{ ts: T0, registerL: start, flags: [] }];
  let reg = start;
  litres.forEach((l, i) => {
    if (l === null) return;
    reg += l;
    out.push({ ts: T0 + (i + 1) * stepMs, registerL: reg, flags: flags[i + 1] ?? [] });
  });
  return out;
}

function at(rs: SeriesRead[]) {
  const series = meterSeries(rs);
  return { series, last: readAt(series, rs[rs.length - 1]!.ts)! };
}

describe('continuous flow (no zero hour in 24 h, as Kamstrup)', () => {
  const C24 = meterRulesConfig({ continuousFlow: { windowHours: 24 } });
  it.each([
    ['a 5 L/h leak: every hour flows', Array<number>(24).fill(5), 'present'],
    ['a household: quiet night hours', [0, 0, 6, 0, 2, 30, 80, 50, 20, 10, 10, 12, 15, 10, 8, 8, 10, 25, 60, 70, 60, 40, 20, 5], 'absent'],
    ['23 hours only', Array<number>(23).fill(5), 'unknown'],
    ['a gap in a flowing day', [...Array<number>(10).fill(5), null, ...Array<number>(13).fill(5)], 'unknown'],
    ['a gap, but a zero hour proven', [...Array<number>(10).fill(5), null, 5, 0, ...Array<number>(11).fill(5)], 'absent'],
  ] as const)('%s', (_name, litres, status) => {
    const { series, last } = at(reads(litres));
    expect(continuousFlowAt(series, last, C24).status).toBe(status);
  });

  it('reports the smallest hourly flow, and takes the meter’s own leak flag', () => {
    const { series, last } = at(reads([...Array<number>(23).fill(9), 4]));
    expect(continuousFlowAt(series, last, C24)).toMatchObject({ status: 'present', magnitude: 4, evidence: { evidence: 'intervals' } });
    // The default window is 48 h: one day is not enough.
    expect(continuousFlowAt(series, last, C).status).toBe('unknown');
    const flagged = at(reads([0, 0, 3], HOUR_MS, 0, { 3: ['leak'] }));
    expect(continuousFlowAt(flagged.series, flagged.last, C24)).toMatchObject({ status: 'present', magnitude: null, evidence: { evidence: 'meter flag' } });
  });

  it("takes the meter's day-long flag for the 48 h window only once it has held for the window", () => {
    // A household up every hour of one night: the meter flags a day without a zero hour; a day before, it had one.
    const once = at(reads([...Array<number>(10).fill(6), 0, ...Array<number>(37).fill(6)], HOUR_MS, 0, { 48: ['leak'] }));
    expect(continuousFlowAt(once.series, once.last, C).status).toBe('absent');
    // Some of the first day's reads lost: the intervals cannot tell; flagged now and 24 h before, the meter can.
    const gappy = [...Array<number>(5).fill(6), null, null, null, ...Array<number>(40).fill(6)];
    expect(continuousFlowAt(at(reads(gappy)).series, at(reads(gappy)).last, C).status).toBe('unknown');
    const lastOnly = at(reads(gappy, HOUR_MS, 0, { 48: ['leak'] }));
    expect(continuousFlowAt(lastOnly.series, lastOnly.last, C).status).toBe('unknown');
    const held = at(reads(gappy, HOUR_MS, 0, { 24: ['leak'], 48: ['leak'] }));
    expect(continuousFlowAt(held.series, held.last, C)).toMatchObject({ status: 'present', magnitude: null, evidence: { evidence: 'meter flag' } });
  });
});

describe('reverse flow', () => {
  it('is a register that went down, not a rollover', () => {
    const back = at(reads([5, -30]));
    expect(reverseFlowAt(back.series, back.last, C)).toMatchObject({ status: 'present', magnitude: 30, evidence: { fromRegisterL: 1005, toRegisterL: 975 } });
    const rollover = at([
      { ts: T0, registerL: 99_999_990, flags: [] },
      { ts: T0 + HOUR_MS, registerL: 25, flags: [] },
    ]);
    expect(reverseFlowAt(rollover.series, rollover.last, C).status).toBe('absent');
    const forward = at(reads([5]));
    expect(reverseFlowAt(forward.series, forward.last, C).status).toBe('absent');
    const first = at(reads([]));
    expect(reverseFlowAt(first.series, first.last, C).status).toBe('unknown');
    const flag = at(reads([5], HOUR_MS, 0, { 1: ['reverse'] }));
    expect(reverseFlowAt(flag.series, flag.last, C)).toMatchObject({ status: 'present', evidence: { evidence: 'meter flag' } });
  });
});

describe('tamper', () => {
  it('follows the meter’s flag', () => {
    expect(tamperAt({ ts: T0, registerL: 1, flags: ['tamper'] }).status).toBe('present');
    expect(tamperAt({ ts: T0, registerL: 1, flags: ['low_battery'] }).status).toBe('absent');
  });
});

describe('burst (flow above a rate for a duration)', () => {
  it.each([
    ['one hour at 2,000 L/h (hourly reads cover 30 min)', reads([10, 2000]), 'present', 2000],
    ['one hour at 900 L/h', reads([10, 900]), 'absent', undefined],
    ['15-min reads: 30 min at 1,600 L/h', reads([10, 400, 400], 15 * 60_000), 'present', 1600],
    ['15-min reads: one quarter at 1,600 L/h is too short', reads([10, 10, 400], 15 * 60_000), 'absent', undefined],
    ['an interval longer than an hour is not judged', reads([null, 5000]), 'unknown', undefined],
  ] as const)('%s', (_name, rs, status, magnitude) => {
    const { series, last } = at([...rs]);
    const o = burstAt(series, last, C);
    expect(o.status).toBe(status);
    if (o.status === 'present') expect(o.magnitude).toBe(magnitude);
  });

  it('takes the meter’s burst flag', () => {
    const { series, last } = at(reads([10], HOUR_MS, 0, { 1: ['burst'] }));
    expect(burstAt(series, last, C)).toMatchObject({ status: 'present', magnitude: null });
  });
});

describe('stuck meter', () => {
  const read = (daysAgo: number, registerL: number) => ({ meterId: 'M', ts: T0 - daysAgo * DAY_MS, registerL, flags: [], receivedAtMs: 0 });
  const now = { ts: T0, registerL: 5000, flags: [] };
  it.each([
    ['no consumption for 7 days after 28 days of ~300 L a day', read(7, 5000), read(35, 5000 - 28 * 300), 'present'],
    ['the register moved', read(7, 4990), read(35, 0), 'absent'],
    ['a vacant home: no use expected', read(7, 5000), read(35, 4990), 'absent'],
    ['a new meter: no history', read(7, 5000), undefined, 'unknown'],
    ['no read a week ago', undefined, undefined, 'unknown'],
  ] as const)('%s', (_name, spanStart, historyStart, status) => {
    expect(stuckAt({ at: now, spanStart, historyStart }, C).status).toBe(status);
  });
});

describe('rule state: raise on present, clear after absent for a while', () => {
  it('raises once, refreshes, ignores unknown, clears only after clearAfter of proven absence', () => {
    const P = { status: 'present', magnitude: 1, evidence: {} } as const;
    const A = { status: 'absent' } as const;
    const U = { status: 'unknown' } as const;
    const script = [
      [P, 0, 'raise'],
      [P, 1, 'refresh'],
      [A, 2, 'none'],
      [U, 30, 'none'],
      [P, 31, 'refresh'],
      [A, 32, 'none'],
      [A, 50, 'none'],
      [A, 56, 'clear'],
      [A, 57, 'none'],
      [P, 58, 'raise'],
    ] as const;
    let state = IDLE;
    const ops = script.map(([o, h, _]) => {
      const step = stepRule(state, o, h * HOUR_MS, 24 * HOUR_MS);
      state = step.state;
      return step.op;
    });
    expect(ops).toEqual(script.map(([, , op]) => op));
  });

  it('clears at the first absence when clearAfter is 0', () => {
    const raised = stepRule(IDLE, { status: 'present', magnitude: null, evidence: {} }, 0, 0).state;
    expect(stepRule(raised, { status: 'absent' }, 1, 0).op).toBe('clear');
  });
});

describe('meter rules configuration', () => {
  it('applies overrides per rule and names every bad field', () => {
    expect(meterRulesConfig({ burst: { flowLph: 2000 } }).burst).toEqual({ ...C.burst, flowLph: 2000 });
    expect(() => meterRulesConfig({ continuousFlow: { windowHours: 0 }, stuck: { days: 1.5 } })).toThrow(
      /continuousFlow.windowHours 0 must be an integer from 1 to 168[\s\S]*stuck.days 1.5/,
    );
  });
});
