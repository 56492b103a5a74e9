/** The API service alone: `npm start -w api`. Configured by environment variables (README). */
import { ConfigError, openStore, stopOnSignal } from '@suido/ingest';
import { pino } from 'pino';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { buildApi } from './build-api.ts';
import { loadApiConfig } from './config.ts';

let config;
try {
  config = loadApiConfig();
} catch (err) {
  // A bad variable (a TLS file that cannot be read, a port out of range): its message, not a stack.
  if (err instanceof ConfigError) {
    process.stderr.write(`suido api: ${err.message}\n`);
    process.exit(1);
  }
  throw err;
}
const log = pino({ level: config.logLevel, base: { service: 'api' } });
const registry = new Registry();
collectDefaultMetrics({ register: registry });
const store = openStore(config);
const app = await buildApi({ store, registry, log, billing: config.billing, rateLimitPerMinute: config.rateLimitPerMinute, https: config.https });
await app.listen({ host: config.host, port: config.port });
if ((await store.listApiKeys()).every((k) => k.revokedAtMs !== null)) {
  // Every route but health and readiness would answer 401: say why, and what to do.
  log.warn('no API key is active: every call will be refused; make one with npm run admin -- keys create --role admin --name <you> (README: Access)');
}

stopOnSignal(log, 'closing the API', async () => {
  await app.close();
  await store.close();
});
