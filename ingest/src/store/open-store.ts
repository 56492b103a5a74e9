import type { IngestConfig } from '../config/ingest-config.ts';
import { SqliteStore } from './sqlite-store.ts';
import type { Store } from './store.ts';

/** The store the configuration names. Server stores join here (InfluxDB + PostgreSQL). */
export function openStore(config: Pick<IngestConfig, 'store'>): Store {
  switch (config.store.kind) {
    case 'sqlite':
      return new SqliteStore({ path: config.store.path, synchronous: config.store.synchronous });
  }
}
