/** @suido/simulators: simulated device fleets that reach the system over MQTT only. */
export { FleetSimulator, type FleetSimulatorOptions } from './fleet/fleet-simulator.ts';
export type { FleetProgress, FleetReport, KindCounts } from './fleet/fleet-report.ts';
export { FleetSchedule, type DueSession } from './fleet/fleet-schedule.ts';
export { fleetRegistry } from './fleet/fleet-registry.ts';
export { HIROSHIMA, districtCentre } from './fleet/geography.ts';
export { MESSAGE_KINDS, type LedgerRead, type MessageKind, type OutMessage, type Session } from './fleet/messages.ts';
export {
  parseScenario,
  scenarioStartMs,
  ScenarioError,
  SCENARIO_DEFAULTS,
  type ClockSpec,
  type ConnectionSpec,
  type FaultRates,
  type FleetSpec,
  type Scenario,
} from './scenario/scenario.ts';
export { loadScenario } from './scenario/load-scenario.ts';
export { SimClock, type SimClockOptions } from './clock/sim-clock.ts';
export { tokyoDay, tokyoHour, tokyoMidnight, weekdayOf, isWeekend } from './clock/tokyo-time.ts';
export { createRng, type Rng, type StreamLabel } from './random/prng.ts';
export { chance, gaussian, intBetween, lognormalFactor, pick, poisson, shuffle, uniform, weightedIndex } from './random/distributions.ts';
export { meterId, meterProfile, closeDay, registerAt, REGISTER_EPOCH_MS, type MeterProfile } from './meters/meter.ts';
export { dayWeights, diurnalProfile, drawCustomer, expectedWeeklyL, hourlyUse, type Customer, type CustomerKind } from './meters/water-use.ts';
export { sensorId, sensorProfile, acousticFrame, type SensorProfile } from './sensors/acoustic-sensor.ts';
export { renderAmbientNoise, toPcm, type AmbientNoise } from './sensors/ambient-noise.ts';
export { MALFORMED_VARIANTS, type MalformedVariant } from './faults/malformed.ts';
