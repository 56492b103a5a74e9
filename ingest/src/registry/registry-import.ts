import { isValidDeviceId, type DeviceKind } from '../contracts/index.ts';
import { PIPE_MATERIALS, SENSOR_SITES, type DeviceRegistration, type PipeMaterial, type SensorSite, type Store } from '../store/store.ts';
import { parseCsv } from './csv.ts';

/** A city's registry (600,000 meters) takes seconds on SQLite and longer on PostgreSQL: say how far it got. */
export interface RegistryImportProgress {
  /** 'parsed': the file is read and valid; 'checking': rows looked up in the registry (a device may not change kind); 'storing': the one transaction has begun. */
  readonly stage: 'parsed' | 'checking' | 'storing';
  readonly done: number;
  readonly total: number;
}
const PROGRESS_EVERY = 50_000;

/**
 * The registry file: one CSV for meters and sensors, a header line naming
 * the columns (any order). Required: kind, id, district, lat, lon. Optional:
 * pipe_id and pipe_material (required for sensors, refused for meters),
 * site (sensors, may be empty: what surrounds the sensor, SENSOR_SITES),
 * chainage_m (sensors, may be empty: m along pipe_id from the main's start),
 * source_chainage_m (near_prv and near_pump sensors, may be empty: where
 * along the same main that PRV or pump stands),
 * register_max_l (meters), gateway (the head-end allowed to publish for the
 * device).
 */
export const REGISTRY_COLUMNS = ['kind', 'id', 'district', 'lat', 'lon', 'pipe_id', 'pipe_material', 'site', 'chainage_m', 'source_chainage_m', 'register_max_l', 'gateway'] as const;
export type RegistryColumn = (typeof REGISTRY_COLUMNS)[number];
const REQUIRED_COLUMNS: readonly RegistryColumn[] = ['kind', 'id', 'district', 'lat', 'lon'];

/** Why a registry file (or one of its rows) was refused. Stable: scripts key on them. */
export const REGISTRY_PROBLEM_CODES = [
  'REGISTRY_FILE_EMPTY',
  'REGISTRY_CSV_MALFORMED',
  'REGISTRY_HEADER_MISSING',
  'REGISTRY_HEADER_UNKNOWN',
  'REGISTRY_HEADER_DUPLICATE',
  'REGISTRY_FIELD_COUNT',
  'REGISTRY_FIELD_REQUIRED',
  'REGISTRY_FIELD_NOT_FOR_KIND',
  'REGISTRY_KIND_INVALID',
  'REGISTRY_ID_INVALID',
  'REGISTRY_ID_DUPLICATE',
  'REGISTRY_TEXT_INVALID',
  'REGISTRY_COORDINATE_INVALID',
  'REGISTRY_PIPE_MATERIAL_UNKNOWN',
  'REGISTRY_SITE_UNKNOWN',
  'REGISTRY_CHAINAGE_INVALID',
  // source_chainage_m on a sensor whose site is not near_prv or near_pump: which source would it be?
  'REGISTRY_SOURCE_WITHOUT_SITE',
  'REGISTRY_REGISTER_MAX_INVALID',
  'REGISTRY_GATEWAY_INVALID',
  // The store has the id as the other kind: its reads or frames would change meaning.
  'REGISTRY_KIND_CHANGED',
] as const;
export type RegistryProblemCode = (typeof REGISTRY_PROBLEM_CODES)[number];

export interface RegistryProblem {
  /** Line of the file where the record starts (1 is the header). */
  readonly line: number;
  readonly code: RegistryProblemCode;
  readonly column?: RegistryColumn | undefined;
  readonly message: string;
}

export type RegistryParse =
  | { readonly ok: true; readonly devices: readonly DeviceRegistration[]; /** The line of each device's row. */ readonly lines: readonly number[] }
  | { readonly ok: false; readonly problems: readonly RegistryProblem[] };

/** Districts, pipe ids: 1-64 printable characters, no surrounding spaces (a trailing space makes a second district). */
const TEXT = /^[^\s\p{Cc}](?:[^\p{Cc}]{0,62}[^\s\p{Cc}])?$/u;
const DECIMAL = /^-?\d{1,3}(?:\.\d{1,12})?$/;
const POSITIVE_INTEGER = /^[1-9]\d{0,15}$/;
/** Metres along a main: a plain non-negative decimal, to the millimetre; a city's longest main is a few tens of km. */
const CHAINAGE = /^\d{1,6}(?:\.\d{1,3})?$/;

/**
 * Parses and validates a whole registry file. Every problem is reported (with
 * its line) in one pass, so an operator fixes the file once; any problem
 * refuses the whole file (see importRegistry).
 */
export function parseRegistryCsv(text: string): RegistryParse {
  const csv = parseCsv(text);
  if (!csv.ok) return fail({ line: csv.line, code: 'REGISTRY_CSV_MALFORMED', message: csv.message });
  const [header, ...rows] = csv.records;
  if (!header) return fail({ line: 1, code: 'REGISTRY_FILE_EMPTY', message: 'the file has no header line' });

  const problems: RegistryProblem[] = [];
  const index = new Map<RegistryColumn, number>();
  header.fields.forEach((name, i) => {
    if (!(REGISTRY_COLUMNS as readonly string[]).includes(name)) {
      problems.push({ line: header.line, code: 'REGISTRY_HEADER_UNKNOWN', message: `unknown column '${name}' (columns: ${REGISTRY_COLUMNS.join(', ')})` });
    } else if (index.has(name as RegistryColumn)) {
      problems.push({ line: header.line, code: 'REGISTRY_HEADER_DUPLICATE', column: name as RegistryColumn, message: `column '${name}' appears twice` });
    } else {
      index.set(name as RegistryColumn, i);
    }
  });
  for (const name of REQUIRED_COLUMNS) {
    if (!index.has(name)) problems.push({ line: header.line, code: 'REGISTRY_HEADER_MISSING', column: name, message: `required column '${name}' is missing` });
  }
  // Rows cannot be read against a header that is wrong.
  if (problems.length > 0) return fail(...problems);

  const devices: DeviceRegistration[] = [];
  const lines: number[] = [];
  const firstLineOf = new Map<string, number>();
  for (const row of rows) {
    if (row.fields.length !== header.fields.length) {
      problems.push({ line: row.line, code: 'REGISTRY_FIELD_COUNT', message: `${row.fields.length} fields where the header has ${header.fields.length}` });
      continue;
    }
    const rowProblems: RegistryProblem[] = [];
    const problem = (code: RegistryProblemCode, column: RegistryColumn | undefined, message: string) => rowProblems.push({ line: row.line, code, column, message });
    const cell = (column: RegistryColumn): string => {
      const i = index.get(column);
      return i === undefined ? '' : row.fields[i]!;
    };
    const required = (column: RegistryColumn): string | undefined => {
      const v = cell(column);
      if (v === '') problem('REGISTRY_FIELD_REQUIRED', column, `'${column}' is empty`);
      return v === '' ? undefined : v;
    };

    /** The value if it is one of `allowed`, else null and a problem naming them. */
    const oneOf = <T extends string>(value: string, allowed: readonly T[], column: RegistryColumn, code: RegistryProblemCode): T | null => {
      if ((allowed as readonly string[]).includes(value)) return value as T;
      problem(code, column, `${column} '${value}' is not one of ${allowed.join(', ')}`);
      return null;
    };

    const kindText = required('kind');
    const kind: DeviceKind | undefined = kindText === 'meter' || kindText === 'sensor' ? kindText : undefined;
    if (kindText !== undefined && !kind) problem('REGISTRY_KIND_INVALID', 'kind', `kind '${kindText}' is not meter or sensor`);

    const id = required('id');
    if (id !== undefined && !isValidDeviceId(id)) problem('REGISTRY_ID_INVALID', 'id', `id '${id}' is not 1-64 of [A-Za-z0-9._-] starting with a letter or digit`);
    else if (id !== undefined && firstLineOf.has(id)) problem('REGISTRY_ID_DUPLICATE', 'id', `id '${id}' is already on line ${firstLineOf.get(id)}`);

    const district = required('district');
    if (district !== undefined && !TEXT.test(district)) problem('REGISTRY_TEXT_INVALID', 'district', 'district must be 1-64 printable characters without surrounding spaces');
    const lat = coordinate(required('lat'), 90, 'lat', problem);
    const lon = coordinate(required('lon'), 180, 'lon', problem);

    let pipeId: string | null = null;
    let pipeMaterial: PipeMaterial | null = null;
    let site: SensorSite | null = null;
    let chainageM: number | null = null;
    let sourceChainageM: number | null = null;
    let registerMaxL: number | null = null;
    if (kind === 'sensor') {
      pipeId = required('pipe_id') ?? null;
      if (pipeId !== null && !TEXT.test(pipeId)) problem('REGISTRY_TEXT_INVALID', 'pipe_id', 'pipe_id must be 1-64 printable characters without surrounding spaces');
      const material = required('pipe_material');
      if (material !== undefined) pipeMaterial = oneOf(material, PIPE_MATERIALS, 'pipe_material', 'REGISTRY_PIPE_MATERIAL_UNKNOWN');
      const siteText = cell('site');
      if (siteText !== '') site = oneOf(siteText, SENSOR_SITES, 'site', 'REGISTRY_SITE_UNKNOWN');
      const chainage = cell('chainage_m');
      if (chainage !== '' && !CHAINAGE.test(chainage)) problem('REGISTRY_CHAINAGE_INVALID', 'chainage_m', `chainage_m '${chainage}' is not metres along the main (0 to 999999.999)`);
      else if (chainage !== '') chainageM = Number(chainage);
      const source = cell('source_chainage_m');
      if (source !== '' && !CHAINAGE.test(source)) problem('REGISTRY_CHAINAGE_INVALID', 'source_chainage_m', `source_chainage_m '${source}' is not metres along the main (0 to 999999.999)`);
      else if (source !== '' && site !== 'near_prv' && site !== 'near_pump') {
        problem('REGISTRY_SOURCE_WITHOUT_SITE', 'source_chainage_m', 'source_chainage_m places the PRV or pump of a near_prv or near_pump sensor; give the site');
      } else if (source !== '') sourceChainageM = Number(source);
      if (cell('register_max_l') !== '') problem('REGISTRY_FIELD_NOT_FOR_KIND', 'register_max_l', 'register_max_l is for meters');
    } else if (kind === 'meter') {
      for (const column of ['pipe_id', 'pipe_material', 'site', 'chainage_m', 'source_chainage_m'] as const) {
        if (cell(column) !== '') problem('REGISTRY_FIELD_NOT_FOR_KIND', column, `${column} is for sensors`);
      }
      const max = cell('register_max_l');
      if (max !== '' && !(POSITIVE_INTEGER.test(max) && Number.isSafeInteger(Number(max)))) {
        problem('REGISTRY_REGISTER_MAX_INVALID', 'register_max_l', `register_max_l '${max}' is not a positive whole number of litres`);
      } else if (max !== '') registerMaxL = Number(max);
    }

    const gateway = cell('gateway');
    if (gateway !== '' && !isValidDeviceId(gateway)) problem('REGISTRY_GATEWAY_INVALID', 'gateway', `gateway '${gateway}' is not 1-64 of [A-Za-z0-9._-] starting with a letter or digit`);

    if (id !== undefined && !firstLineOf.has(id)) firstLineOf.set(id, row.line);
    if (rowProblems.length > 0) {
      problems.push(...rowProblems);
      continue;
    }
    lines.push(row.line);
    devices.push({ id: id!, kind: kind!, district: district!, lat: lat!, lon: lon!, pipeId, pipeMaterial, site, chainageM, sourceChainageM, registerMaxL, gatewayId: gateway === '' ? null : gateway });
  }
  return problems.length > 0 ? fail(...problems) : { ok: true, devices, lines };
}

function coordinate(
  text: string | undefined,
  limit: number,
  column: 'lat' | 'lon',
  problem: (code: RegistryProblemCode, column: RegistryColumn, message: string) => void,
): number | undefined {
  if (text === undefined) return undefined;
  const v = Number(text);
  if (!DECIMAL.test(text) || !(Math.abs(v) <= limit)) {
    problem('REGISTRY_COORDINATE_INVALID', column, `${column} '${text}' is not a decimal degree from -${limit} to ${limit}`);
    return undefined;
  }
  return v;
}

function fail(...problems: RegistryProblem[]): { ok: false; problems: RegistryProblem[] } {
  return { ok: false, problems };
}

export interface RegistryImportResult {
  /** Devices written: nothing when there is any problem. */
  readonly imported: number;
  /** Of those, devices the registry did not know (the rest were updated). */
  readonly created: number;
  readonly problems: readonly RegistryProblem[];
}

/**
 * All or nothing: a file with any bad row imports nothing. The file is the
 * bureau's asset register exported whole; a partial import would leave a
 * registry that matches neither the old export nor the new one (some meters
 * moved to a new district, their neighbours not), and a bad row is often a
 * sign of a shifted column or the wrong file, where the "good" rows are
 * wrong too. Fixing the rows and importing the whole file again is cheap,
 * because the import is an idempotent upsert by id. It runs in one store
 * transaction. A row is the truth for its device: empty optional cells clear
 * what the registry had (a device moved off a gateway loses it).
 */
export async function importRegistry(
  store: Pick<Store, 'upsertDevices' | 'deviceKinds'>,
  text: string,
  onProgress?: (progress: RegistryImportProgress) => void,
): Promise<RegistryImportResult> {
  const parsed = parseRegistryCsv(text);
  if (!parsed.ok) return { imported: 0, created: 0, problems: parsed.problems };
  const problems: RegistryProblem[] = [];
  let created = 0;
  const total = parsed.devices.length;
  onProgress?.({ stage: 'parsed', done: total, total });
  for (let from = 0; from < total; from += PROGRESS_EVERY) {
    if (from > 0) onProgress?.({ stage: 'checking', done: from, total });
    const chunk = parsed.devices.slice(from, from + PROGRESS_EVERY);
    const known = await store.deviceKinds(chunk.map((d) => d.id));
    for (const [k, d] of chunk.entries()) {
      const kind = known.get(d.id);
      if (kind === undefined) created++;
      else if (kind !== d.kind) {
        problems.push({ line: parsed.lines[from + k]!, code: 'REGISTRY_KIND_CHANGED', column: 'kind', message: `'${d.id}' is registered as a ${kind}, not a ${d.kind}` });
      }
    }
  }
  if (problems.length > 0) return { imported: 0, created: 0, problems };
  onProgress?.({ stage: 'storing', done: 0, total });
  await store.upsertDevices(parsed.devices);
  return { imported: parsed.devices.length, created, problems: [] };
}
