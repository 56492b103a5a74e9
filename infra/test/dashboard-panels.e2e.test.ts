import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { issueApiKey } from '@suido/api';
import {
  dashboards,
  datasourceProvisioning,
  INFLUXDB,
  isInfinityQuery,
  isInfluxQLQuery,
  PROVISIONING_ENV,
  SUIDO_API,
  type InfinityQuery,
  type InfluxQLQuery,
  type ProvisionedDatasource,
} from '@suido/dashboards';
import { FleetSimulator, parseScenario } from '@suido/simulators';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInfluxd, type RunningInfluxd } from '../src/services/index.ts';
import { loadAllInOneConfig, prepareFleetAccess, startAllInOne, type AllInOne } from '../src/index.ts';

/**
 * Every panel of every dashboard, run against the real datasources the way
 * Grafana would run it: InfluxQL with $timeFilter, $__interval and the
 * dashboard's variables substituted, sent to influxd's /query; Infinity
 * targets sent to the running API with the operator key the provisioned
 * datasource adds. Grafana itself is not run here (README: Dashboards); this
 * test is its stand-in, and fails on any error or empty answer.
 *
 * The data: simulators/scenarios/leak.json (a leaking main under S-0001
 * repaired on night 5, a premises leak behind M-000004) with a few malformed
 * and duplicate messages added, through MQTT → ingest → InfluxDB, the
 * detector scoring and raising alerts, the API serving them.
 */
const LEAK_SCENARIO = fileURLToPath(new URL('../../simulators/scenarios/leak.json', import.meta.url));
const DATABASE = 'suido_dashboards';
const log = pino({ level: 'silent' });

let influxd: RunningInfluxd;
let system: AllInOne | undefined;
let dir: string;
let env: Record<string, string>;

beforeAll(async () => {
  influxd = await startInfluxd();
  dir = await mkdtemp(join(tmpdir(), 'suido-dashboards-'));
});
afterAll(async () => {
  await system?.close();
  await influxd?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// ---- Grafana's side, as far as the panels need it ----

/** The provisioned datasources with Grafana's environment substitution applied. */
function provisioned(uid: string): ProvisionedDatasource {
  const text = JSON.stringify(datasourceProvisioning().datasources.find((d) => d.uid === uid));
  return JSON.parse(text.replace(/\$\{(\w+)\}/g, (_, name: string) => env[name] ?? ''));
}

interface TimeRange {
  readonly fromMs: number;
  readonly toMs: number;
}

/** `now-7d` / `now` as Grafana's time picker reads them (the units the dashboards use). */
function relativeTime(text: string, nowMs: number): number {
  const m = /^now(?:-(\d+)([smhdw]))?$/.exec(text);
  if (!m) throw new Error(`time '${text}' not understood`);
  const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[(m[2] ?? 's') as 's'];
  return nowMs - Number(m[1] ?? 0) * unit;
}

/** Grafana's rounding of an automatic interval to a readable one (kbn.roundInterval). */
function roundInterval(ms: number): number {
  const steps: [number, number][] = [
    [15, 10], [35, 20], [75, 50], [150, 100], [350, 200], [750, 500], [1500, 1000], [3500, 2000], [7500, 5000],
    [12500, 10_000], [17500, 15_000], [25000, 20_000], [45000, 30_000], [90000, 60_000], [210000, 120_000],
    [450000, 300_000], [750000, 600_000], [1050000, 900_000], [1500000, 1_200_000], [2700000, 1_800_000],
    [5400000, 3_600_000], [9000000, 7_200_000], [16200000, 10_800_000], [32400000, 21_600_000], [86400000, 43_200_000],
    [604800000, 86_400_000], [1814400000, 604_800_000], [3628800000, 2_592_000_000],
  ];
  for (const [below, to] of steps) if (ms < below) return to;
  return 31_536_000_000;
}

/** `$__interval` for a panel: the range over its data points, at least the datasource's minimum, rounded. */
function panelInterval(range: TimeRange, maxDataPoints: number, minIntervalMs: number): { text: string; ms: number } {
  const ms = Math.max(roundInterval((range.toMs - range.fromMs) / maxDataPoints), minIntervalMs);
  const units: [string, number][] = [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]];
  for (const [u, size] of units) if (ms % size === 0) return { text: `${ms / size}${u}`, ms };
  return { text: `${ms}ms`, ms };
}

function durationMs(text: string): number {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(text);
  if (!m) throw new Error(`duration '${text}' not understood`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's'];
}

/** Dashboard variables and Grafana's built-in ones, `$name` and `${name}` alike. */
function interpolate(text: string, vars: Readonly<Record<string, string>>): string {
  return text.replace(/\$\{(\w+)\}|\$(\w+)/g, (whole, braced: string | undefined, bare: string | undefined) => {
    const name = (braced ?? bare)!;
    return name in vars ? vars[name]! : whole;
  });
}

interface InfluxAnswer {
  results: { statement_id: number; error?: string; series?: { name: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] }[] }[];
  error?: string;
}

/** A statement as Grafana's InfluxDB datasource sends it: GET /query with the provisioned database, epoch=ms. */
async function influxQuery(q: string): Promise<InfluxAnswer['results'][number]> {
  const ds = provisioned(INFLUXDB.uid);
  const params = new URLSearchParams({ db: String(ds.jsonData.dbName), q, epoch: 'ms' });
  const res = await fetch(`${ds.url}/query?${params}`, { signal: AbortSignal.timeout(20_000) });
  const body = (await res.json()) as InfluxAnswer;
  expect(res.status, `${q}\n${JSON.stringify(body)}`).toBe(200);
  expect(body.error, q).toBeUndefined();
  expect(body.results, q).toHaveLength(1);
  expect(body.results[0]!.error, q).toBeUndefined();
  return body.results[0]!;
}

/** Values a variable's query offers (SHOW TAG VALUES answers key, value rows). */
async function variableOptions(query: string): Promise<string[]> {
  const result = await influxQuery(query);
  return (result.series ?? []).flatMap((s) => s.values.map((v) => String(v[1])));
}

/** Runs an InfluxQL target; fails unless some series has a row with a value besides time. Returns those rows. */
async function runInfluxQL(target: InfluxQLQuery, vars: Readonly<Record<string, string>>, range: TimeRange, interval: { text: string; ms: number }): Promise<unknown[][]> {
  const q = interpolate(target.query, {
    ...vars,
    timeFilter: `time >= ${range.fromMs}ms and time <= ${range.toMs}ms`,
    __interval: interval.text,
    __interval_ms: String(interval.ms),
  });
  expect(q, 'every $ was substituted').not.toMatch(/\$/);
  const result = await influxQuery(q);
  const rows = (result.series ?? []).flatMap((s) => s.values);
  const withValue = rows.filter((r) => r.slice(1).some((v) => v !== null));
  expect(withValue.length, `no data for: ${q}`).toBeGreaterThan(0);
  return withValue;
}

const at = (row: unknown, path: string): unknown => path.split('.').reduce<unknown>((o, k) => (o === null || o === undefined ? undefined : (o as Record<string, unknown>)[k]), row);

/** An Infinity JSON target, as the plugin's backend runs it: datasource URL + query URL, secure header, cursor pages, rows at root_selector, columns by selector. */
async function runInfinity(target: InfinityQuery, vars: Readonly<Record<string, string>>): Promise<number> {
  const ds = provisioned(SUIDO_API.uid);
  const url = new URL(`${ds.url.replace(/\/$/, '')}${target.url}`);
  // Infinity refuses to send secure headers to hosts not allowed in the datasource.
  expect((ds.jsonData.allowedHosts as string[]).some((h) => url.href.startsWith(h))).toBe(true);
  for (const p of target.url_options.params) url.searchParams.set(p.key, interpolate(p.value, vars));
  const headers = { [String(ds.jsonData.httpHeaderName1)]: ds.secureJsonData!.httpHeaderValue1! };
  const rows: unknown[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < (target.pagination_mode === 'cursor' ? target.pagination_max_pages! : 1); page++) {
    if (target.pagination_mode === 'cursor') {
      url.searchParams.set(target.pagination_param_size_field_name!, String(target.pagination_param_size_value));
      if (cursor === undefined) url.searchParams.delete(target.pagination_param_cursor_field_name!);
      else url.searchParams.set(target.pagination_param_cursor_field_name!, cursor);
    }
    const res = await fetch(url, { headers, signal: AbortSignal.timeout(10_000) });
    const body = await res.json();
    expect(res.status, `${url}: ${JSON.stringify(body)}`).toBe(200);
    const found = target.root_selector ? at(body, target.root_selector) : body;
    expect(Array.isArray(found), `${url}: rows at '${target.root_selector}'`).toBe(true);
    rows.push(...(found as unknown[]));
    const next = target.pagination_mode === 'cursor' ? at(body, target.pagination_param_cursor_extraction_path!) : null;
    if (next === null || next === undefined) break;
    cursor = String(next);
  }
  expect(rows.length, `no rows from ${target.url}`).toBeGreaterThan(0);
  for (const row of rows) {
    for (const c of target.columns) {
      const v = at(row, c.selector);
      expect(v, `${target.url}: column ${c.selector}`).not.toBeUndefined();
      if (v === null) continue;
      if (c.type === 'number') expect(typeof v, c.selector).toBe('number');
      if (c.type === 'timestamp') expect(Number.isNaN(Date.parse(String(v))), c.selector).toBe(false);
    }
  }
  return rows.length;
}

describe('dashboards: every panel query on the real datasources', () => {
  it('answers every panel of the four dashboards, with data, after a simulated leak fleet went through MQTT, ingest, InfluxDB, the detector and the API', { timeout: 240_000 }, async () => {
    system = await startAllInOne(
      loadAllInOneConfig({
        SUIDO_DATA_DIR: dir,
        SUIDO_STORE: 'influxdb',
        INFLUX_URL: influxd.url,
        INFLUX_DATABASE: DATABASE,
        MQTT_PORT: '0',
        API_PORT: '0',
        SUIDO_DEMO: 'false',
        DETECT_POLL_MS: '50',
        INGEST_BATCH_MAX_DELAY_MS: '5',
      }),
      log,
    );
    // Some devices get payloads wrong and some resend: the rejection and duplicate panels need both.
    const scenario = parseScenario({ ...JSON.parse(await readFile(LEAK_SCENARIO, 'utf8')), faults: { malformed: 0.03, duplicate: 0.1 } });
    const report = await new FleetSimulator({ url: system.mqttUrl, scenario, credentials: await prepareFleetAccess(system.store, scenario) }).run();
    expect(report).toMatchObject({ caughtUp: true, unacked: 0 });
    expect(report.malformedSent).toBeGreaterThan(0);

    const store = system.store;
    await waitFor('the leak alert on S-0001', async () => ((await store.listAlerts({ kind: 'leak', sourceId: 'S-0001', limit: 1 })).length > 0 ? true : undefined), 120_000);
    await waitFor('continuous flow on M-000004', async () => ((await store.openAlertFor('M-000004', 'continuous_flow')) ? true : undefined));

    const key = await issueApiKey(store, { role: 'operator', name: 'grafana', by: 'cli:test' });
    env = {
      [PROVISIONING_ENV.influxUrl]: influxd.url,
      [PROVISIONING_ENV.influxDatabase]: DATABASE,
      [PROVISIONING_ENV.apiUrl]: system.apiUrl,
      [PROVISIONING_ENV.operatorKey]: key.key,
    };
    // The store's self-monitoring points are written off the commit path: wait until they are in.
    await waitFor('self-monitoring points', async () => ((await influxQuery('SELECT count("reads") FROM "raw"."ingest_batches"')).series ? true : undefined));

    // What the panels are looked at for: the leaking sensor, the meter with the premises leak, and its district.
    const districtOf = (await influxQuery(`SHOW TAG VALUES FROM "raw"."meter_reads" WITH KEY = "district" WHERE "meter" = 'M-000004'`)).series![0]!.values[0]![1] as string;
    const chosen: Record<string, string> = { meter: 'M-000004', sensor: 'S-0001', district: districtOf };

    const minIntervalMs = durationMs(String(provisioned(INFLUXDB.uid).jsonData.timeInterval));
    const nowMs = Date.now();
    let panels = 0;
    let queries = 0;
    const ran: string[] = [];
    const answers = new Map<string, unknown[][]>();
    for (const [file, dashboard] of Object.entries(dashboards())) {
      const range = { fromMs: relativeTime(dashboard.time!.from, nowMs), toMs: relativeTime(dashboard.time!.to, nowMs) };
      const vars: Record<string, string> = { __from: String(range.fromMs), __to: String(range.toMs) };
      for (const v of dashboard.templating?.list ?? []) {
        const options = await variableOptions(String(v.query));
        expect(options.length, `${file}: variable ${v.name} has no values`).toBeGreaterThan(0);
        expect(options, `${file}: variable ${v.name}`).toContain(chosen[v.name]);
        vars[v.name] = chosen[v.name]!;
        queries++;
      }
      for (const panel of dashboard.panels ?? []) {
        const p = panel as { title: string; targets?: unknown[]; maxDataPoints?: number; gridPos?: { w: number } };
        // Grafana asks for about one point per pixel of the panel's width (a 24-column row ≈ 1,800 px).
        const interval = panelInterval(range, p.maxDataPoints ?? Math.round(((p.gridPos?.w ?? 24) / 24) * 1800), minIntervalMs);
        panels++;
        for (const t of p.targets ?? []) {
          let rows: number;
          if (isInfluxQLQuery(t)) {
            const answer = await runInfluxQL(t, vars, range, interval);
            answers.set(p.title, answer);
            rows = answer.length;
          } else if (isInfinityQuery(t)) rows = await runInfinity(t, vars);
          else throw new Error(`${file}: ${p.title}: a target of neither datasource`);
          queries++;
          ran.push(`${file} · ${p.title} · ${t.refId}: ${rows} rows`);
        }
      }
    }
    console.log(`dashboard panels: ${panels} panels, ${queries} queries (variables included) ran with data\n  ${ran.join('\n  ')}`);
    expect(panels).toBeGreaterThanOrEqual(17);

    // The figures are the system's, not merely present: every malformed message the fleet sent is one rejection,
    // and the meter's flags panel shows the premises leak it raised.
    const rejected = answers.get('Rejections by reason')!.reduce((sum, r) => sum + Number(r[1] ?? 0), 0);
    expect(rejected).toBe(report.malformedSent);
    expect(answers.get('Flags raised')!.every((r) => String(r[1]).split(',').includes('leak'))).toBe(true);
  });
});
