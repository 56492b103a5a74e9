import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IngestService, loadIngestConfig, SqliteStore } from '@suido/ingest';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bandPower, FleetSimulator, fleetRegistry, loadScenario, scenarioStartMs, tokyoDay } from '../src/index.ts';

const log = pino({ level: 'silent' });
const DAY_MS = 86_400_000;

/** Mean square of a frame between two frequencies, referred to the preamp's input (gain and DC removed). */
function inputBandPower(samples: Int16Array, sampleRateHz: number, gainDb: number, fromHz: number, toHz: number): number {
  return bandPower(samples, sampleRateHz, fromHz, toHz) / (32767 * 10 ** (gainDb / 20)) ** 2;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

describe('the shipped leak scenario → embedded broker → ingest → SQLite, over real MQTT/TCP', () => {
  let dir: string;
  let store: SqliteStore;
  let service: IngestService | undefined;
  let simulator: FleetSimulator | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'suido-leak-'));
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

  it('stores every frame of the leak sensor, louder in its band on the leak nights than before and after', async () => {
    const scenario = await loadScenario(join(import.meta.dirname, '..', 'scenarios', 'leak.json'));
    const config = loadIngestConfig({ SUIDO_DATA_DIR: dir, MQTT_PORT: '0', INGEST_BATCH_MAX_DELAY_MS: '5', MQTT_ALLOW_ANONYMOUS: 'true' });
    service = await IngestService.start({ config, store, registry: new Registry(), log });
    await store.upsertDevices(fleetRegistry(scenario));
    simulator = new FleetSimulator({ url: service.broker.url, scenario, recordLedger: true });
    const report = await simulator.run();
    expect(report).toMatchObject({ caughtUp: true, unacked: 0, errors: 0 });
    const wall = Date.now();

    const start = report.simStartMs;
    expect(start).toBe(scenarioStartMs(scenario.clock, start + 6.5 * DAY_MS));
    // align "day": the clock starts at Tokyo midnight, so night N is 02:00-04:00 of day N-1 after the start.
    expect(tokyoDay(start) * DAY_MS - 9 * 3_600_000).toBe(start);
    // Nights before today's: a run between 02:00 and 04:00 Tokyo time has only part of tonight's frames.
    const tonight = tokyoDay(wall) * DAY_MS - 9 * 3_600_000;
    const frames = await store.framesInRange('S-0001', start, tonight, 10_000);
    // 12 frames a night (every 10 min, 02:00-04:00) for every night the run covered.
    const nights = new Set(frames.map((f) => tokyoDay(f.startMs)));
    expect(nights.size).toBeGreaterThanOrEqual(6);
    expect(frames.length).toBe(12 * nights.size);
    const nightOf = (ms: number) => tokyoDay(ms) - tokyoDay(start) + 1;
    const leakFrom = start + 24 * 3_600_000;
    const repairedAt = start + 99 * 3_600_000;

    const level = (f: (typeof frames)[number]) => inputBandPower(f.samples!, f.sampleRateHz, f.gainDb, 200, 1500);
    const leaking = frames.filter((f) => f.startMs >= leakFrom && f.startMs < repairedAt).map(level);
    const quiet = frames.filter((f) => f.startMs < leakFrom || f.startMs >= repairedAt).map(level);
    expect(frames.filter((f) => f.startMs >= leakFrom && f.startMs < repairedAt).every((f) => nightOf(f.startMs) >= 2 && nightOf(f.startMs) <= 5)).toBe(true);
    expect(leaking.length).toBeGreaterThanOrEqual(3 * 12);
    expect(quiet.length).toBeGreaterThanOrEqual(12);
    // A 0.4 L/s leak 35 m away on iron lifts the 200-1500 Hz band night after night (median over frames: traffic passes aside).
    expect(10 * Math.log10(median(leaking) / median(quiet))).toBeGreaterThan(6);

    // The other sensors' frames are stored too.
    for (const id of ['S-0002', 'S-0003']) expect((await store.framesInRange(id, start, tonight, 10_000)).length).toBe(12 * nights.size);

    // The premises leak: the meter never has an hour below 1 L once it runs, and raises its own leak flag after 24 h.
    const reads = report.ledger!.get('M-000004')!;
    const leakStart = start + 12 * 3_600_000;
    const after = reads.filter((r) => r.ts > leakStart);
    for (let i = 1; i < after.length; i++) expect(after[i]!.registerL - after[i - 1]!.registerL).toBeGreaterThanOrEqual(after[i]!.ts - after[i - 1]!.ts === 3_600_000 ? 17 : 0);
  }, 60_000);
});
