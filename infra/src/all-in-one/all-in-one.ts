import { ROLES, buildApi, issueApiKey, type IssuedApiKey } from '@suido/api';
import { DetectService } from '@suido/detect';
import { IngestService, newMqttSecret, openStore, type ApiKeyStore, type DeviceCredentialStore, type Store } from '@suido/ingest';
import { FleetSimulator, loadScenario, type FleetReport } from '@suido/simulators';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { AllInOneConfig } from './all-in-one-config.ts';
import { prepareFleetAccess } from './fleet-access.ts';

export interface AllInOne {
  readonly store: Store & ApiKeyStore & DeviceCredentialStore;
  readonly ingest: IngestService;
  readonly api: FastifyInstance;
  readonly detect: DetectService | undefined;
  readonly apiUrl: string;
  readonly mqttUrl: string;
  /** The demo fleet, when SUIDO_DEMO is on; its run ends when it is stopped. */
  readonly simulator: FleetSimulator | undefined;
  readonly simulatorDone: Promise<FleetReport | undefined>;
  /**
   * Demo mode, first start only: one API key per role, for the banner to show
   * once (stored hashed, like any key). Empty on later starts and without the demo.
   */
  readonly demoKeys: readonly IssuedApiKey[];
  close(): Promise<void>;
}

/**
 * Broker, ingest, detector, API and (for the demo) a simulated fleet in one process on
 * one embedded store. The fleet still reaches the system only over MQTT/TCP,
 * as real devices do.
 */
export async function startAllInOne(config: AllInOneConfig, log: Logger): Promise<AllInOne> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const store = openStore(config.ingest);
  const started: { close(): Promise<void> }[] = [];
  try {
    // The detector's alert relay logs in as the service principal; without a
    // configured password, one made for this process only serves the two.
    const servicePassword = config.ingest.mqttAuth.servicePassword ?? newMqttSecret();
    const ingestConfig = { ...config.ingest, mqttAuth: { ...config.ingest.mqttAuth, servicePassword } };
    const ingest = await IngestService.start({ config: ingestConfig, store, registry, log: log.child({ service: 'ingest' }) });
    started.push(ingest);
    const api = await buildApi({
      store,
      registry,
      log: log.child({ service: 'api' }),
      billing: config.api.billing,
      rateLimitPerMinute: config.api.rateLimitPerMinute,
      ready: async () => ingest.broker.aedes.closed === false,
      https: config.api.https,
    });
    await api.listen({ host: config.api.host, port: config.api.port });
    started.push(api);
    const address = api.server.address();
    const port = typeof address === 'object' && address ? address.port : config.api.port;
    const apiHost = config.api.host.includes(':') ? `[${config.api.host}]` : config.api.host;
    const apiUrl = `${config.api.https ? 'https' : 'http'}://${apiHost}:${port}`;

    const detect = config.detect
      ? await DetectService.start({
          config: { ...config.detect, alertsMqttUrl: config.detect.alertsMqttUrl ?? ingest.broker.url, alertsMqttPassword: config.detect.alertsMqttPassword ?? servicePassword },
          store,
          registry,
          log: log.child({ service: 'detect' }),
        })
      : undefined;
    if (detect) started.push(detect);

    // A newcomer should be able to try every route at once; a store that ever
    // had a key (revoked ones stay on record) is past its first start.
    const demoKeys: IssuedApiKey[] = [];
    if (config.demo && (await store.listApiKeys()).length === 0) {
      for (const role of ROLES) demoKeys.push(await issueApiKey(store, { role, name: `demo-${role}`, by: 'system:demo' }));
    }

    let simulator: FleetSimulator | undefined;
    let simulatorDone: Promise<FleetReport | undefined> = Promise.resolve(undefined);
    if (config.demo) {
      const scenario = await loadScenario(config.demoScenarioPath);
      // The registry a bureau would import, and the fleet's MQTT credentials.
      const credentials = await prepareFleetAccess(store, scenario);
      simulator = new FleetSimulator({ url: ingest.broker.url, scenario, credentials, ca: config.mqttCa });
      simulatorDone = simulator.run().catch((err: Error) => {
        log.error({ err }, 'demo fleet stopped with an error');
        return undefined;
      });
    }

    return {
      store,
      ingest,
      api,
      detect,
      apiUrl,
      mqttUrl: ingest.broker.url,
      simulator,
      simulatorDone,
      demoKeys,
      async close() {
        await simulator?.stop();
        await simulatorDone;
        await api.close();
        await detect?.close();
        await ingest.close();
        await store.close();
      },
    };
  } catch (err) {
    for (const s of started.reverse()) await s.close().catch(() => {});
    await store.close();
    throw err;
  }
}
