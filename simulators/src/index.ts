/** @suido/simulators: simulated device fleets that reach the system over MQTT only. */
export { FleetSimulator, type FleetCredentials, type FleetSimulatorOptions } from './fleet/fleet-simulator.ts';
export type { MqttLogin } from './mqtt/connection.ts';
export type { FleetProgress, FleetReport, KindCounts } from './fleet/fleet-report.ts';
export { FleetSchedule, type DueSession } from './fleet/fleet-schedule.ts';
export { fleetRegistry, type FleetRegistryOptions } from './fleet/fleet-registry.ts';
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
export { fleetRainIntensity, sensorNight, type ActiveLeak } from './sensors/sensor-device.ts';
export { leaksAt } from './fleet/fleet-schedule.ts';
export { resolveTime, type LeakSpec, type PremisesLeakSpec, type TimeSpec } from './scenario/leaks.ts';
export { LEAK_FLAG_MIN_HOURLY_ML, type PremisesLeakFlow } from './meters/meter.ts';
// Acoustic physics: sites, leaks, confounders, the sensor, one frame.
export { drawAcousticSite, drawEnvironment, drawMaterial, type AcousticSite, type SiteOptions } from './sensors/acoustic-site.ts';
export { renderSensorFrame, quietNightSnrDb, frameSources, frameContext, localHourOf, AUDIBLE_SNR_DB, type FrameRequest, type SensorFrame } from './sensors/sensor-frame.ts';
export { drawSensorPair, renderPairFrame, mainSources, PAIR_SPACING_M, type MainSource, type SensorPair, type PairLeak, type PairFrameRequest, type PairFrame } from './sensors/sensor-pair.ts';
export { drawLeak, leakPowersAtSensor, LEAK_SIZE_RANGE_LPS, LEAK_PRESSURE_RANGE_MPA, LEAK_REFERENCE_DB, type LeakSource, type LeakOptions } from './sensors/leak/leak-noise.ts';
export { drawNightConditions, drawRainIntensity, QUIET_NIGHT, RAIN_NIGHT_PROBABILITY, type NightConditions } from './sensors/night-conditions.ts';
export { ENVIRONMENTS, ENVIRONMENT_WEIGHTS, CONFOUNDERS, activityAt, isDaytime, type Environment, type Confounder } from './sensors/environment.ts';
export {
  MATERIAL_ACOUSTICS,
  attenuationDbPerMetre,
  drawPipe,
  nominalPipe,
  isMetal,
  isPlastic,
  type MaterialAcoustics,
  type PipeSegment,
} from './sensors/pipe/pipe-acoustics.ts';
export { drawHardware, transducerGainSquared, SAMPLE_RATES_HZ, SENSOR_TYPES, type SensorHardware, type SensorType } from './sensors/sensor-hardware.ts';
export { BACKGROUND_REFERENCE_DB } from './sensors/background.ts';
export { quantise, toPcm, FULL_SCALE } from './sensors/adc.ts';
export { bandPower, tonePower, shortTimeRms } from './sensors/signal/band-power.ts';
export { MALFORMED_VARIANTS, type MalformedVariant } from './faults/malformed.ts';
// The labelled acoustic data set (training and evaluation of the leak detector).
export { writeAcousticDataset, DATASET_DEFAULTS, DATASET_LIMITS, type DatasetOptions, type DatasetProgress, type DatasetReport } from './dataset/write-dataset.ts';
export { drawPopulation, assignSplits, SPLITS, SPLIT_SHARES, type DatasetSensor, type PopulationConditions, type Split } from './dataset/dataset-population.ts';
export { sensorFrames, frameTimes, type FrameRecord, type FrameSchedule } from './dataset/dataset-frames.ts';
export { DATASET_GENERATOR_VERSION, type SplitCounts } from './dataset/dataset-manifest.ts';
