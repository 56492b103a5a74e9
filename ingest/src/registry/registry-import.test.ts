import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../store/sqlite-store.ts';
import { formatRegistryCsv } from './registry-export.ts';
import { importRegistry, parseRegistryCsv, type RegistryProblem } from './registry-import.ts';

const HEADER = 'kind,id,district,lat,lon,pipe_id,pipe_material,register_max_l,gateway';
const GOOD = [
  HEADER,
  'meter,M-1,Naka,34.3951,132.4594,,,,hes-1',
  'meter,M-2,"Naka, north",34.4,132.46,,,99999999,',
  'sensor,S-1,Minami,34.37,132.47,P-0001,ductile_iron,,',
].join('\r\n');

const problemsOf = (text: string) => {
  const r = parseRegistryCsv(text);
  return r.ok ? [] : r.problems.map((p: RegistryProblem) => [p.line, p.code, p.column]);
};
const withRows = (...rows: string[]) => [HEADER, ...rows].join('\n');

describe('registry CSV', () => {
  it('reads meters and sensors with their optional columns, in any column order', () => {
    const r = parseRegistryCsv(GOOD);
    expect(r).toMatchObject({ ok: true, lines: [2, 3, 4] });
    expect(r.ok && r.devices).toEqual([
      { id: 'M-1', kind: 'meter', district: 'Naka', lat: 34.3951, lon: 132.4594, pipeId: null, pipeMaterial: null, site: null, chainageM: null, sourceChainageM: null, registerMaxL: null, gatewayId: 'hes-1' },
      { id: 'M-2', kind: 'meter', district: 'Naka, north', lat: 34.4, lon: 132.46, pipeId: null, pipeMaterial: null, site: null, chainageM: null, sourceChainageM: null, registerMaxL: 99_999_999, gatewayId: null },
      { id: 'S-1', kind: 'sensor', district: 'Minami', lat: 34.37, lon: 132.47, pipeId: 'P-0001', pipeMaterial: 'ductile_iron', site: null, chainageM: null, sourceChainageM: null, registerMaxL: null, gatewayId: null },
    ]);
    const reordered = parseRegistryCsv('lon,lat,id,kind,district\n132.1,34.1,M-9,meter,Aki\n');
    expect(reordered.ok && reordered.devices[0]).toMatchObject({ id: 'M-9', lat: 34.1, lon: 132.1, district: 'Aki', gatewayId: null });
  });

  it('reads a sensor’s site, may leave it empty, and refuses an unknown one or one on a meter', () => {
    const text = (...rows: string[]) => ['kind,id,district,lat,lon,pipe_id,pipe_material,site', ...rows].join('\n');
    const r = parseRegistryCsv(text('sensor,S-1,Naka,34.39,132.45,P-1,pvc,near_prv', 'sensor,S-2,Naka,34.39,132.45,P-2,pe,'));
    expect(r.ok && r.devices.map((d) => d.site)).toEqual(['near_prv', null]);
    expect(problemsOf(text('sensor,S-1,Naka,34.39,132.45,P-1,pvc,near_river', 'meter,M-1,Naka,34.39,132.45,,,tram_line'))).toEqual([
      [2, 'REGISTRY_SITE_UNKNOWN', 'site'],
      [3, 'REGISTRY_FIELD_NOT_FOR_KIND', 'site'],
    ]);
  });

  it('reads where along its main a sensor sits, may leave it empty, and refuses what is not metres or is on a meter', () => {
    const text = (...rows: string[]) => ['kind,id,district,lat,lon,pipe_id,pipe_material,chainage_m', ...rows].join('\n');
    const r = parseRegistryCsv(text('sensor,S-1,Naka,34.39,132.45,P-1,ductile_iron,1240.5', 'sensor,S-2,Naka,34.39,132.45,P-1,ductile_iron,0', 'sensor,S-3,Naka,34.39,132.45,P-2,pe,'));
    expect(r.ok && r.devices.map((d) => d.chainageM)).toEqual([1240.5, 0, null]);
    expect(problemsOf(text('sensor,S-1,Naka,34.39,132.45,P-1,pvc,-3', 'sensor,S-2,Naka,34.39,132.45,P-1,pvc,12 m', 'sensor,S-3,Naka,34.39,132.45,P-1,pvc,1e3', 'meter,M-1,Naka,34.39,132.45,,,50'))).toEqual([
      [2, 'REGISTRY_CHAINAGE_INVALID', 'chainage_m'],
      [3, 'REGISTRY_CHAINAGE_INVALID', 'chainage_m'],
      [4, 'REGISTRY_CHAINAGE_INVALID', 'chainage_m'],
      [5, 'REGISTRY_FIELD_NOT_FOR_KIND', 'chainage_m'],
    ]);
  });

  it("reads where a near_prv or near_pump sensor's valve or pump stands along its main, and refuses it without such a site", () => {
    const text = (...rows: string[]) => ['kind,id,district,lat,lon,pipe_id,pipe_material,site,chainage_m,source_chainage_m', ...rows].join('\n');
    const r = parseRegistryCsv(text('sensor,S-1,Naka,34.39,132.45,P-1,steel,near_prv,100,140.5', 'sensor,S-2,Naka,34.39,132.45,P-1,steel,near_pump,300,'));
    expect(r.ok && r.devices.map((d) => d.sourceChainageM)).toEqual([140.5, null]);
    expect(
      problemsOf(text('sensor,S-1,Naka,34.39,132.45,P-1,steel,quiet_residential,100,140', 'sensor,S-2,Naka,34.39,132.45,P-1,steel,near_prv,100,-4', 'meter,M-1,Naka,34.39,132.45,,,,,40')),
    ).toEqual([
      [2, 'REGISTRY_SOURCE_WITHOUT_SITE', 'source_chainage_m'],
      [3, 'REGISTRY_CHAINAGE_INVALID', 'source_chainage_m'],
      [4, 'REGISTRY_FIELD_NOT_FOR_KIND', 'source_chainage_m'],
    ]);
  });

  it('refuses a bad header before reading any row', () => {
    expect(problemsOf('')).toEqual([[1, 'REGISTRY_FILE_EMPTY', undefined]]);
    expect(problemsOf('kind,id,district,lat,lon,colour,id\nmeter,M-1,Naka,34,132,red,M-1')).toEqual([
      [1, 'REGISTRY_HEADER_UNKNOWN', undefined],
      [1, 'REGISTRY_HEADER_DUPLICATE', 'id'],
    ]);
    expect(problemsOf('Kind,id,district,lat\n')).toEqual([
      [1, 'REGISTRY_HEADER_UNKNOWN', undefined],
      [1, 'REGISTRY_HEADER_MISSING', 'kind'],
      [1, 'REGISTRY_HEADER_MISSING', 'lon'],
    ]);
  });

  it('reports every bad row with its line, column and reason code', () => {
    expect(
      problemsOf(
        withRows(
          'meter,M-1,Naka,34.39,132.45,,,,',
          'gauge,M-2,Naka,34.39,132.45,,,,',
          'meter,M 3,Naka,34.39,132.45,,,,',
          'meter,M-1,Naka,34.39,132.45,,,,',
          'meter,M-4,,34.39,132.45,,,,',
          'meter,M-5,Naka ,34.39,132.45,,,,',
          'meter,M-6,Naka,94,132.45,,,,',
          'meter,M-7,Naka,34.39,east,,,,',
          'meter,M-8,Naka,34.39,132.45,P-1,pvc,,',
          'meter,M-9,Naka,34.39,132.45,,,0,',
          'meter,M-10,Naka,34.39,132.45,,,12.5,',
          'sensor,S-1,Naka,34.39,132.45,,pvc,,',
          'sensor,S-2,Naka,34.39,132.45,P-2,copper,,',
          'sensor,S-3,Naka,34.39,132.45,P-3,pvc,1000,',
          'meter,M-11,Naka,34.39,132.45,,,,hes/1',
          'meter,M-12,Naka,34.39',
          '"meter","M-13","Naka","34.39","132.45","","","",""',
        ),
      ),
    ).toEqual([
      [3, 'REGISTRY_KIND_INVALID', 'kind'],
      [4, 'REGISTRY_ID_INVALID', 'id'],
      [5, 'REGISTRY_ID_DUPLICATE', 'id'],
      [6, 'REGISTRY_FIELD_REQUIRED', 'district'],
      [7, 'REGISTRY_TEXT_INVALID', 'district'],
      [8, 'REGISTRY_COORDINATE_INVALID', 'lat'],
      [9, 'REGISTRY_COORDINATE_INVALID', 'lon'],
      [10, 'REGISTRY_FIELD_NOT_FOR_KIND', 'pipe_id'],
      [10, 'REGISTRY_FIELD_NOT_FOR_KIND', 'pipe_material'],
      [11, 'REGISTRY_REGISTER_MAX_INVALID', 'register_max_l'],
      [12, 'REGISTRY_REGISTER_MAX_INVALID', 'register_max_l'],
      [13, 'REGISTRY_FIELD_REQUIRED', 'pipe_id'],
      [14, 'REGISTRY_PIPE_MATERIAL_UNKNOWN', 'pipe_material'],
      [15, 'REGISTRY_FIELD_NOT_FOR_KIND', 'register_max_l'],
      [16, 'REGISTRY_GATEWAY_INVALID', 'gateway'],
      [17, 'REGISTRY_FIELD_COUNT', undefined],
    ]);
    expect(problemsOf(withRows('meter,M-1,Naka,34.39,132.45,,,,', 'meter,M-2,Na"ka,34.39,132.45,,,,'))).toEqual([[3, 'REGISTRY_CSV_MALFORMED', undefined]]);
  });
});

describe('registry import', () => {
  let store: SqliteStore;
  beforeEach(() => {
    store = new SqliteStore({ path: ':memory:' });
  });
  afterEach(async () => {
    await store.close();
  });

  it('says how far a city-sized file got: parsed, every 50,000 rows checked, then the store transaction', async () => {
    const rows = Array.from({ length: 100_001 }, (_, i) => `meter,M-${String(i + 1).padStart(6, '0')},Naka,34.39,132.45,,,,`);
    const seen: string[] = [];
    const result = await importRegistry(store, withRows(...rows), (p) => seen.push(`${p.stage} ${p.done}/${p.total}`));
    expect(result).toMatchObject({ imported: 100_001, problems: [] });
    expect(seen).toEqual(['parsed 100001/100001', 'checking 50000/100001', 'checking 100000/100001', 'storing 0/100001']);
  });

  it('upserts the whole file, idempotently, and a later file is the truth for its rows', async () => {
    expect(await importRegistry(store, GOOD)).toEqual({ imported: 3, created: 3, problems: [] });
    expect(await importRegistry(store, GOOD)).toEqual({ imported: 3, created: 0, problems: [] });
    expect(await store.listDevices({ limit: 10 })).toHaveLength(3);
    expect(await store.getDevice('S-1')).toMatchObject({ kind: 'sensor', district: 'Minami', pipeId: 'P-0001', pipeMaterial: 'ductile_iron' });
    expect(await store.getDevice('M-2')).toMatchObject({ registerMaxL: 99_999_999, gatewayId: null });

    await importRegistry(store, withRows('meter,M-1,Higashi,34.4,132.5,,,,'));
    expect(await store.getDevice('M-1')).toMatchObject({ district: 'Higashi', lat: 34.4, gatewayId: null });
  });

  it('imports nothing when any row is bad', async () => {
    const result = await importRegistry(store, withRows('meter,M-1,Naka,34.39,132.45,,,,', 'meter,M-2,Naka,91,132.45,,,,'));
    expect(result).toMatchObject({ imported: 0, created: 0, problems: [{ line: 3, code: 'REGISTRY_COORDINATE_INVALID' }] });
    expect(await store.listDevices({ limit: 10 })).toEqual([]);
  });

  it('refuses to turn a meter into a sensor, and imports nothing then either', async () => {
    await importRegistry(store, GOOD);
    const result = await importRegistry(store, withRows('meter,M-5,Aki,34.4,132.5,,,,', 'sensor,M-1,Naka,34.39,132.45,P-9,pvc,,'));
    expect(result).toMatchObject({ imported: 0, problems: [{ line: 3, code: 'REGISTRY_KIND_CHANGED', column: 'kind' }] });
    expect(await store.getDevice('M-5')).toBeUndefined();
    expect((await store.getDevice('M-1'))?.kind).toBe('meter');
  });

  it('reads back what it exports, quoting where needed', async () => {
    const parsed = parseRegistryCsv(GOOD);
    const again = parseRegistryCsv(formatRegistryCsv(parsed.ok ? parsed.devices : []));
    expect(again.ok && again.devices).toEqual(parsed.ok && parsed.devices);
    expect(formatRegistryCsv(parsed.ok ? parsed.devices : [])).toContain('"Naka, north"');
  });
});
