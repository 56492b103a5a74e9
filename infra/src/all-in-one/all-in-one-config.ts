import { EnvReader, loadIngestConfig, readCaFile, type IngestConfig } from '@suido/ingest';
import { loadApiConfig, type ApiConfig } from '@suido/api';
import { loadDetectConfig, type DetectConfig } from '@suido/detect';

export interface AllInOneConfig {
  readonly ingest: IngestConfig;
  readonly api: ApiConfig;
  /** The leak detector and alert engines; undefined when SUIDO_DETECT is off. */
  readonly detect: DetectConfig | undefined;
  /** Run a simulated fleet against the embedded broker (the newcomer's demo). */
  readonly demo: boolean;
  readonly demoScenarioPath: string;
  /**
   * ALERTS_MQTT_CA_FILE: the CA the process's own MQTT clients (the alert
   * relay, the demo fleet) trust when the embedded broker serves TLS.
   */
  readonly mqttCa: Buffer | undefined;
}

/**
 * One process, every service, one environment: the ingest and API variables
 * mean what they mean for each service alone (README: Configuration).
 */
export function loadAllInOneConfig(env: Readonly<Record<string, string | undefined>> = process.env): AllInOneConfig {
  const r = new EnvReader(env);
  const demo = r.bool('SUIDO_DEMO', true);
  const demoScenarioPath = r.string('SUIDO_DEMO_SCENARIO', 'simulators/scenarios/demo.json');
  const detect = r.bool('SUIDO_DETECT', true);
  const mqttCa = readCaFile(r, 'ALERTS_MQTT_CA_FILE');
  r.finish();
  // The service loaders throw their own ConfigError naming their variables.
  const ingest = loadIngestConfig(env);
  return {
    ingest,
    api: loadApiConfig(env),
    // Alert events go to the embedded broker unless told otherwise; its port
    // may be chosen at start (MQTT_PORT=0), so the launcher fills it in.
    detect: detect ? loadDetectConfig(env) : undefined,
    demo,
    demoScenarioPath,
    mqttCa,
  };
}
