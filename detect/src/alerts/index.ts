/**
 * Alerts from leak scores, and alert events out to MQTT. The store holds
 * the alerts, their audit trail and the lifecycle (`@suido/ingest`:
 * alert-lifecycle.ts); this part decides when to raise and clear, and tells.
 */
export { DEFAULT_LEAK_ALERT_CONFIG, leakAlertConfig, type LeakAlertConfig } from './leak-alert-config.ts';
export { EMPTY_HISTORY, observeWindow, parseWindowHistory, type ScoredWindow, type WindowDecision, type WindowHistory } from './k-of-n.ts';
export { LEAK_ALERT_KIND, LeakAlertEngine, type LeakAlertEngineOptions, type LeakAlertPass } from './leak-alert-engine.ts';
export { alertJson, alertMessage, alertTopic, type AlertMessage, type AlertMessageAlert, type AlertPublisher } from './alert-publisher.ts';
export {
  ALERT_PUBLISH_ERROR_CODES,
  AlertPublishError,
  MqttAlertPublisher,
  type AlertPublishErrorCode,
  type MqttAlertPublisherOptions,
} from './mqtt-alert-publisher.ts';
export { AlertRelay, type AlertRelayOptions } from './alert-relay.ts';
