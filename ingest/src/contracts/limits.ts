/**
 * Bounds every decoder enforces. They are configuration (INGEST_* variables)
 * because a bureau may run meters that buffer longer or sensors that record
 * longer frames; the defaults suit the devices described in DOMAIN.md.
 */
export interface DecodeLimits {
  /** Largest payload accepted on any device topic, in bytes. */
  readonly maxPayloadBytes: number;
  /** Most reads in one batch: 62 days of hourly reads from store-and-forward. */
  readonly maxReadsPerBatch: number;
  /** How far a device clock may run ahead of ours before its timestamps are refused. */
  readonly maxFutureSkewMs: number;
  /** Oldest timestamp accepted, as an age. Late reads are normal (days), not years. */
  readonly maxAgeMs: number;
  readonly minSampleRateHz: number;
  readonly maxSampleRateHz: number;
  /** Longest frame accepted, in samples (60 s at 16 kHz by default). */
  readonly maxSamplesPerFrame: number;
}

const DAY_MS = 86_400_000;

export const DEFAULT_LIMITS: DecodeLimits = {
  maxPayloadBytes: 2 * 1024 * 1024,
  maxReadsPerBatch: 24 * 62,
  maxFutureSkewMs: 5 * 60_000,
  maxAgeMs: 400 * DAY_MS,
  // Hand-held loggers record at 4–8 kHz, field sensors up to ~10 kHz,
  // hydrophones up to 48 kHz (PARTS.md). Below 1 kHz a metal-pipe leak band
  // (200–1,500 Hz) cannot be represented.
  minSampleRateHz: 1_000,
  maxSampleRateHz: 48_000,
  maxSamplesPerFrame: 60 * 16_000,
};

/** Checks a device timestamp (ms since epoch) against the clock and the limits. */
export function timestampProblem(ms: number, nowMs: number, limits: DecodeLimits): 'future' | 'old' | undefined {
  if (ms > nowMs + limits.maxFutureSkewMs) return 'future';
  if (ms < nowMs - limits.maxAgeMs) return 'old';
  return undefined;
}

/**
 * ISO 8601 date-time with an explicit offset ('Z' or ±hh:mm). A time without
 * an offset is ambiguous (device local time or UTC?) and a wrong guess shifts
 * a billing read by nine hours in Japan, so it is refused rather than guessed.
 */
const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;

export function parseIsoTimestamp(text: string): number | undefined {
  if (!ISO_WITH_OFFSET.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? ms : undefined;
}
