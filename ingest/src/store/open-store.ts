import type { IngestConfig } from '../config/ingest-config.ts';
import { InfluxStore } from './influx/influx-store.ts';
import { PostgresStore } from './postgres/postgres-store.ts';
import { SqliteStore } from './sqlite-store.ts';
import type { ApiKeyStore } from './api-key-store.ts';
import type { DeviceCredentialStore } from './device-credentials.ts';
import type { Store } from './store.ts';

/**
 * The store the configuration names: SQLite, PostgreSQL, or InfluxDB for
 * the series beside SQLite or PostgreSQL for the state; API keys and device
 * credentials are mutable state and go with the transactional part.
 */
export function openStore(config: Pick<IngestConfig, 'store'>): Store & ApiKeyStore & DeviceCredentialStore {
  switch (config.store.kind) {
    case 'sqlite':
      return new SqliteStore({ path: config.store.path, synchronous: config.store.synchronous });
    case 'influxdb': {
      const { manageSchema, rawRetention, ...influx } = config.store.influx;
      // The state half is pluggable: PostgreSQL when DATABASE_URL is set (several processes, several hosts), else the SQLite file.
      const state = config.store.postgres
        ? new PostgresStore(config.store.postgres)
        : new SqliteStore({ path: config.store.path, synchronous: config.store.synchronous });
      return new InfluxStore({ influx, state, manageSchema, rawRetention });
    }
    case 'postgres':
      return new PostgresStore(config.store.postgres);
  }
}
