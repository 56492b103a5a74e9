import { DEFAULT_LIMITS, PIPE_MATERIALS, parseIsoTimestamp, type PipeMaterial } from '@suido/ingest';
import { TOKYO_OFFSET_MS } from '../clock/tokyo-time.ts';
import { REGISTER_EPOCH_MS } from '../meters/meter.ts';
import { ENVIRONMENTS, type Environment } from '../sensors/environment.ts';
import { boolean, integer, number, object, onlyKeys, show, stringList } from './fields.ts';
import { parseLeaks, parsePremisesLeaks, type LeakSpec, type PremisesLeakSpec } from './leaks.ts';
import { parseMains, type MainSpec } from './mains.ts';
import { ScenarioError } from './scenario-error.ts';

export { ScenarioError } from './scenario-error.ts';

/**
 * A scenario: which fleet to simulate, on which clock, with which faults,
 * over which kind of connection. JSON on disk; `parseScenario` is the one
 * place it is validated, and the README documents every field and default.
 */
export interface Scenario {
  /** Everything random derives from it: the same seed gives the same data. */
  readonly seed: number;
  readonly fleet: FleetSpec;
  readonly clock: ClockSpec;
  readonly faults: FaultRates;
  readonly connection: ConnectionSpec;
  /** Leaks on mains, each heard by one sensor, from `start` until repaired at `end`. */
  readonly leaks: readonly LeakSpec[];
  /** Sensors whose surroundings are fixed instead of drawn, by id. */
  readonly sensorEnvironments: Readonly<Record<string, Environment>>;
  /** Continuous flow on a customer's side of a meter, from `start`. */
  readonly premisesLeaks: readonly PremisesLeakSpec[];
  /** Pairs of sensors on one main (a correlator's pair); every other sensor listens to a main of its own. */
  readonly mains: readonly MainSpec[];
}

export interface FleetSpec {
  readonly meters: number;
  /** Share of meters that serve households; the rest serve businesses. */
  readonly householdShare: number;
  readonly districts: readonly string[];
  readonly sensors: number;
  /** Sensors take these materials in turn: S-0001 the first, S-0002 the second, … */
  readonly materials: readonly PipeMaterial[];
  readonly sampleRateHz: number;
  readonly frameSeconds: number;
  /** Minutes between two frames of one sensor during its night window. */
  readonly frameIntervalMinutes: number;
}

export interface ClockSpec {
  /** ISO 8601 with offset; when absent the clock starts `daysBack` days before now, on the hour. */
  readonly start: string | undefined;
  readonly daysBack: number;
  readonly speed: number;
  readonly stopWhenCaughtUp: boolean;
  /** Where a start computed from `daysBack` falls: on the hour, or at Tokyo midnight (so night N is the same hours after the start on every run, and its sensors hear the same sound: FleetSchedule). */
  readonly align: 'hour' | 'day';
}

/** Probabilities, each per message (late: per daily meter batch). */
export interface FaultRates {
  readonly duplicate: number;
  readonly late: number;
  readonly outOfOrder: number;
  readonly malformed: number;
}

export type ConnectionSpec =
  | { readonly mode: 'per-device'; readonly maxConcurrent: number; readonly maxInFlight: number }
  | { readonly mode: 'pooled'; readonly connections: number; readonly maxInFlight: number };

const MAX_SAMPLE_BYTES = DEFAULT_LIMITS.maxPayloadBytes - 64;

const POOLED_DEFAULTS = { connections: 4, maxInFlight: 64 };
const PER_DEVICE_DEFAULTS = { maxConcurrent: 32, maxInFlight: 16 };

export const SCENARIO_DEFAULTS: Scenario = {
  seed: 1,
  fleet: {
    meters: 50,
    householdShare: 0.85,
    districts: ['Naka', 'Higashi', 'Minami', 'Nishi', 'Asaminami', 'Asakita', 'Aki', 'Saeki'],
    sensors: 4,
    materials: ['ductile_iron', 'steel', 'pvc', 'pe'],
    sampleRateHz: 8000,
    frameSeconds: 1,
    frameIntervalMinutes: 10,
  },
  clock: { start: undefined, daysBack: 3, speed: 3600, stopWhenCaughtUp: true, align: 'hour' },
  faults: { duplicate: 0, late: 0, outOfOrder: 0, malformed: 0 },
  connection: { mode: 'per-device', ...PER_DEVICE_DEFAULTS },
  leaks: [],
  sensorEnvironments: {},
  premisesLeaks: [],
  mains: [],
};

/** Validates a parsed JSON document; throws a ScenarioError naming the first bad field. */
export function parseScenario(doc: unknown): Scenario {
  const root = object(doc, '');
  onlyKeys(root, '', ['$schema', 'description', 'seed', 'fleet', 'clock', 'faults', 'connection', 'leaks', 'sensorEnvironments', 'premisesLeaks', 'mains']);
  const d = SCENARIO_DEFAULTS;

  const f = object(root.fleet ?? {}, 'fleet');
  onlyKeys(f, 'fleet', Object.keys(d.fleet));
  const sampleRateHz = integer(f.sampleRateHz, 'fleet.sampleRateHz', d.fleet.sampleRateHz, DEFAULT_LIMITS.minSampleRateHz, DEFAULT_LIMITS.maxSampleRateHz);
  const frameSeconds = number(f.frameSeconds, 'fleet.frameSeconds', d.fleet.frameSeconds, 0.01, 60);
  const samples = Math.round(sampleRateHz * frameSeconds);
  if (samples > DEFAULT_LIMITS.maxSamplesPerFrame || samples * 2 > MAX_SAMPLE_BYTES) {
    throw new ScenarioError('fleet.frameSeconds', `${frameSeconds} s at ${sampleRateHz} Hz is ${samples} samples; the ingest accepts at most ${DEFAULT_LIMITS.maxSamplesPerFrame}`);
  }
  const fleet: FleetSpec = {
    meters: integer(f.meters, 'fleet.meters', d.fleet.meters, 0, 10_000_000),
    householdShare: number(f.householdShare, 'fleet.householdShare', d.fleet.householdShare, 0, 1),
    districts: stringList(f.districts, 'fleet.districts', d.fleet.districts, /^[^\s/+#][^/+#]{0,63}$/u, 'a name of 1-64 characters without "/", "+" or "#"'),
    sensors: integer(f.sensors, 'fleet.sensors', d.fleet.sensors, 0, 99_999),
    materials: stringList(f.materials, 'fleet.materials', d.fleet.materials, undefined, `one of ${PIPE_MATERIALS.join(', ')}`, PIPE_MATERIALS) as PipeMaterial[],
    sampleRateHz,
    frameSeconds,
    frameIntervalMinutes: integer(f.frameIntervalMinutes, 'fleet.frameIntervalMinutes', d.fleet.frameIntervalMinutes, 1, 120),
  };

  const c = object(root.clock ?? {}, 'clock');
  onlyKeys(c, 'clock', Object.keys(d.clock));
  let start: string | undefined;
  if (c.start !== undefined) {
    if (typeof c.start !== 'string' || parseIsoTimestamp(c.start) === undefined) {
      throw new ScenarioError('clock.start', `must be an ISO 8601 time with offset such as "2026-11-01T00:00:00+09:00", got ${show(c.start)}`);
    }
    if (parseIsoTimestamp(c.start)! < REGISTER_EPOCH_MS) {
      throw new ScenarioError('clock.start', `must not be before ${new Date(REGISTER_EPOCH_MS).toISOString()}, where simulated registers begin; got ${show(c.start)}`);
    }
    start = c.start;
  }
  const clock: ClockSpec = {
    start,
    // The ingest refuses reads older than 400 days by default.
    daysBack: number(c.daysBack, 'clock.daysBack', d.clock.daysBack, 0, 365),
    speed: number(c.speed, 'clock.speed', d.clock.speed, 1, 1e9),
    stopWhenCaughtUp: boolean(c.stopWhenCaughtUp, 'clock.stopWhenCaughtUp', d.clock.stopWhenCaughtUp),
    align: clockAlign(c.align),
  };

  const x = object(root.faults ?? {}, 'faults');
  onlyKeys(x, 'faults', Object.keys(d.faults));
  const faults: FaultRates = {
    duplicate: number(x.duplicate, 'faults.duplicate', d.faults.duplicate, 0, 1),
    late: number(x.late, 'faults.late', d.faults.late, 0, 1),
    outOfOrder: number(x.outOfOrder, 'faults.outOfOrder', d.faults.outOfOrder, 0, 1),
    malformed: number(x.malformed, 'faults.malformed', d.faults.malformed, 0, 1),
  };

  return {
    seed: integer(root.seed, 'seed', d.seed, 0, 0xffff_ffff),
    fleet,
    clock,
    faults,
    connection: parseConnection(root.connection),
    leaks: parseLeaks(root.leaks, fleet.sensors),
    sensorEnvironments: parseSensorEnvironments(root.sensorEnvironments, fleet.sensors),
    premisesLeaks: parsePremisesLeaks(root.premisesLeaks, fleet.meters),
    mains: parseMains(root.mains, fleet.sensors),
  };
}

function clockAlign(value: unknown): 'hour' | 'day' {
  if (value === undefined) return SCENARIO_DEFAULTS.clock.align;
  if (value === 'hour' || value === 'day') return value;
  throw new ScenarioError('clock.align', `must be "hour" or "day", got ${show(value)}`);
}

function parseSensorEnvironments(value: unknown, sensors: number): Record<string, Environment> {
  const o = object(value ?? {}, 'sensorEnvironments');
  const out: Record<string, Environment> = {};
  for (const [id, env] of Object.entries(o)) {
    const field = `sensorEnvironments.${id}`;
    const match = /^S-(\d{4,5})$/u.exec(id);
    if (!match) throw new ScenarioError(field, 'must be keyed by a sensor id such as "S-0001"');
    if (Number(match[1]) < 1 || Number(match[1]) > sensors) throw new ScenarioError(field, `names a sensor that is not in the fleet (fleet.sensors is ${sensors})`);
    if (typeof env !== 'string' || !(ENVIRONMENTS as readonly string[]).includes(env)) throw new ScenarioError(field, `must be one of ${ENVIRONMENTS.join(', ')}, got ${show(env)}`);
    out[id] = env as Environment;
  }
  return out;
}

function parseConnection(value: unknown): ConnectionSpec {
  const c = object(value ?? {}, 'connection');
  const mode = c.mode ?? 'per-device';
  if (mode === 'per-device') {
    onlyKeys(c, 'connection', ['mode', 'maxConcurrent', 'maxInFlight']);
    return {
      mode,
      maxConcurrent: integer(c.maxConcurrent, 'connection.maxConcurrent', PER_DEVICE_DEFAULTS.maxConcurrent, 1, 10_000),
      maxInFlight: integer(c.maxInFlight, 'connection.maxInFlight', PER_DEVICE_DEFAULTS.maxInFlight, 1, 65_535),
    };
  }
  if (mode === 'pooled') {
    onlyKeys(c, 'connection', ['mode', 'connections', 'maxInFlight']);
    return {
      mode,
      connections: integer(c.connections, 'connection.connections', POOLED_DEFAULTS.connections, 1, 10_000),
      maxInFlight: integer(c.maxInFlight, 'connection.maxInFlight', POOLED_DEFAULTS.maxInFlight, 1, 65_535),
    };
  }
  throw new ScenarioError('connection.mode', `must be "per-device" or "pooled", got ${show(mode)}`);
}

/** The instant the scenario's clock starts, given the wall clock now. */
export function scenarioStartMs(clock: ClockSpec, nowMs: number): number {
  if (clock.start !== undefined) return parseIsoTimestamp(clock.start)!;
  const back = nowMs - clock.daysBack * 86_400_000;
  if (clock.align === 'day') return Math.floor((back + TOKYO_OFFSET_MS) / 86_400_000) * 86_400_000 - TOKYO_OFFSET_MS;
  return Math.floor(back / 3_600_000) * 3_600_000;
}
