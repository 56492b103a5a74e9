import type { DataSourceRef } from '@grafana/grafana-foundation-sdk/common';

/**
 * The two datasources every Suido dashboard names, by fixed uid, so that
 * dashboards provisioned from dashboards/build/ find them in any Grafana
 * that provisioned infra/grafana/provisioning/datasources/suido.yaml.
 */
export const INFLUXDB = { type: 'influxdb', uid: 'suido-influxdb' } as const satisfies DataSourceRef;

/**
 * Suido's HTTP API through the Infinity plugin: alerts live in the API's
 * transactional store (README: Dashboards, where alerts come from).
 */
export const SUIDO_API = { type: 'yesoreyeram-infinity-datasource', uid: 'suido-api' } as const satisfies DataSourceRef;

/** The header the API reads a key from (README: Access). */
export const API_KEY_HEADER = 'X-Api-Key';

/**
 * Environment variables Grafana substitutes in the provisioning file when it
 * starts: the installation's addresses and the operator key stay out of the
 * repository.
 */
export const PROVISIONING_ENV = {
  influxUrl: 'SUIDO_INFLUX_URL',
  influxDatabase: 'SUIDO_INFLUX_DATABASE',
  apiUrl: 'SUIDO_API_URL',
  operatorKey: 'SUIDO_GRAFANA_API_KEY',
} as const;

const env = (name: string) => `\${${name}}`;

export interface ProvisionedDatasource {
  readonly name: string;
  readonly uid: string;
  readonly type: string;
  readonly access: 'proxy';
  readonly url: string;
  readonly isDefault: boolean;
  readonly editable: boolean;
  readonly jsonData: Readonly<Record<string, unknown>>;
  readonly secureJsonData?: Readonly<Record<string, string>>;
}

/** infra/grafana/provisioning/datasources/suido.yaml, as an object. */
export function datasourceProvisioning(): { apiVersion: 1; datasources: ProvisionedDatasource[] } {
  return {
    apiVersion: 1,
    datasources: [
      {
        name: 'Suido InfluxDB',
        uid: INFLUXDB.uid,
        type: INFLUXDB.type,
        access: 'proxy',
        url: env(PROVISIONING_ENV.influxUrl),
        isDefault: true,
        editable: false,
        // InfluxQL over /query (what 1.x speaks and 2.x/3.x answer through their v1 mapping);
        // GET, as the panel test sends it. 10 s: $__interval is never finer (no series is).
        jsonData: { version: 'InfluxQL', dbName: env(PROVISIONING_ENV.influxDatabase), httpMode: 'GET', timeInterval: '10s' },
      },
      {
        name: 'Suido API',
        uid: SUIDO_API.uid,
        type: SUIDO_API.type,
        access: 'proxy',
        url: env(PROVISIONING_ENV.apiUrl),
        isDefault: false,
        editable: false,
        // The key is a secure field: Grafana encrypts it and never sends it to browsers.
        // Infinity sends secure headers only to allowed hosts: the API alone.
        jsonData: { allowedHosts: [env(PROVISIONING_ENV.apiUrl)], httpHeaderName1: API_KEY_HEADER, timeoutInSeconds: 30 },
        secureJsonData: { httpHeaderValue1: env(PROVISIONING_ENV.operatorKey) },
      },
    ],
  };
}

/** Where the dashboard provider reads dashboards/build/*.json from (mount or copy them there). */
export const DASHBOARDS_PATH = '/etc/grafana/suido-dashboards';

/** infra/grafana/provisioning/dashboards/suido.yaml, as an object. */
export function dashboardProvisioning(): Record<string, unknown> {
  return {
    apiVersion: 1,
    providers: [
      {
        name: 'suido',
        folder: 'Suido',
        type: 'file',
        // The JSON is a build output: edits in the UI would be lost at the next provisioning.
        disableDeletion: true,
        allowUiUpdates: false,
        updateIntervalSeconds: 60,
        options: { path: DASHBOARDS_PATH, foldersFromFilesStructure: false },
      },
    ],
  };
}
