import { DEFAULT_LIMITS, PIPE_MATERIALS, parseIsoTimestamp, type PipeMaterial } from '@suido/ingest';
import { REGISTER_EPOCH_MS } from '../meters/meter.ts';

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

export class ScenarioError extends Error {
  readonly code = 'SCENARIO_INVALID';
  /** Dotted path of the offending field, e.g. "fleet.householdShare"; "" for the whole document. */
  readonly field: string;
  readonly problem: string;
  constructor(field: string, problem: string, file?: string) {
    const where = file === undefined ? 'scenario' : `scenario ${file}`;
    super(field === '' ? `${where}: ${problem}` : `${where}: field "${field}" ${problem}`);
    this.name = 'ScenarioError';
    this.field = field;
    this.problem = problem;
  }
}

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
  clock: { start: undefined, daysBack: 3, speed: 3600, stopWhenCaughtUp: true },
  faults: { duplicate: 0, late: 0, outOfOrder: 0, malformed: 0 },
  connection: { mode: 'per-device', ...PER_DEVICE_DEFAULTS },
};

/** Validates a parsed JSON document; throws a ScenarioError naming the first bad field. */
export function parseScenario(doc: unknown): Scenario {
  const root = object(doc, '');
  onlyKeys(root, '', ['$schema', 'description', 'seed', 'fleet', 'clock', 'faults', 'connection']);
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
  };
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
  return Math.floor((nowMs - clock.daysBack * 86_400_000) / 3_600_000) * 3_600_000;
}

function object(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ScenarioError(field, `must be a JSON object, got ${show(value)}`);
  }
  return value as Record<string, unknown>;
}

function onlyKeys(value: Record<string, unknown>, field: string, allowed: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      const at = field === '' ? key : `${field}.${key}`;
      throw new ScenarioError(at, `is not a known field; expected one of ${allowed.filter((k) => k !== '$schema').join(', ')}`);
    }
  }
}

function number(value: unknown, field: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new ScenarioError(field, `must be a number from ${min} to ${max}, got ${show(value)}`);
  }
  return value;
}

function integer(value: unknown, field: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ScenarioError(field, `must be an integer from ${min} to ${max}, got ${show(value)}`);
  }
  return value;
}

function boolean(value: unknown, field: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new ScenarioError(field, `must be true or false, got ${show(value)}`);
  return value;
}

function stringList(
  value: unknown,
  field: string,
  fallback: readonly string[],
  pattern: RegExp | undefined,
  expected: string,
  allowed?: readonly string[],
): readonly string[] {
  if (value === undefined) return fallback;
  if (!Array.isArray(value) || value.length === 0) throw new ScenarioError(field, `must be a non-empty list, got ${show(value)}`);
  value.forEach((item: unknown, i) => {
    const ok = typeof item === 'string' && (pattern === undefined || pattern.test(item)) && (allowed === undefined || allowed.includes(item));
    if (!ok) throw new ScenarioError(`${field}[${i}]`, `must be ${expected}, got ${show(item)}`);
  });
  return value as string[];
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
