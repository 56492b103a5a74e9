import type { IngestConfig } from '../config/ingest-config.ts';
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
  }
}
