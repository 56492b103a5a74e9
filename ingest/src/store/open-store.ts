import type { IngestConfig } from '../config/ingest-config.ts';
import { InfluxStore } from './influx/influx-store.ts';
import { SqliteStore } from './sqlite-store.ts';
import type { ApiKeyStore } from './api-key-store.ts';
import type { DeviceCredentialStore } from './device-credentials.ts';
import type { Store } from './store.ts';

/**
 * The store the configuration names. Server stores join here (InfluxDB +
 * PostgreSQL); API keys are mutable state and go with the transactional part.
 */
export function openStore(config: Pick<IngestConfig, 'store'>): Store & ApiKeyStore & DeviceCredentialStore {
  switch (config.store.kind) {
    case 'sqlite':
      return new SqliteStore({ path: config.store.path, synchronous: config.store.synchronous });
    case 'influxdb': {
      const { manageSchema, rawRetention, ...influx } = config.store.influx;
      const state = new SqliteStore({ path: config.store.path, synchronous: config.store.synchronous });
      return new InfluxStore({ influx, state, manageSchema, rawRetention });
    }
  }
}
