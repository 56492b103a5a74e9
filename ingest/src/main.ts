/**
 * The ingest service alone: `npm start -w ingest`. Configured by environment
 * variables (README: Configuration).
 */
import { pino } from 'pino';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { loadIngestConfig } from './config/ingest-config.ts';
import { startOpsServer } from './ops-server.ts';
import { IngestService } from './service.ts';
import { openStore } from './store/open-store.ts';

const config = loadIngestConfig();
const log = pino({ level: config.logLevel, base: { service: 'ingest' } });
const registry = new Registry();
collectDefaultMetrics({ register: registry });
const store = openStore(config);
const service = await IngestService.start({ config, store, registry, log });
const ops =
  config.httpPort > 0
    ? await startOpsServer({ host: config.mqtt.host, port: config.httpPort, registry, ready: () => store.ping().then(() => true) })
    : undefined;
log.info({ store: store.name, mqtt: service.broker.url, opsPort: ops?.port }, 'ingest ready');

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'stopping: committing pending messages');
  await ops?.close();
  await service.close();
  await store.close();
  process.exit(0);
}
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
