import { EnvReader, readLogLevel, readStoreConfig, type StoreConfig } from '@suido/ingest';

export interface ApiConfig {
  readonly host: string;
  readonly port: number;
  readonly store: StoreConfig;
  readonly logLevel: string;
}

/** Everything the API service reads from its environment (README: Configuration). */
export function loadApiConfig(env: Readonly<Record<string, string | undefined>> = process.env): ApiConfig {
  const r = new EnvReader(env);
  const config: ApiConfig = {
    host: r.string('API_HOST', '127.0.0.1'),
    port: r.int('API_PORT', 8080, 0, 65535),
    store: readStoreConfig(r),
    logLevel: readLogLevel(r),
  };
  r.finish();
  return config;
}
