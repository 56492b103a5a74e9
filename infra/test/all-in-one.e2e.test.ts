import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { issueApiKey } from '@suido/api';
import { FleetSimulator, parseScenario, type FleetReport } from '@suido/simulators';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadAllInOneConfig, prepareFleetAccess, startAllInOne, type AllInOne } from '../src/index.ts';

const log = pino({ level: 'silent' });

/** A small fleet over three simulated days with every fault, caught up in a second or two. */
const SCENARIO = {
  seed: 4242,
  fleet: { meters: 10, sensors: 2, sampleRateHz: 2000, frameIntervalMinutes: 60 },
  clock: { daysBack: 3, speed: 5_000_000, stopWhenCaughtUp: true },
  faults: { duplicate: 0.3, malformed: 0.1, late: 0.1, outOfOrder: 0.3 },
  connection: { mode: 'pooled', connections: 2, maxInFlight: 8 },
};

/** The API key the calls carry, made as a user would (README: Access). */
let authorization = '';

async function getJson(url: string): Promise<any> {
  const res = await fetch(url, { headers: { authorization }, signal: AbortSignal.timeout(5000) });
  expect(res.status, url).toBe(200);
  return res.json();
}

/** Every read of one meter through the API, following `next`. */
async function readsViaApi(apiUrl: string, meterId: string, fromMs: number): Promise<{ ts: number; registerL: number }[]> {
  const out: { ts: number; registerL: number }[] = [];
  let from = new Date(fromMs).toISOString();
  const to = new Date(Date.now() + 60_000).toISOString();
  for (let page = 0; page < 100; page++) {
    const body = await getJson(`${apiUrl}/v1/meters/${meterId}/reads?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}&limit=50`);
    out.push(...body.reads.map((r: { ts: string; registerL: number }) => ({ ts: Date.parse(r.ts), registerL: r.registerL })));
    if (body.next === null) return out;
    from = body.next;
  }
  throw new Error('too many pages');
}

describe('all in one: simulated fleet → MQTT/TCP → aedes → ingest → SQLite → HTTP API', () => {
  let dir: string;
  let system: AllInOne | undefined;
  const env = (extra: Record<string, string> = {}) =>
    loadAllInOneConfig({ SUIDO_DATA_DIR: dir, MQTT_PORT: '0', API_PORT: '0', SUIDO_DEMO: 'false', INGEST_BATCH_MAX_DELAY_MS: '5', ...extra });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'suido-e2e-'));
  });
  afterEach(async () => {
    await system?.close();
    system = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it('serves exactly the registers the fleet published, stores duplicates once, dead-letters the malformed, and keeps it all across a restart', async () => {
    system = await startAllInOne(env(), log);
    // Without the demo no key exists: the operator makes one.
    expect(system.demoKeys).toEqual([]);
    authorization = `Bearer ${(await issueApiKey(system.store, { role: 'operator', name: 'e2e', by: 'cli:e2e' })).key}`;
    expect((await fetch(`${system.apiUrl}/v1/meters`)).status).toBe(401);
    const scenario = parseScenario(SCENARIO);
    // The fleet's registry imported and its gateway's credential issued, as an operator would.
    const credentials = await prepareFleetAccess(system.store, scenario);
    const report: FleetReport = await new FleetSimulator({ url: system.mqttUrl, scenario, recordLedger: true, credentials }).run();
    expect(report).toMatchObject({ caughtUp: true, unacked: 0, errors: 0 });
    expect(report.duplicatesSent).toBeGreaterThan(0);
    expect(report.malformedSent).toBeGreaterThan(0);

    const ledger = report.ledger!;
    const meterIds = [...ledger.keys()].sort();
    // Most meters reached the broker. Not all: a batch held back 1-3 days (late) or malformed leaves a meter with no
    // acknowledged reads in a 3-day run, and which do depends on the hour the run starts (7 to 10 of the 10 meters,
    // replaying the schedule over a day). Every meter that did is checked read by read below.
    expect(meterIds.length).toBeGreaterThanOrEqual(SCENARIO.fleet.meters / 2);
    let total = 0;
    for (const id of meterIds) {
      const viaApi = await readsViaApi(system.apiUrl, id, report.simStartMs - 86_400_000);
      expect(viaApi, id).toEqual(ledger.get(id));
      total += viaApi.length;
    }
    expect(total).toBe(report.readsAcked);

    // Every malformed message is in the dead letters, with a reason code; nothing else is.
    const letters = await getJson(`${system.apiUrl}/v1/dead-letters?limit=1000`);
    expect(letters.items).toHaveLength(report.malformedSent);
    for (const l of letters.items) expect(l.code).toMatch(/^[A-Z_]+$/);

    // Duplicates were counted and not stored twice.
    const metrics = await (await fetch(`${system.apiUrl}/metrics`, { headers: { authorization } })).text();
    const dupes = Number(/suido_ingest_reads_total\{outcome="duplicate"\} (\d+)/.exec(metrics)?.[1]);
    expect(dupes).toBeGreaterThan(0);
    expect(metrics).toContain('suido_ingest_reads_total{outcome="conflict"} 0');

    // Restart on the same data directory: the API answers the same.
    await system.close();
    system = await startAllInOne(env(), log);
    const first = meterIds[0]!;
    expect(await readsViaApi(system.apiUrl, first, report.simStartMs - 86_400_000)).toEqual(ledger.get(first));
    expect((await getJson(`${system.apiUrl}/v1/dead-letters?limit=1000`)).items).toHaveLength(report.malformedSent);
  });

  it('the demo mode loads the registry and fills the API from its own fleet', async () => {
    const path = join(dir, 'demo.json');
    await writeFile(path, JSON.stringify({ ...SCENARIO, faults: {}, clock: { daysBack: 2, speed: 2_000_000, stopWhenCaughtUp: true } }));
    system = await startAllInOne(env({ SUIDO_DEMO: 'true', SUIDO_DEMO_SCENARIO: path }), log);
    // A key per role on the first start, for the banner; the billing one reads meters.
    expect(system.demoKeys.map((k) => [k.record.role, k.record.name])).toEqual([
      ['billing', 'demo-billing'],
      ['crew', 'demo-crew'],
      ['operator', 'demo-operator'],
      ['admin', 'demo-admin'],
    ]);
    authorization = `Bearer ${system.demoKeys[0]!.key}`;
    const report = await system.simulatorDone;
    expect(report?.readsAcked).toBeGreaterThan(0);
    const meters = await getJson(`${system.apiUrl}/v1/meters?limit=100`);
    expect(meters.items).toHaveLength(10);
    expect(meters.items[0].district).toEqual(expect.any(String));
    const detail = await getJson(`${system.apiUrl}/v1/meters/${meters.items[0].id}`);
    expect(detail.latestRead.registerL).toEqual(expect.any(Number));
    expect((await fetch(`${system.apiUrl}/readyz`)).status).toBe(200);

    // Later starts make no more keys; the first ones still work.
    await system.close();
    system = await startAllInOne(env({ SUIDO_DEMO: 'true', SUIDO_DEMO_SCENARIO: path }), log);
    expect(system.demoKeys).toEqual([]);
    expect(await system.store.listApiKeys()).toHaveLength(4);
    expect((await getJson(`${system.apiUrl}/v1/meters?limit=100`)).items).toHaveLength(10);
  });

  it('refuses a bad configuration naming the variable', () => {
    expect(() => loadAllInOneConfig({ MQTT_PORT: 'eighteen' })).toThrow(/MQTT_PORT='eighteen' must be an integer/);
    expect(() => loadAllInOneConfig({ SUIDO_DEMO: 'maybe' })).toThrow(/SUIDO_DEMO='maybe' must be true or false/);
    // The CA the in-process MQTT clients trust is read at start, not at the first connection.
    expect(() => loadAllInOneConfig({ ALERTS_MQTT_CA_FILE: '/nonexistent/ca.pem' })).toThrow(/ALERTS_MQTT_CA_FILE='\/nonexistent\/ca.pem' cannot be read \(ENOENT\)/);
    expect(() => loadAllInOneConfig({ ALERTS_MQTT_CA_FILE: fileURLToPath(import.meta.url) })).toThrow(/ALERTS_MQTT_CA_FILE='.*' holds no PEM certificate/);
  });
});
