import { EnvReader, MQTT_SERVICE_USERNAME, readCaFile, readLogLevel, readMqttServicePassword, readStoreConfig, type StoreConfig } from '@suido/ingest';
import { DEFAULT_LEAK_ALERT_CONFIG } from './alerts/leak-alert-config.ts';
import { DEFAULT_MODEL_PATH } from './model/default-model.ts';
import { DEFAULT_METER_RULES_CONFIG, type MeterRulesOverrides } from './meter-rules/meter-rules-config.ts';

export interface DetectConfig {
  readonly store: StoreConfig;
  readonly modelPath: string;
  /** Undefined: the threshold chosen in training, from the model file. */
  readonly leakThreshold: number | undefined;
  readonly leakClearThreshold: number | undefined;
  /** Undefined: the persistence the model's threshold was chosen for (its metadata), else the engine's default. */
  readonly leakK: number | undefined;
  readonly leakN: number | undefined;
  readonly leakM: number;
  /**
   * LEAK_LEVEL_VERDICT: raise by the model's night verdict with the sensor's
   * level history where the model has one (model/level-history.ts); off: K
   * of N alone. Not applied where LEAK_THRESHOLD, LEAK_K or LEAK_N is set: it
   * was fitted for the model's own operating point.
   */
  readonly leakLevelVerdict: boolean;
  /**
   * DETECT_PAIRS: correlate neighbouring sensors on one main (the registry's
   * pipe id and chainage) night by night and raise `correlated_leak` alerts
   * (pairs/pair-correlator.ts).
   */
  readonly pairs: boolean;
  readonly windowSeconds: number;
  readonly hopSeconds: number;
  readonly pollMs: number;
  /** /healthz, /readyz, /metrics of the detector run alone; 0: off. */
  readonly httpPort: number;
  /** Overrides of the meter rules' defaults (detect/src/meter-rules/meter-rules-config.ts). */
  readonly meterRules: MeterRulesOverrides;
  /** Where alert events are published; undefined: not published. */
  readonly alertsMqttUrl: string | undefined;
  /**
   * The relay's MQTT username: the embedded broker's service principal by
   * default; at an external broker its own login there (Mosquitto's password
   * file cannot hold the default's ':').
   */
  readonly alertsMqttUsername: string;
  /** The alert relay logs in as the service principal with this password (MQTT_SERVICE_PASSWORD); undefined: anonymously. */
  readonly alertsMqttPassword: string | undefined;
  /** PEM of the CA that signed the broker's certificate (mqtts://, ALERTS_MQTT_CA_FILE); undefined: the system's CAs. */
  readonly alertsMqttCa: Buffer | undefined;
  readonly logLevel: string;
  /** Scaling out (README: Scaling out): this worker's home partition, the number of workers, their lease TTL. */
  readonly workers: DetectWorkersConfig;
}

export interface DetectWorkersConfig {
  /** DETECT_WORKER_INDEX: this worker's home partition, 0 … count-1. */
  readonly index: number;
  /** DETECT_WORKER_COUNT: workers (and partitions) on one store; 1: one worker does everything, no leases. */
  readonly count: number;
  /** DETECT_LEASE_TTL_MS: a dead worker's partition is taken over after twice this. */
  readonly leaseTtlMs: number;
}


/** Everything the detector reads from its environment (README: Configuration). */
export function loadDetectConfig(env: Readonly<Record<string, string | undefined>> = process.env): DetectConfig {
  const r = new EnvReader(env);
  const config: DetectConfig = {
    store: readStoreConfig(r),
    modelPath: r.string('DETECT_MODEL_PATH', DEFAULT_MODEL_PATH),
    leakThreshold: r.fraction('LEAK_THRESHOLD'),
    leakClearThreshold: r.fraction('LEAK_CLEAR_THRESHOLD'),
    leakK: r.optionalString('LEAK_K') === undefined ? undefined : r.int('LEAK_K', DEFAULT_LEAK_ALERT_CONFIG.k, 1, 1000),
    leakN: r.optionalString('LEAK_N') === undefined ? undefined : r.int('LEAK_N', DEFAULT_LEAK_ALERT_CONFIG.n, 1, 1000),
    leakM: r.int('LEAK_M', DEFAULT_LEAK_ALERT_CONFIG.m, 1, 1000),
    leakLevelVerdict: r.bool('LEAK_LEVEL_VERDICT', true),
    pairs: r.bool('DETECT_PAIRS', true),
    windowSeconds: r.int('DETECT_WINDOW_S', 1, 1, 60),
    hopSeconds: r.int('DETECT_HOP_S', 1, 1, 60),
    pollMs: r.int('DETECT_POLL_MS', 1000, 10, 600_000),
    httpPort: r.int('DETECT_HTTP_PORT', 9465, 0, 65535),
    meterRules: {
      continuousFlow: { windowHours: r.int('CONTINUOUS_FLOW_HOURS', DEFAULT_METER_RULES_CONFIG.continuousFlow.windowHours, 1, 24 * 14) },
      burst: { flowLph: r.int('BURST_FLOW_LPH', DEFAULT_METER_RULES_CONFIG.burst.flowLph, 1, 1_000_000) },
      stuck: { days: r.int('STUCK_METER_DAYS', DEFAULT_METER_RULES_CONFIG.stuck.days, 1, 365) },
    },
    alertsMqttUrl: r.optionalString('ALERTS_MQTT_URL'),
    alertsMqttUsername: r.string('ALERTS_MQTT_USERNAME', MQTT_SERVICE_USERNAME),
    alertsMqttPassword: readMqttServicePassword(r),
    alertsMqttCa: readCaFile(r, 'ALERTS_MQTT_CA_FILE'),
    logLevel: readLogLevel(r),
    workers: readWorkers(r),
  };
  r.finish();
  return config;
}

function readWorkers(r: EnvReader): DetectWorkersConfig {
  const count = r.int('DETECT_WORKER_COUNT', 1, 1, 1024);
  const index = r.int('DETECT_WORKER_INDEX', 0, 0, 1023);
  if (index >= count) r.problem(`DETECT_WORKER_INDEX=${index} must be below DETECT_WORKER_COUNT=${count} (workers are numbered from 0)`);
  return { index, count, leaseTtlMs: r.int('DETECT_LEASE_TTL_MS', 15_000, 1000, 600_000) };
}
