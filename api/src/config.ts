import { DEFAULT_REGISTER_RULES } from './billing/register-at.ts';
import { DEFAULT_RATE_LIMIT_PER_MINUTE } from './access/access-control.ts';
import { EnvReader, readLogLevel, readStoreConfig, type StoreConfig } from '@suido/ingest';

const HOUR_MS = 3_600_000;

export interface ApiConfig {
  readonly host: string;
  readonly port: number;
  readonly store: StoreConfig;
  readonly logLevel: string;
  /** Requests a minute per API key, or per client address without a valid key; 0: no limit (README: Access). */
  readonly rateLimitPerMinute: number;
  /** Billing estimates (api/src/billing/register-at.ts). */
  readonly billing: { readonly maxGapMs: number; readonly maxExtrapolationMs: number };
}

/** Everything the API service reads from its environment (README: Configuration). */
export function loadApiConfig(env: Readonly<Record<string, string | undefined>> = process.env): ApiConfig {
  const r = new EnvReader(env);
  const config: ApiConfig = {
    host: r.string('API_HOST', '127.0.0.1'),
    port: r.int('API_PORT', 8080, 0, 65535),
    store: readStoreConfig(r),
    logLevel: readLogLevel(r),
    rateLimitPerMinute: r.int('API_RATE_LIMIT_PER_MINUTE', DEFAULT_RATE_LIMIT_PER_MINUTE, 0, 1_000_000),
    billing: {
      maxGapMs: r.int('BILLING_MAX_GAP_HOURS', DEFAULT_REGISTER_RULES.maxGapMs / HOUR_MS, 1, 24 * 62) * HOUR_MS,
      maxExtrapolationMs: r.int('BILLING_MAX_EXTRAPOLATION_HOURS', DEFAULT_REGISTER_RULES.maxExtrapolationMs / HOUR_MS, 0, 24 * 62) * HOUR_MS,
    },
  };
  r.finish();
  return config;
}
