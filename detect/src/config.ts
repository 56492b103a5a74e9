import { EnvReader, readLogLevel, readStoreConfig, type StoreConfig } from '@suido/ingest';
import { DEFAULT_LEAK_ALERT_CONFIG } from './alerts/leak-alert-config.ts';
import { DEFAULT_MODEL_PATH } from './model/default-model.ts';

export interface DetectConfig {
  readonly store: StoreConfig;
  readonly modelPath: string;
  /** Undefined: the threshold chosen in training, from the model file. */
  readonly leakThreshold: number | undefined;
  readonly leakClearThreshold: number | undefined;
  readonly leakK: number;
  readonly leakN: number;
  readonly leakM: number;
  readonly windowSeconds: number;
  readonly hopSeconds: number;
  readonly pollMs: number;
  /** Where alert events are published; undefined: not published. */
  readonly alertsMqttUrl: string | undefined;
  readonly logLevel: string;
}


/** Everything the detector reads from its environment (README: Configuration). */
export function loadDetectConfig(env: Readonly<Record<string, string | undefined>> = process.env): DetectConfig {
  const r = new EnvReader(env);
  const config: DetectConfig = {
    store: readStoreConfig(r),
    modelPath: r.string('DETECT_MODEL_PATH', DEFAULT_MODEL_PATH),
    leakThreshold: r.fraction('LEAK_THRESHOLD'),
    leakClearThreshold: r.fraction('LEAK_CLEAR_THRESHOLD'),
    leakK: r.int('LEAK_K', DEFAULT_LEAK_ALERT_CONFIG.k, 1, 1000),
    leakN: r.int('LEAK_N', DEFAULT_LEAK_ALERT_CONFIG.n, 1, 1000),
    leakM: r.int('LEAK_M', DEFAULT_LEAK_ALERT_CONFIG.m, 1, 1000),
    windowSeconds: r.int('DETECT_WINDOW_S', 1, 1, 60),
    hopSeconds: r.int('DETECT_HOP_S', 1, 1, 60),
    pollMs: r.int('DETECT_POLL_MS', 1000, 10, 600_000),
    alertsMqttUrl: r.optionalString('ALERTS_MQTT_URL'),
    logLevel: readLogLevel(r),
  };
  r.finish();
  return config;
}
