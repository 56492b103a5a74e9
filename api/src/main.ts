/** The API service alone: `npm start -w api`. Configured by environment variables (README). */
import { openStore } from '@suido/ingest';
import { pino } from 'pino';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { buildApi } from './build-api.ts';
import { loadApiConfig } from './config.ts';

const config = loadApiConfig();
const log = pino({ level: config.logLevel, base: { service: 'api' } });
const registry = new Registry();
collectDefaultMetrics({ register: registry });
const store = openStore(config);
const app = await buildApi({ store, registry, log });
await app.listen({ host: config.host, port: config.port });

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'stopping');
  await app.close();
  await store.close();
  process.exit(0);
}
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
