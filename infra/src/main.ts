/**
 * `npm start`: the whole system in one process on the embedded store, with a
 * simulated fleet. Each service can also run alone (README: Running services).
 */
import { ConfigError, stopOnSignal } from '@suido/ingest';
import { pino } from 'pino';
import { startAllInOne } from './all-in-one/all-in-one.ts';
import { loadAllInOneConfig } from './all-in-one/all-in-one-config.ts';

function fail(message: string): never {
  process.stderr.write(`suido: ${message}\n`);
  process.exit(1);
}

let config;
try {
  config = loadAllInOneConfig();
} catch (err) {
  if (err instanceof ConfigError) fail(err.message);
  throw err;
}

const log = pino({ level: config.ingest.logLevel });
const system = await startAllInOne(config, log).catch((err: NodeJS.ErrnoException & { port?: number }) => {
  if (err.code === 'EADDRINUSE') fail(`port ${err.port ?? ''} is already in use; set MQTT_PORT or API_PORT to a free port`);
  if (err.code === 'ENOENT' && config.demo) fail(`${err.message}\n  (the demo scenario is read from SUIDO_DEMO_SCENARIO, relative to ${process.cwd()})`);
  throw err;
});

const api = system.apiUrl;
// The demo's keys exist in clear only here, once: the store keeps their hashes.
const keys = system.demoKeys.length > 0
  ? [
      '  API keys     one per role, shown this once (README: Access); every call but /healthz and /readyz needs one:',
      ...system.demoKeys.map(({ record, key }) => `    ${record.role.padEnd(9)} ${key}`),
      `  Try (as the admin key; billing, crew and operator keys see their part):`,
      `    export SUIDO_KEY=${system.demoKeys.find((k) => k.record.role === 'admin')!.key}`,
    ]
  : [
      '  API keys     every call but /healthz and /readyz needs one (README: Access); make one with',
      '    npm run admin -- keys create --role admin --name me',
      '  Try:',
      '    export SUIDO_KEY=<the key it printed>',
    ];
const curl = (path: string) => `    curl -H "Authorization: Bearer $SUIDO_KEY" '${api}${path}'`;
process.stdout.write(
  [
    '',
    `Suido is running on the embedded store (${system.store.name})`,
    `  MQTT broker  ${system.mqttUrl}   devices publish under water/v1/ (README: Device contracts)`,
    `  HTTP API     ${api}`,
    ...keys,
    curl('/v1/meters?limit=5'),
    curl('/v1/meters/M-000001'),
    curl('/v1/meters/M-000001/reads'),
    curl('/v1/alerts?state=open'),
    curl('/v1/dead-letters?limit=5'),
    curl('/metrics'),
    config.demo
      ? `  Demo fleet   ${config.demoScenarioPath} (SUIDO_DEMO=false to run without it)`
      : '  Demo fleet   off (SUIDO_DEMO=false)',
    'Press Ctrl-C to stop.',
    '',
  ].join('\n') + '\n',
);

// A line of progress every so often, so a newcomer sees data flowing.
const progress = setInterval(() => {
  const t = system.ingest.metrics.totals;
  log.info(
    { readsStored: t.readsStored, readsDuplicate: t.readsDuplicate, framesStored: t.framesStored, rejected: t.messagesRejected },
    'ingest totals',
  );
}, 15_000).unref();

stopOnSignal(log, 'the fleet, then the API, the detector and ingest (pending messages are committed)', async () => {
  clearInterval(progress);
  await system.close();
});
