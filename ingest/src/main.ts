/**
 * The ingest service alone: `npm start -w ingest`. Configured by environment
 * variables (README: Configuration).
 */
import { pino } from 'pino';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { ConfigError } from './config/env-reader.ts';
import { loadIngestConfig } from './config/ingest-config.ts';
import { startOpsServer } from './ops-server.ts';
import { stopOnSignal } from './stop-on-signal.ts';
import { IngestService } from './service.ts';
import { openStore } from './store/open-store.ts';

let config;
try {
  config = loadIngestConfig();
} catch (err) {
  // A bad variable (a TLS file that cannot be read, a port out of range): its message, not a stack.
  if (err instanceof ConfigError) {
    process.stderr.write(`suido ingest: ${err.message}\n`);
    process.exit(1);
  }
  throw err;
}
const log = pino({ level: config.logLevel, base: { service: 'ingest' } });
const registry = new Registry();
collectDefaultMetrics({ register: registry });
const store = openStore(config);
const service = await IngestService.start({ config, store, registry, log });
const ops =
  config.httpPort > 0
    ? // It binds MQTT_HOST, the name devices reach: with MQTT TLS on it serves HTTPS with the broker's certificate.
      await startOpsServer({ host: config.mqtt.host, port: config.httpPort, registry, ready: () => store.ping().then(() => service.mqttReady()), tls: config.mqtt.tls })
    : undefined;
log.info({ store: store.name, mqtt: service.mqttUrl, mqttMode: config.external ? 'external' : 'embedded', opsPort: ops?.port, opsTls: config.mqtt.tls !== undefined }, 'ingest ready');

stopOnSignal(log, 'committing pending messages', async () => {
  await ops?.close();
  await service.close();
  await store.close();
});
