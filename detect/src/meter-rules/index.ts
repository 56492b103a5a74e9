/**
 * Meter-side alert rules over the reads feed: continuous flow, reverse flow,
 * tamper, burst, stuck meter. Same alert store and lifecycle as the leak
 * engine (`@suido/ingest`), actor `meter-rules`.
 */
export { DEFAULT_METER_RULES_CONFIG, meterRulesConfig, type MeterRulesConfig, type MeterRulesOverrides } from './meter-rules-config.ts';
export {
  METER_ALERT_KINDS,
  MeterRulesEngine,
  parseMeterRulesState,
  type MeterRule,
  type MeterRulesEngineOptions,
  type MeterRulesPass,
  type MeterRulesState,
} from './meter-rules-engine.ts';
export { burstAt, continuousFlowAt, reverseFlowAt, stuckAt, tamperAt, type Observation, type StuckInputs } from './meter-conditions.ts';
export { intervalBetween, hourInterval, meterSeries, type Interval, type MeterSeries, type SeriesRead } from './interval-series.ts';
export { IDLE, stepRule, type RuleOp, type RuleState } from './rule-state.ts';
