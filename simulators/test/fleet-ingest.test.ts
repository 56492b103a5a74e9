import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IngestService, loadIngestConfig, SqliteStore } from '@suido/ingest';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FleetSimulator, fleetRegistry, parseScenario, type ConnectionSpec, type FleetReport, type Scenario } from '../src/index.ts';

const log = pino({ level: 'silent' });
const FAST_BACKOFF = { initialMs: 20, maxMs: 200 };

/** Three days of a small fleet, caught up in well under a second, with every fault at a high rate. */
function scenario(connection: ConnectionSpec, faults = { duplicate: 0.3, malformed: 0.15, late: 0.15, outOfOrder: 0.3 }): Scenario {
  return parseScenario({
    seed: 77,
    fleet: { meters: 12, sensors: 2, sampleRateHz: 2000, frameIntervalMinutes: 30 },
    clock: { daysBack: 3, speed: 5_000_000, stopWhenCaughtUp: true },
    faults,
    connection,
  });
}

describe('a simulated fleet → embedded broker → ingest → SQLite, over real MQTT/TCP', () => {
  let dir: string;
  let store: SqliteStore;
  let service: IngestService | undefined;
  let simulator: FleetSimulator | undefined;

  const startService = async (port = 0) => {
    const config = loadIngestConfig({ SUIDO_DATA_DIR: dir, MQTT_PORT: String(port), INGEST_BATCH_MAX_DELAY_MS: '5', MQTT_ALLOW_ANONYMOUS: 'true' });
    service = await IngestService.start({ config, store, registry: new Registry(), log });
    return service;
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'suido-sim-'));
    store = new SqliteStore({ path: join(dir, 'suido.db') });
  });

  afterEach(async () => {
    await simulator?.stop();
    simulator = undefined;
    await service?.close();
    service = undefined;
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** The store holds exactly the reads the simulator saw acknowledged: same meters, same instants, same registers. */
  async function expectStoreMatchesLedger(s: Scenario, report: FleetReport): Promise<void> {
    const ledger = report.ledger!;
    let total = 0;
    for (let i = 1; i <= s.fleet.meters; i++) {
      const id = `M-${String(i).padStart(6, '0')}`;
      const stored = await store.readsInRange(id, 0, Date.now() + 60_000, 10_000);
      expect(stored.map((r) => ({ ts: r.ts, registerL: r.registerL })), id).toEqual(ledger.get(id) ?? []);
      total += stored.length;
    }
    expect(total).toBe(report.readsAcked);
    expect(total).toBeGreaterThan(s.fleet.meters * 24);
  }

  it.each<ConnectionSpec>([
    { mode: 'per-device', maxConcurrent: 8, maxInFlight: 4 },
    { mode: 'pooled', connections: 2, maxInFlight: 8 },
  ])('$mode: stores exactly the acknowledged reads, once, and dead-letters every malformed message', async (connection) => {
    const s = scenario(connection);
    await startService();
    await store.upsertDevices(fleetRegistry(s));
    simulator = new FleetSimulator({ url: service!.broker.url, scenario: s, recordLedger: true });
    const report = await simulator.run();

    expect(report).toMatchObject({ caughtUp: true, stopped: false, unacked: 0, errors: 0 });
    expect(report.acked).toBe(report.published);
    expect(report.duplicatesSent).toBeGreaterThan(0);
    expect(report.malformedSent).toBeGreaterThan(0);
    expect(report.lateBatches + report.outOfOrderBatches).toBeGreaterThan(0);
    expect(report.messages.acoustic.acked).toBeGreaterThan(0);
    await expectStoreMatchesLedger(s, report);

    const letters = await store.deadLetters({ limit: 1000 });
    expect(letters).toHaveLength(report.malformedSent);
    expect(letters.filter((l) => l.code === 'READ_CONFLICT')).toEqual([]);
    // Device ids in the topics, and in per-device mode the device's own client id.
    for (const l of letters) {
      const deviceId = l.topic.split('/')[3]!;
      if (connection.mode === 'per-device') expect(l.clientId).toBe(deviceId);
    }
    const sensor = await store.getDevice('S-0001');
    expect(sensor).toMatchObject({ kind: 'sensor', pipeMaterial: 'ductile_iron' });
    expect(sensor?.lastStatus?.firmware).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('keeps retrying while the broker is down and loses nothing once it is up', async () => {
    // A free port with nothing listening yet.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));

    const s = scenario({ mode: 'pooled', connections: 2, maxInFlight: 8 }, { duplicate: 0.2, malformed: 0.1, late: 0, outOfOrder: 0 });
    simulator = new FleetSimulator({ url: `mqtt://127.0.0.1:${port}`, scenario: s, recordLedger: true, backoff: FAST_BACKOFF });
    const running = simulator.run();
    await new Promise((r) => setTimeout(r, 400));
    await startService(port);
    const report = await running;

    expect(report.errors).toBeGreaterThan(0);
    expect(report).toMatchObject({ caughtUp: true, unacked: 0 });
    expect(report.acked).toBe(report.published);
    await expectStoreMatchesLedger(s, report);
    expect(await store.deadLetters({ limit: 1000 })).toHaveLength(report.malformedSent);
  });

  it.each<ConnectionSpec>([
    { mode: 'per-device', maxConcurrent: 8, maxInFlight: 4 },
    { mode: 'pooled', connections: 2, maxInFlight: 8 },
  ])('$mode: loses nothing across a broker restart mid-run, resending what was in flight', async (connection) => {
    const first = await startService();
    const port = first.broker.port;
    const s = parseScenario({
      seed: 78,
      fleet: { meters: 60, sensors: 2, sampleRateHz: 2000, frameIntervalMinutes: 30 },
      clock: { daysBack: 7, speed: 2_000_000, stopWhenCaughtUp: true },
      faults: { duplicate: 0.1, malformed: 0.05 },
      connection,
    });
    // A connection caught half-open by the restart waits out its CONNACK timeout, and
    // the old broker's close waits for it; keep both short here.
    simulator = new FleetSimulator({ url: first.broker.url, scenario: s, recordLedger: true, connectTimeoutMs: 1000, backoff: FAST_BACKOFF });
    const running = simulator.run();
    // Restart once the fleet is well under way: a tenth of its messages in.
    while (first.metrics.totals.messagesAccepted < 100) await new Promise((r) => setTimeout(r, 2));
    await first.close();
    service = undefined;
    const second = await startService(port);
    const report = await running;

    // The restart fell mid-run: the second broker took part of the fleet's messages.
    expect(second.metrics.totals.messagesAccepted).toBeGreaterThan(0);
    // Pooled connections are open throughout, so the restart must break them. A
    // per-device session lasts a few milliseconds and the restart may land between
    // sessions (seen under CI load), so there a broken connection is not promised.
    if (connection.mode === 'pooled') expect(report.errors).toBeGreaterThan(0);
    expect(report).toMatchObject({ caughtUp: true, unacked: 0 });
    await expectStoreMatchesLedger(s, report);
  });

  it('stops on request, in real time, without waiting for the next device', async () => {
    await startService();
    const s = parseScenario({ fleet: { meters: 3, sensors: 1 }, clock: { daysBack: 0, speed: 1, stopWhenCaughtUp: false } });
    const progress: number[] = [];
    simulator = new FleetSimulator({ url: service!.broker.url, scenario: s, onProgress: (p) => progress.push(p.simNowMs), progressIntervalMs: 20 });
    const running = simulator.run();
    await new Promise((r) => setTimeout(r, 150));
    const t0 = Date.now();
    await simulator.stop();
    const report = await running;
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(report).toMatchObject({ stopped: true, caughtUp: false, unacked: 0 });
    expect(progress.length).toBeGreaterThan(2);
    expect(progress.every((t) => t <= Date.now())).toBe(true);
  });
});
