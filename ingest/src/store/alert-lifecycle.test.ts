import { describe, expect, it } from 'vitest';
import { applyDetectorChange, applyUserAction, type Alert, type AlertChange, type AlertState } from './alert-lifecycle.ts';

const base: Alert = {
  id: 1,
  kind: 'leak',
  sourceKind: 'sensor',
  sourceId: 'S-1',
  state: 'open',
  raisedAtMs: 100,
  lastSeenAtMs: 100,
  clearedAtMs: null,
  acknowledgedAtMs: null,
  acknowledgedBy: null,
  resolvedAtMs: null,
  resolvedBy: null,
  resolution: null,
  peakScore: 0.8,
  details: {},
  version: 1,
};

function alertIn(state: AlertState, patch: Partial<Alert> = {}): Alert {
  return { ...base, state, ...(state === 'cleared' && { clearedAtMs: 150 }), ...patch };
}

const subject = { kind: 'leak', sourceKind: 'sensor', sourceId: 'S-1' } as const;
const raise = (score: number): AlertChange => ({ ...subject, op: 'raise', atMs: 200, score });
const refresh = (score: number): AlertChange => ({ ...subject, op: 'refresh', atMs: 200, score });
const clear: AlertChange = { ...subject, op: 'clear', atMs: 200 };

describe('alert lifecycle: detector changes', () => {
  // [current state, change, resulting state (or 'new' / 'none'), event recorded]
  const table: [AlertState | 'none', string, AlertChange, AlertState | 'none', string | null][] = [
    ['none', 'raise', raise(0.9), 'open', 'raised'],
    ['none', 'refresh', refresh(0.9), 'none', null],
    ['none', 'clear', clear, 'none', null],
    ['open', 'raise, higher score', raise(0.9), 'open', 'updated'],
    ['open', 'raise, lower score', raise(0.7), 'open', null],
    ['open', 'refresh, higher score', refresh(0.9), 'open', 'updated'],
    ['open', 'clear', clear, 'cleared', 'cleared'],
    ['acknowledged', 'raise, higher score', raise(0.9), 'acknowledged', 'updated'],
    ['acknowledged', 'clear', clear, 'cleared', 'cleared'],
    ['cleared', 'raise', raise(0.5), 'open', 'raised'],
    ['cleared', 'refresh', refresh(0.9), 'none', null],
    ['cleared', 'clear', clear, 'none', null],
  ];
  it.each(table)('%s + %s', (from, _label, change, to, action) => {
    const t = applyDetectorChange(from === 'none' ? undefined : alertIn(from), change);
    if (to === 'none') return expect(t.kind).toBe('none');
    expect(t.kind).not.toBe('none');
    if (t.kind === 'none') return;
    expect(t.alert.state).toBe(to);
    expect(t.action).toBe(action);
    expect(t.alert.version).toBe(from === 'none' ? 1 : action === null ? 1 : 2);
    expect(t.alert.lastSeenAtMs).toBe(change.op === 'clear' ? 100 : 200);
  });

  it('reopens a cleared alert that a crew had acknowledged as acknowledged', () => {
    const t = applyDetectorChange(alertIn('cleared', { acknowledgedAtMs: 120, acknowledgedBy: 'crew-1' }), raise(0.6));
    expect(t).toMatchObject({ kind: 'update', action: 'raised', alert: { state: 'acknowledged', clearedAtMs: null, peakScore: 0.8 }, eventDetails: { reopened: true, clearedAtMs: 150 } });
  });

  it('merges details and keeps the peak', () => {
    const t = applyDetectorChange(alertIn('open', { details: { a: 1, b: 1 } }), { ...raise(0.95), details: { b: 2 } });
    expect(t).toMatchObject({ alert: { details: { a: 1, b: 2 }, peakScore: 0.95 }, eventDetails: { score: 0.95, previousPeakScore: 0.8 } });
  });
});

describe('alert lifecycle: user actions', () => {
  const at = { id: 1, expectedVersion: 1, by: 'crew-1', atMs: 300 };
  const ack = { action: 'acknowledge' } as const;
  const resolve = { action: 'resolve', resolution: 'repaired' } as const;

  it.each([
    ['open', ack, 'acknowledged'],
    ['open', resolve, 'resolved'],
    ['acknowledged', resolve, 'resolved'],
    ['cleared', resolve, 'resolved'],
  ] as const)('%s + %o → %s', (from, what, to) => {
    expect(applyUserAction(alertIn(from), at, what).alert).toMatchObject({ state: to, version: 2 });
  });

  it.each([
    ['acknowledged', ack],
    ['cleared', ack],
    ['resolved', ack],
    ['resolved', resolve],
  ] as const)('%s + %o is refused', (from, what) => {
    expect(() => applyUserAction(alertIn(from), at, what)).toThrow(expect.objectContaining({ code: 'ALERT_TRANSITION_INVALID' }));
  });

  it('refuses a stale version before anything else, with the current alert', () => {
    expect(() => applyUserAction(alertIn('open', { version: 3 }), at, ack)).toThrow(expect.objectContaining({ code: 'ALERT_VERSION_CONFLICT', current: expect.objectContaining({ version: 3 }) }));
    expect(() => applyUserAction(undefined, at, ack)).toThrow(expect.objectContaining({ code: 'ALERT_NOT_FOUND' }));
  });
});
