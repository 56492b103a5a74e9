import { join } from 'node:path';
import { DEFAULT_LIMITS, type DecodeLimits } from '../contracts/index.ts';
import { INFLUX_DEFAULTS, type InfluxConnection } from '../store/influx/influx-http.ts';
import { EnvReader } from './env-reader.ts';

const DAY_MS = 86_400_000;

/**
 * Which store, and how to reach it. `path` and `synchronous` name the SQLite
 * file: the whole store, or with InfluxDB the transactional state beside it.
 */
export type StoreConfig =
  | { readonly kind: 'sqlite'; readonly path: string; readonly synchronous: 'full' | 'normal' }
  | { readonly kind: 'influxdb'; readonly path: string; readonly synchronous: 'full' | 'normal'; readonly influx: InfluxStoreConfig };

export interface InfluxStoreConfig extends InfluxConnection {
  /** Create the database, retention policies and continuous queries when missing. */
  readonly manageSchema: boolean;
  /** Duration of the raw retention policy when Suido creates it. */
  readonly rawRetention: string;
}

/** InfluxQL names Suido accepts for a database or retention policy (quoted in every statement anyway). */
const INFLUX_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;

/** The store every service opens; ingest, API and detector read the same variables. */
export function readStoreConfig(r: EnvReader): StoreConfig {
  const dataDir = r.string('SUIDO_DATA_DIR', './data');
  const kind = r.oneOf('SUIDO_STORE', 'sqlite', ['sqlite', 'influxdb'] as const);
  const path = r.string('SUIDO_SQLITE_PATH', join(dataDir, 'suido.db'));
  const synchronous = r.oneOf('SUIDO_SQLITE_SYNCHRONOUS', 'full', ['full', 'normal'] as const);
  if (kind === 'sqlite') return { kind, path, synchronous };
  return { kind, path, synchronous, influx: readInfluxConfig(r) };
}

function readInfluxConfig(r: EnvReader): InfluxStoreConfig {
  const url = r.string('INFLUX_URL', 'http://127.0.0.1:8086', /^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/);
  const writeApi = r.oneOf('INFLUX_WRITE_API', 'v1', ['v1', 'v2'] as const);
  const token = r.optionalString('INFLUX_TOKEN');
  const username = r.optionalString('INFLUX_USERNAME');
  const password = r.optionalString('INFLUX_PASSWORD');
  if (username !== undefined && password === undefined) r.problem('INFLUX_USERNAME is set: set INFLUX_PASSWORD too');
  if (writeApi === 'v1' && token !== undefined) r.problem('INFLUX_TOKEN is for INFLUX_WRITE_API=v2; InfluxDB 1.x takes INFLUX_USERNAME and INFLUX_PASSWORD');
  if (writeApi === 'v2' && username !== undefined) r.problem('INFLUX_USERNAME is for INFLUX_WRITE_API=v1; the v2 API takes INFLUX_TOKEN');
  if (/^https?:\/\/[^/]*@/.test(url)) r.problem('INFLUX_URL must not hold credentials: use INFLUX_TOKEN or INFLUX_USERNAME/INFLUX_PASSWORD');
  const retention = r.string('INFLUX_RAW_RETENTION', 'INF', /^(INF|[1-9][0-9]*(h|d|w))$/);
  return {
    url,
    database: r.string('INFLUX_DATABASE', 'suido', INFLUX_NAME),
    retentionPolicy: r.string('INFLUX_RETENTION_POLICY', 'raw', INFLUX_NAME),
    writeApi,
    token,
    org: r.optionalString('INFLUX_ORG'),
    bucket: r.optionalString('INFLUX_BUCKET'),
    username,
    password,
    timeoutMs: r.int('INFLUX_TIMEOUT_MS', INFLUX_DEFAULTS.timeoutMs, 100, 600_000),
    batchLines: r.int('INFLUX_BATCH_LINES', INFLUX_DEFAULTS.batchLines, 1, 100_000),
    maxRetries: r.int('INFLUX_MAX_RETRIES', INFLUX_DEFAULTS.maxRetries, 0, 100),
    maxRetryTimeMs: r.int('INFLUX_MAX_RETRY_TIME_MS', INFLUX_DEFAULTS.maxRetryTimeMs, 0, 3_600_000),
    minRetryDelayMs: INFLUX_DEFAULTS.minRetryDelayMs,
    maxRetryDelayMs: INFLUX_DEFAULTS.maxRetryDelayMs,
    // 2.x and 3.x make buckets and their mappings through their own APIs, not InfluxQL.
    manageSchema: r.bool('INFLUX_MANAGE_SCHEMA', writeApi === 'v1'),
    rawRetention: retention,
  };
}

export interface IngestConfig {
  readonly store: StoreConfig;
  readonly mqtt: { readonly host: string; readonly port: number };
  readonly mqttAuth: MqttAuthConfig;
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
    mqttAuth: {
      allowAnonymous: r.bool('MQTT_ALLOW_ANONYMOUS', false),
      servicePassword: readMqttServicePassword(r),
      credentialRecheckMs: r.int('MQTT_CREDENTIAL_RECHECK_S', 60, 0, 86_400) * 1000,
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

/** Who may use the broker (README: Devices and credentials). */
export interface MqttAuthConfig {
  /** Clients without a username may connect and do anything: development only. */
  readonly allowAnonymous: boolean;
  /** The service principal's password; undefined: no service principal. */
  readonly servicePassword: string | undefined;
  /** How often connected devices and gateways are checked for a revoked credential; 0: never. */
  readonly credentialRecheckMs: number;
}

/**
 * MQTT_SERVICE_PASSWORD: read by the broker (to check it) and by the services
 * that log in with it (the detector's alert relay). It is hashed with a fast
 * hash (broker/mqtt-credentials.ts), so it must be long, not memorable.
 */
export function readMqttServicePassword(r: EnvReader): string | undefined {
  return r.secret('MQTT_SERVICE_PASSWORD', 24);
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export function readLogLevel(r: EnvReader): (typeof LOG_LEVELS)[number] {
  return r.oneOf('LOG_LEVEL', 'info', LOG_LEVELS);
}
