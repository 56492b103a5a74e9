import type { Store } from '@suido/ingest';

/** Where a feed consumer stands: its cursor and the stored version that fences a second copy. */
export interface FeedPosition {
  readonly cursor: number;
  readonly version: number;
}

/** The consumer's stored position, or the feed's beginning (version 0: "must not exist yet"). */
export async function loadFeedPosition(store: Store, consumer: string): Promise<FeedPosition> {
  const state = await store.getConsumerState(consumer);
  if (!state) return { cursor: 0, version: 0 };
  const cursor = parseCursorState(state.value);
  if (cursor === undefined) throw new AlertEngineStateError(consumer, state.value);
  return { cursor, version: state.version };
}

/** The document a position is stored as. */
export function cursorState(cursor: number): { v: 1; cursor: number } {
  return { v: 1, cursor };
}

/**
 * The cursor document every feed consumer here keeps in the store:
 * `{ v: 1, cursor }`. Its version in the store fences a second copy.
 */
export function parseCursorState(value: unknown): number | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  return v.v === 1 && typeof v.cursor === 'number' && Number.isSafeInteger(v.cursor) && v.cursor >= 0 ? v.cursor : undefined;
}

/**
 * A consumer's stored cursor is not one this build reads. The consumer stops
 * rather than start again from 0 (which would replay every alert decision).
 */
export class AlertEngineStateError extends Error {
  readonly code = 'ALERT_ENGINE_STATE_INVALID';
  readonly consumer: string;
  constructor(consumer: string, value: unknown) {
    super(`consumer state '${consumer}' is not a cursor this build reads: ${JSON.stringify(value)?.slice(0, 200)}`);
    this.name = 'AlertEngineStateError';
    this.consumer = consumer;
  }
}
