import { EnvReader, loadIngestConfig, type IngestConfig } from '@suido/ingest';
import { loadApiConfig, type ApiConfig } from '@suido/api';

export interface AllInOneConfig {
  readonly ingest: IngestConfig;
  readonly api: ApiConfig;
  /** Run a simulated fleet against the embedded broker (the newcomer's demo). */
  readonly demo: boolean;
  readonly demoScenarioPath: string;
}

/**
 * One process, every service, one environment: the ingest and API variables
 * mean what they mean for each service alone (README: Configuration).
 */
export function loadAllInOneConfig(env: Readonly<Record<string, string | undefined>> = process.env): AllInOneConfig {
  const r = new EnvReader(env);
  const demo = r.bool('SUIDO_DEMO', true);
  const demoScenarioPath = r.string('SUIDO_DEMO_SCENARIO', 'simulators/scenarios/demo.json');
  r.finish();
  // The service loaders throw their own ConfigError naming their variables.
  return { ingest: loadIngestConfig(env), api: loadApiConfig(env), demo, demoScenarioPath };
}
