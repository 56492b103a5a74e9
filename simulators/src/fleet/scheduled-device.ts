import type { Session } from './messages.ts';

/** A simulated device as the fleet schedule sees it: when it next sends, and what. */
export interface ScheduledDevice {
  readonly id: string;
  /** Simulated time of its next session, ms since the epoch; Infinity when it will send nothing more. */
  readonly nextAt: number;
  /**
   * Runs the device up to `nextAt` and returns what it sends then, or
   * undefined when it sends nothing (offline, holding its batches); then moves
   * `nextAt` on to its following session.
   */
  fire(): Session | undefined;
  /** Batches it holds and has not sent yet (store-and-forward). */
  heldBatches(): number;
}
