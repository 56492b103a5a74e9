/**
 * Why a device message was refused. Codes are stable: dashboards, alerts and
 * the dead-letter table key on them, so a code is never renamed or reused.
 */
export const REJECTION_CODES = [
  // Topic and envelope
  'TOPIC_UNKNOWN',
  'DEVICE_ID_INVALID',
  'PAYLOAD_TOO_LARGE',
  // Meter reads (JSON)
  'READS_JSON_INVALID',
  'READS_SHAPE_INVALID',
  'READS_BATCH_EMPTY',
  'READS_BATCH_TOO_LARGE',
  'READ_TS_INVALID',
  'READ_TS_FUTURE',
  'READ_TS_TOO_OLD',
  'READ_REGISTER_INVALID',
  'READ_FLAG_UNKNOWN',
  'READ_TS_REPEATED_IN_BATCH',
  // A read for a (meter, ts) already stored with another register value.
  'READ_CONFLICT',
  // Acoustic frames (binary)
  'FRAME_TOO_SHORT',
  'FRAME_MAGIC_INVALID',
  'FRAME_VERSION_UNSUPPORTED',
  'FRAME_HEADER_INVALID',
  'FRAME_SAMPLE_RATE_INVALID',
  'FRAME_TS_INVALID',
  'FRAME_TS_FUTURE',
  'FRAME_TS_TOO_OLD',
  'FRAME_GAIN_INVALID',
  'FRAME_SAMPLE_COUNT_INVALID',
  'FRAME_LENGTH_MISMATCH',
  // Status / heartbeat (JSON)
  'STATUS_JSON_INVALID',
  'STATUS_SHAPE_INVALID',
  'STATUS_TS_INVALID',
  'STATUS_TS_FUTURE',
  'STATUS_TS_TOO_OLD',
] as const;

export type RejectionCode = (typeof REJECTION_CODES)[number];

export interface Rejection {
  readonly code: RejectionCode;
  /** Human-readable reason, safe to log and to show to an operator. */
  readonly message: string;
}

export type Decoded<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly rejection: Rejection };

export function reject(code: RejectionCode, message: string): { ok: false; rejection: Rejection } {
  return { ok: false, rejection: { code, message } };
}

export function accept<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}
