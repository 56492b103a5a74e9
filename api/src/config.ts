import { DEFAULT_BILLING_SETTINGS, type BillingSettings } from './billing/billing-routes.ts';
import { isTimeZone } from './billing/billing-time.ts';
import { DEFAULT_RATE_LIMIT_PER_MINUTE } from './access/access-control.ts';
import { ConfigError, EnvReader, readLogLevel, readStoreConfig, readTlsServerFiles, type StoreConfig, type TlsServerFiles } from '@suido/ingest';

const HOUR_MS = 3_600_000;

export interface ApiConfig {
  readonly host: string;
  readonly port: number;
  /** API_TLS_CERT_FILE and API_TLS_KEY_FILE: serve HTTPS instead of HTTP (README: Security). */
  readonly https: TlsServerFiles | undefined;
  readonly store: StoreConfig;
  readonly logLevel: string;
  /** Requests a minute per API key, or per client address without a valid key; 0: no limit (README: Access). */
  readonly rateLimitPerMinute: number;
  /** Billing estimates, cut-offs and registers (api/src/billing/). */
  readonly billing: BillingSettings;
}

/** Everything the API service reads from its environment (README: Configuration). */
export function loadApiConfig(env: Readonly<Record<string, string | undefined>> = process.env): ApiConfig {
  const r = new EnvReader(env);
  const config: ApiConfig = {
    host: r.string('API_HOST', '127.0.0.1'),
    port: r.int('API_PORT', 8080, 0, 65535),
    https: readTlsServerFiles(r, 'API_TLS_CERT_FILE', 'API_TLS_KEY_FILE'),
    store: readStoreConfig(r),
    logLevel: readLogLevel(r),
    rateLimitPerMinute: r.int('API_RATE_LIMIT_PER_MINUTE', DEFAULT_RATE_LIMIT_PER_MINUTE, 0, 1_000_000),
    billing: {
      maxGapMs: r.int('BILLING_MAX_GAP_HOURS', DEFAULT_BILLING_SETTINGS.maxGapMs / HOUR_MS, 1, 24 * 62) * HOUR_MS,
      maxExtrapolationMs: r.int('BILLING_MAX_EXTRAPOLATION_HOURS', DEFAULT_BILLING_SETTINGS.maxExtrapolationMs / HOUR_MS, 0, 24 * 62) * HOUR_MS,
      timeZone: r.string('BILLING_TIME_ZONE', DEFAULT_BILLING_SETTINGS.timeZone),
      registerMaxL: r.int('BILLING_REGISTER_MAX_L', DEFAULT_BILLING_SETTINGS.registerMaxL, 1, Number.MAX_SAFE_INTEGER - 1),
    },
  };
  r.finish();
  // A zone Intl does not know would fail the first request instead of start-up.
  if (!isTimeZone(config.billing.timeZone)) {
    throw new ConfigError([`BILLING_TIME_ZONE='${config.billing.timeZone}' is not an IANA time zone this Node.js knows (e.g. Asia/Tokyo)`]);
  }
  return config;
}
