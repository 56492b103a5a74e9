/** @suido/ingest: device contracts, the embedded broker, the ingest pipeline and the stores. */
export * from './contracts/index.ts';
export type * from './store/store.ts';
export { PIPE_MATERIALS, SENSOR_SITES, ConsumerStateConflictError, StoreInputError } from './store/store.ts';
export {
  ALERT_STATES,
  ALERT_ACTIONS,
  ALERT_RESOLUTIONS,
  ALERT_ERROR_CODES,
  SYSTEM_ACTORS,
  AlertError,
  isValidAlertKind,
  applyDetectorChange,
  applyUserAction,
  type Alert,
  type AlertAction,
  type AlertActor,
  type AlertChange,
  type AlertDetails,
  type AlertErrorCode,
  type AlertEvent,
  type AlertResolution,
  type AlertState,
  type AlertSubject,
  type AlertTransition,
  type AlertUserAction,
  type NewAlert,
  type SystemActor,
  type UserActor,
  type UserAlertAction,
} from './store/alert-lifecycle.ts';
export { API_KEY_ACTIONS, type ApiKeyAction, type ApiKeyEvent, type ApiKeyRecord, type ApiKeyStore, type NewApiKey } from './store/api-key-store.ts';
export {
  MQTT_PRINCIPAL_ROLES,
  type DeviceCredentialStore,
  type DeviceRoute,
  type MqttCredential,
  type MqttCredentialQuery,
  type MqttPrincipalRole,
  type NewMqttCredential,
} from './store/device-credentials.ts';
export { SqliteStore, type SqliteStoreOptions } from './store/sqlite-store.ts';
export { PostgresStore, type PostgresStoreOptions } from './store/postgres/postgres-store.ts';
export {
  REGISTRY_COLUMNS,
  REGISTRY_PROBLEM_CODES,
  importRegistry,
  parseRegistryCsv,
  type RegistryColumn,
  type RegistryImportProgress,
  type RegistryImportResult,
  type RegistryParse,
  type RegistryProblem,
  type RegistryProblemCode,
} from './registry/registry-import.ts';
export { formatRegistryCsv } from './registry/registry-export.ts';
export { openStore } from './store/open-store.ts';
export { EnvReader, ConfigError } from './config/env-reader.ts';
export { readTlsServerFiles, readCaFile, type TlsServerFiles } from './config/tls-files.ts';
export { readExternalMqttConfig, type ExternalMqttConfig } from './config/ingest-config.ts';
export { loadIngestConfig, readStoreConfig, readLogLevel, readMqttServicePassword, LOG_LEVELS, type IngestConfig, type MqttAuthConfig, type StoreConfig } from './config/ingest-config.ts';
export { Ingestor, StoreUnavailableError, type IngestMessage, type IngestOutcome, type IngestorOptions } from './pipeline/ingestor.ts';
export { IngestMetrics } from './pipeline/ingest-metrics.ts';
export { summariseFrame } from './pipeline/frame-summary.ts';
export { EmbeddedBroker, MqttAccessRefusedError, type EmbeddedBrokerOptions } from './broker/embedded-broker.ts';
export { MqttAccess, MQTT_REFUSAL_CODES, CONNACK, type MqttAccessOptions, type MqttPrincipal, type MqttRefusalCode, type AuthenticationResult } from './broker/mqtt-access.ts';
export {
  MQTT_SERVICE_USERNAME,
  CREDENTIAL_ERROR_CODES,
  CredentialError,
  hashMqttSecret,
  issueMqttCredential,
  mqttSecretMatches,
  newMqttSecret,
  type CredentialErrorCode,
  type IssuedMqttCredential,
} from './broker/mqtt-credentials.ts';
export {
  ExternalSubscriber,
  ExternalBrokerError,
  DEVICE_TOPIC_FILTERS,
  EXTERNAL_BROKER_ERROR_CODES,
  type ExternalBrokerErrorCode,
  type ExternalSubscriberOptions,
} from './broker/external-subscriber.ts';
export { ExternalBrokerMetrics } from './broker/external-metrics.ts';
export { IngestService, type IngestServiceOptions } from './service.ts';
export { startOpsServer } from './ops-server.ts';
export { stopOnSignal } from './stop-on-signal.ts';
