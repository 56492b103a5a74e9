import { join } from 'node:path';
import { DEFAULT_LIMITS, type DecodeLimits } from '../contracts/index.ts';
import { EnvReader } from './env-reader.ts';

const DAY_MS = 86_400_000;

/** Everything the ingest service reads from its environment (README: Configuration). */
export interface StoreConfig {
  readonly kind: 'sqlite';
  readonly path: string;
  readonly synchronous: 'full' | 'normal';
}

/** The store every service opens; ingest, API and detector read the same variables. */
export function readStoreConfig(r: EnvReader): StoreConfig {
  const dataDir = r.string('SUIDO_DATA_DIR', './data');
  return {
    kind: r.oneOf('SUIDO_STORE', 'sqlite', ['sqlite'] as const),
    path: r.string('SUIDO_SQLITE_PATH', join(dataDir, 'suido.db')),
    synchronous: r.oneOf('SUIDO_SQLITE_SYNCHRONOUS', 'full', ['full', 'normal'] as const),
  };
}

export interface IngestConfig {
  readonly store: StoreConfig;
  readonly mqtt: { readonly host: string; readonly port: number };
  /** Port of the ingest service's own /metrics, /healthz, /readyz; 0 disables. */
  readonly httpPort: number;
  readonly batch: { readonly maxItems: number; readonly maxDelayMs: number };
  readonly limits: DecodeLimits;
  readonly deadLetterMaxBytes: number;
  readonly pcmRetentionMs: number;
  readonly logLevel: string;
}

export function loadIngestConfig(env: Readonly<Record<string, string | undefined>> = process.env): IngestConfig {
  const r = new EnvReader(env);
  const config: IngestConfig = {
    store: readStoreConfig(r),
    mqtt: {
      host: r.string('MQTT_HOST', '127.0.0.1'),
      port: r.int('MQTT_PORT', 1883, 0, 65535),
    },
    httpPort: r.int('INGEST_HTTP_PORT', 9464, 0, 65535),
    batch: {
      maxItems: r.int('INGEST_BATCH_MAX_ITEMS', 5000, 1, 1_000_000),
      maxDelayMs: r.int('INGEST_BATCH_MAX_DELAY_MS', 20, 0, 10_000),
    },
    limits: {
      maxPayloadBytes: r.int('INGEST_MAX_PAYLOAD_BYTES', DEFAULT_LIMITS.maxPayloadBytes, 1024, 64 * 1024 * 1024),
      maxReadsPerBatch: r.int('INGEST_MAX_READS_PER_BATCH', DEFAULT_LIMITS.maxReadsPerBatch, 1, 100_000),
      maxFutureSkewMs: r.int('INGEST_MAX_FUTURE_SKEW_S', DEFAULT_LIMITS.maxFutureSkewMs / 1000, 0, 86_400) * 1000,
      maxAgeMs: r.int('INGEST_MAX_AGE_DAYS', DEFAULT_LIMITS.maxAgeMs / DAY_MS, 1, 36_500) * DAY_MS,
      minSampleRateHz: DEFAULT_LIMITS.minSampleRateHz,
      maxSampleRateHz: DEFAULT_LIMITS.maxSampleRateHz,
      maxSamplesPerFrame: r.int('INGEST_MAX_SAMPLES_PER_FRAME', DEFAULT_LIMITS.maxSamplesPerFrame, 1, 10_000_000),
    },
    deadLetterMaxBytes: r.int('INGEST_DEAD_LETTER_MAX_BYTES', 64 * 1024, 0, 64 * 1024 * 1024),
    pcmRetentionMs: r.int('FRAME_PCM_RETENTION_DAYS', 14, 0, 3650) * DAY_MS,
    logLevel: readLogLevel(r),
  };
  r.finish();
  return config;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export function readLogLevel(r: EnvReader): (typeof LOG_LEVELS)[number] {
  return r.oneOf('LOG_LEVEL', 'info', LOG_LEVELS);
}
