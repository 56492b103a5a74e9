import type { MeterFlag } from '@suido/ingest';

/** What devices publish, before MQTT: the unit the publishers deliver and the report counts. */
export type MessageKind = 'reads' | 'status' | 'acoustic';

export const MESSAGE_KINDS: readonly MessageKind[] = ['reads', 'status', 'acoustic'];

/** One hourly interval read as the meter sent it: the register at `ts`. */
export interface LedgerRead {
  /** Milliseconds since the epoch, top of an hour. */
  readonly ts: number;
  /** Cumulative register, integer litres. */
  readonly registerL: number;
  /** Alarms the meter raised with this read (e.g. `leak` after 24 h of continuous flow). */
  readonly flags?: readonly MeterFlag[] | undefined;
}

export interface OutMessage {
  readonly kind: MessageKind;
  readonly deviceId: string;
  readonly topic: string;
  readonly payload: Buffer;
  /** Valid reads the message carries; empty for status, frames and malformed payloads. */
  readonly reads: readonly LedgerRead[];
  /** Set when the payload was corrupted on purpose: the server must dead-letter it. */
  readonly malformed?: string | undefined;
  /** A second send of a message already sent (device retry, QoS 1 redelivery). */
  readonly duplicate?: boolean | undefined;
  /** Held by store-and-forward and sent days late. */
  readonly late?: boolean | undefined;
  /** Reads shuffled within the batch, or an older batch sent after a newer one. */
  readonly outOfOrder?: boolean | undefined;
}

/** What one device sends in one radio session (one connection in per-device mode). */
export interface Session {
  readonly deviceId: string;
  readonly messages: readonly OutMessage[];
}
