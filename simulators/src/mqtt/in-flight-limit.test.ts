import { describe, expect, it } from 'vitest';
import { InFlightLimit } from './in-flight-limit.ts';

describe('in-flight limit', () => {
  it('lets at most `limit` run, the rest in order', async () => {
    const limit = new InFlightLimit(2);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        limit.run(async () => {
          running++;
          peak = Math.max(peak, running);
          order.push(i);
          await new Promise((r) => setTimeout(r, 5));
          running--;
        }),
      ),
    );
    expect(peak).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
    expect(limit.inFlight).toBe(0);
  });

  it('drops a waiter whose signal aborts', async () => {
    const limit = new InFlightLimit(1);
    await limit.acquire();
    const abort = new AbortController();
    const waiting = limit.acquire(abort.signal);
    abort.abort(new Error('stopped'));
    await expect(waiting).rejects.toThrow('stopped');
    limit.release();
    expect(limit.inFlight).toBe(0);
  });
});
