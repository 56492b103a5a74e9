import { setTimeout as sleepFor } from 'node:timers/promises';

export interface BackoffPolicy {
  /** First delay, ms. */
  readonly initialMs: number;
  /** Longest delay, ms. */
  readonly maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 100, maxMs: 5_000 };

/**
 * Exponential back-off with equal jitter: half the step fixed, half random,
 * so thousands of devices that lost the broker together do not reconnect in
 * one wave. The jitter only spreads timing, never data, so it need not come
 * from the scenario seed.
 */
export function backoffDelayMs(attempt: number, policy: BackoffPolicy = DEFAULT_BACKOFF): number {
  const step = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(attempt, 30));
  return step / 2 + (Math.random() * step) / 2;
}

/** Waits, or rejects with the abort reason when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return sleepFor(ms, undefined, { signal });
}
