import { hostname } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_LIMITS, type DecodeLimits } from '../contracts/index.ts';
import { INFLUX_DEFAULTS, type InfluxConnection } from '../store/influx/influx-http.ts';
import { POSTGRES_DEFAULTS, SCHEMA_NAME, type PostgresConnection } from '../store/postgres/pg-pool.ts';
import { EnvReader } from './env-reader.ts';
import { readTlsServerFiles, type TlsServerFiles } from './tls-files.ts';

const DAY_MS = 86_400_000;

/**
 * Which store, and how to reach it. `path` and `synchronous` name the SQLite
 * file: the whole store, or with InfluxDB the transactional state beside it
 * unless `postgres` is set (DATABASE_URL: the state in PostgreSQL).
 */
export type StoreConfig =
  | { readonly kind: 'sqlite'; readonly path: string; readonly synchronous: 'full' | 'normal' }
  | {
      readonly kind: 'influxdb';
      readonly path: string;
      readonly synchronous: 'full' | 'normal';
      readonly influx: InfluxStoreConfig;
      readonly postgres: PostgresConnection | undefined;
    }
  | { readonly kind: 'postgres'; readonly postgres: PostgresConnection };

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
  const kind = r.oneOf('SUIDO_STORE', 'sqlite', ['sqlite', 'influxdb', 'postgres'] as const);
  const path = r.string('SUIDO_SQLITE_PATH', join(dataDir, 'suido.db'));
  const synchronous = r.oneOf('SUIDO_SQLITE_SYNCHRONOUS', 'full', ['full', 'normal'] as const);
  const postgres = readPostgresConfig(r, kind);
  // Without DATABASE_URL a problem is recorded, and the reader's finish() throws before this is used.
  if (kind === 'postgres') return { kind, postgres: postgres! };
  if (kind === 'sqlite') return { kind, path, synchronous };
  return { kind, path, synchronous, influx: readInfluxConfig(r), postgres };
}

/**
 * DATABASE_URL (README: Storage, PostgreSQL): required by SUIDO_STORE=postgres,
 * optional with influxdb (then the state goes to PostgreSQL instead of the
 * SQLite file), refused with sqlite, where it would be silently ignored. The
 * URL holds a password: no problem message repeats it.
 */
function readPostgresConfig(r: EnvReader, kind: 'sqlite' | 'influxdb' | 'postgres'): PostgresConnection | undefined {
  const url = r.optionalString('DATABASE_URL');
  if (url === undefined) {
    if (kind === 'postgres') r.problem('SUIDO_STORE=postgres needs DATABASE_URL (postgresql://user:password@host:5432/database)');
    return undefined;
  }
  if (kind === 'sqlite') {
    r.problem('DATABASE_URL is set but SUIDO_STORE is sqlite, which would ignore it: set SUIDO_STORE=postgres (or influxdb), or unset DATABASE_URL');
    return undefined;
  }
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    r.problem('DATABASE_URL is not a URL (expected postgresql://user:password@host:5432/database; its value is not shown)');
  }
  if (parsed && parsed.protocol !== 'postgresql:' && parsed.protocol !== 'postgres:') r.problem(`DATABASE_URL must start with postgresql:// or postgres://, not ${parsed.protocol}//`);
  if (parsed && parsed.hostname === '' && !parsed.searchParams.has('host')) r.problem('DATABASE_URL names no host (its value is not shown)');
  return {
    url,
    schema: r.string('DATABASE_SCHEMA', POSTGRES_DEFAULTS.schema, SCHEMA_NAME),
    poolMax: r.int('DATABASE_POOL_MAX', POSTGRES_DEFAULTS.poolMax, 1, 1000),
  };
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
  /** `tls`: the embedded broker listens with TLS (mqtts://) instead of plain TCP (README: Security). */
  readonly mqtt: { readonly host: string; readonly port: number; readonly tls: TlsServerFiles | undefined };
  readonly mqttAuth: MqttAuthConfig;
  /** Port of the ingest service's own /metrics, /healthz, /readyz; 0 disables. */
  readonly httpPort: number;
  readonly batch: { readonly maxItems: number; readonly maxDelayMs: number };
  /** Items received and not yet committed beyond which messages wait unacknowledged (back-pressure). */
  readonly maxBacklogItems: number;
  readonly limits: DecodeLimits;
  readonly deadLetterMaxBytes: number;
  readonly pcmRetentionMs: number;
  readonly logLevel: string;
  /** INGEST_MQTT_MODE=external: a client of this broker; undefined: the embedded broker. */
  readonly external: ExternalMqttConfig | undefined;
}

export function loadIngestConfig(env: Readonly<Record<string, string | undefined>> = process.env): IngestConfig {
  const r = new EnvReader(env);
  const config: IngestConfig = {
    store: readStoreConfig(r),
    mqtt: {
      host: r.string('MQTT_HOST', '127.0.0.1'),
      port: r.int('MQTT_PORT', 1883, 0, 65535),
      tls: readTlsServerFiles(r, 'MQTT_TLS_CERT_FILE', 'MQTT_TLS_KEY_FILE'),
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
    maxBacklogItems: r.int('INGEST_MAX_BACKLOG_ITEMS', 200_000, 1, 100_000_000),
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
    external: readExternalMqttConfig(r),
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

/** How ingest reaches an external broker (README: External broker). */
export interface ExternalMqttConfig {
  /** mqtt:// or mqtts://, without credentials. */
  readonly url: string;
  /** Stable per worker: the broker keeps the session (and its queue) under this id. */
  readonly clientId: string;
  readonly username: string | undefined;
  readonly password: string | undefined;
  /** PEM file of the CA that signed the broker's certificate (mqtts://); undefined: the system's CAs. */
  readonly caFile: string | undefined;
  /** How long the broker keeps the session, and queues for it, while this worker is away. */
  readonly sessionExpirySeconds: number;
  /** Workers with the same group split the device topics ($share/<group>/...); undefined: one worker takes all. */
  readonly shareGroup: string | undefined;
  /** Messages received and not yet acknowledged, at most (MQTT 5 Receive Maximum, enforced here too). */
  readonly receiveMaximum: number;
  readonly keepaliveSeconds: number;
  /** Reconnection back-off: doubles from min to max, with jitter. */
  readonly reconnectMinMs: number;
  readonly reconnectMaxMs: number;
}

/** An MQTT 5 share name may not hold '/', '+' or '#'; kept to what reads well in ACLs and logs. */
const SHARE_GROUP = /^[A-Za-z0-9_.-]{1,64}$/;

export function readExternalMqttConfig(r: EnvReader): ExternalMqttConfig | undefined {
  const mode = r.oneOf('INGEST_MQTT_MODE', 'embedded', ['embedded', 'external'] as const);
  if (mode === 'embedded') return undefined;
  // The external broker's TLS is its own listener's (README: Security); ingest would silently ignore these.
  if (r.optionalString('MQTT_TLS_CERT_FILE') !== undefined || r.optionalString('MQTT_TLS_KEY_FILE') !== undefined) {
    r.problem('MQTT_TLS_CERT_FILE and MQTT_TLS_KEY_FILE are for the embedded broker; with INGEST_MQTT_MODE=external the broker serves TLS itself (ingest trusts it with MQTT_CA_FILE)');
  }
  const url = r.optionalString('MQTT_URL');
  if (url === undefined) r.problem('INGEST_MQTT_MODE=external needs MQTT_URL (e.g. mqtts://broker.example:8883)');
  else checkBrokerUrl(r, url);
  const username = r.optionalString('MQTT_USERNAME');
  const password = r.optionalString('MQTT_PASSWORD');
  if (password !== undefined && username === undefined) r.problem('MQTT_PASSWORD is set: set MQTT_USERNAME too');
  const reconnectMinMs = r.int('MQTT_RECONNECT_MIN_MS', 500, 10, 600_000);
  const reconnectMaxMs = r.int('MQTT_RECONNECT_MAX_MS', 30_000, 10, 3_600_000);
  if (reconnectMaxMs < reconnectMinMs) r.problem('MQTT_RECONNECT_MAX_MS must not be below MQTT_RECONNECT_MIN_MS');
  return {
    url: url ?? '',
    // The default is stable across restarts (the session is found again); two workers on one host need their own ids.
    clientId: r.string('MQTT_CLIENT_ID', `suido-ingest-${hostname()}`, /^[A-Za-z0-9_.:-]{1,128}$/),
    username,
    password,
    caFile: r.optionalString('MQTT_CA_FILE'),
    sessionExpirySeconds: r.int('MQTT_SESSION_EXPIRY_S', 86_400, 0, 0xffff_fffe),
    shareGroup: r.optionalString('MQTT_SHARE_GROUP') === undefined ? undefined : r.string('MQTT_SHARE_GROUP', '', SHARE_GROUP),
    receiveMaximum: r.int('MQTT_RECEIVE_MAXIMUM', 1000, 1, 65_535),
    keepaliveSeconds: r.int('MQTT_KEEPALIVE_S', 30, 5, 65_535),
    reconnectMinMs,
    reconnectMaxMs,
  };
}

/** The URL is logged, so a problem with it must not echo a password that was put in it by mistake. */
function checkBrokerUrl(r: EnvReader, url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    r.problem('MQTT_URL is not a URL (expected mqtt://host:port or mqtts://host:port)');
    return;
  }
  if (parsed.protocol !== 'mqtt:' && parsed.protocol !== 'mqtts:') r.problem(`MQTT_URL must start with mqtt:// or mqtts://, not ${parsed.protocol}//`);
  if (parsed.username !== '' || parsed.password !== '') r.problem('MQTT_URL must not hold credentials (its value is not shown): use MQTT_USERNAME and MQTT_PASSWORD');
  if (parsed.hostname === '') r.problem('MQTT_URL names no host');
}
