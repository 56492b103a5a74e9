/**
 * The detector alone: `npm start -w detect`. Reads frames and meter reads
 * from the store the ingest service writes (SQLite in WAL mode on one host;
 * the server stores for several hosts), publishes alert events to
 * ALERTS_MQTT_URL. Configured by environment variables (README).
 */
import { ConfigError, openStore, startOpsServer, stopOnSignal } from '@suido/ingest';
import { pino } from 'pino';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { loadDetectConfig } from './config.ts';
import { DetectService } from './detect-service.ts';

let config;
try {
  config = loadDetectConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`suido detect: ${err.message}\n`);
    process.exit(1);
  }
  throw err;
}
const log = pino({ level: config.logLevel, base: { service: 'detect' } });
const registry = new Registry();
collectDefaultMetrics({ register: registry });
const store = openStore(config);
const service = await DetectService.start({ config, store, registry, log });
const ops = config.httpPort > 0 ? await startOpsServer({ host: '127.0.0.1', port: config.httpPort, registry, ready: () => store.ping().then(() => true) }) : undefined;

stopOnSignal(log, 'after the passes in flight', async () => {
  await ops?.close();
  await service.close();
  await store.close();
});
