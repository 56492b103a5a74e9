import { describe, expect, it } from 'vitest';
import { SimClock } from './sim-clock.ts';
import { HOUR_MS, isWeekend, tokyoDay, tokyoHour, tokyoMidnight } from './tokyo-time.ts';

const NOW = Date.parse('2026-11-20T03:00:00Z');

/** A wall clock that moves only when the clock under test sleeps. */
function fakeWall(start: number) {
  let t = start;
  const sleeps: number[] = [];
  return {
    now: () => t,
    advance: (ms: number) => (t += ms),
    sleeps,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      t += ms;
    },
  };
}

describe('simulated clock', () => {
  it('runs speed times faster than the wall clock, then in real time once caught up', () => {
    const wall = fakeWall(NOW);
    const clock = new SimClock({ startMs: NOW - 10 * HOUR_MS, speed: 11, wallClock: wall.now });
    expect(clock.now()).toBe(NOW - 10 * HOUR_MS);
    wall.advance(HOUR_MS / 2); // 5.5 simulated hours later, 9.5 h behind the wall
    expect(clock.now()).toBe(NOW - 10 * HOUR_MS + 5.5 * HOUR_MS);
    expect(clock.isCaughtUp()).toBe(false);
    // 10 h behind, gaining 10 h per wall hour: caught up one wall hour after start.
    expect(clock.caughtUpAtMs).toBe(NOW + HOUR_MS);
    wall.advance(HOUR_MS / 2);
    expect(clock.now()).toBe(NOW + HOUR_MS);
    expect(clock.isCaughtUp()).toBe(true);
    wall.advance(5 * HOUR_MS);
    expect(clock.now()).toBe(wall.now());
  });

  it('is never ahead of the wall clock', () => {
    const wall = fakeWall(NOW);
    const clock = new SimClock({ startMs: NOW - HOUR_MS, speed: 1e6, wallClock: wall.now });
    for (let i = 0; i < 100; i++) {
      wall.advance(37);
      expect(clock.now()).toBeLessThanOrEqual(wall.now());
    }
  });

  it('waits the wall time that simulated time needs, and in real time beyond the present', async () => {
    const wall = fakeWall(NOW);
    const clock = new SimClock({ startMs: NOW - 100 * HOUR_MS, speed: 3600, wallClock: wall.now, sleep: wall.sleep });
    await clock.until(NOW - 99 * HOUR_MS);
    expect(wall.sleeps).toEqual([1000]);
    await clock.until(NOW - 99 * HOUR_MS); // already there
    expect(wall.sleeps).toHaveLength(1);
    const future = wall.now() + 2 * HOUR_MS;
    await clock.until(future);
    expect(clock.now()).toBe(future);
    expect(wall.now()).toBe(future);
  });

  it('stops waiting when aborted', async () => {
    const clock = new SimClock({ startMs: Date.now() - HOUR_MS, speed: 1 });
    const abort = new AbortController();
    const waiting = clock.until(Date.now() + HOUR_MS, abort.signal);
    abort.abort(new Error('stop'));
    await expect(waiting).rejects.toThrow();
    expect(clock.caughtUpAtMs).toBe(Infinity);
  });

  it('refuses to start in the future or run slower than real time', () => {
    expect(() => new SimClock({ startMs: Date.now() + HOUR_MS, speed: 10 })).toThrow(/future/);
    expect(() => new SimClock({ startMs: Date.now(), speed: 0.5 })).toThrow(/speed/);
  });
});

describe('Tokyo time', () => {
  it('is UTC+9 without daylight saving', () => {
    const t = Date.parse('2026-07-01T15:30:00Z'); // 00:30 on 2 July in Tokyo
    expect(tokyoHour(t)).toBe(0);
    expect(new Date(tokyoMidnight(tokyoDay(t))).toISOString()).toBe('2026-07-01T15:00:00.000Z');
    expect(isWeekend(tokyoDay(Date.parse('2026-11-21T03:00:00Z')))).toBe(true); // a Saturday
    expect(isWeekend(tokyoDay(Date.parse('2026-11-20T03:00:00Z')))).toBe(false);
  });
});
