import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_MODEL_PATH, LeakAlertEngine, LeakModel, LeakScorer, MeterRulesEngine } from '@suido/detect';
import { MQTT_SERVICE_USERNAME, SqliteStore, type Alert } from '@suido/ingest';
import { FleetSimulator, loadScenario, resolveTime } from '@suido/simulators';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadAllInOneConfig, prepareFleetAccess, startAllInOne, type AllInOne } from '../src/index.ts';
import { QUIET_PVC_SENSOR, withoutQuietPvcSensor } from './leak-scenario-known-failure.ts';

const log = pino({ level: 'silent' });
const LEAK_SCENARIO = fileURLToPath(new URL('../../simulators/scenarios/leak.json', import.meta.url));
/** The crews' alert subscriber logs in as the service principal (README: Devices and credentials). */
const SERVICE_PASSWORD = 'leak-e2e-service-password-0123456789';

/**
 * simulators/scenarios/leak.json: S-0001 (ductile iron, quiet street) leaks
 * from night 2 and is repaired at 03:00 of night 5; S-0002 sits on an
 * arterial road and S-0003 (PVC) on a quiet street, neither leaking; meter
 * M-000004 has an 18 L/h premises leak from hour 12.
 */
async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const byKind = (alerts: readonly Alert[]) => alerts.map((a) => `${a.kind}:${a.sourceId}:${a.state}`).sort();
/** The alert's life without its `updated` events (a re-trigger that raised the peak score updates the one alert). */
const lifeOf = (actions: readonly string[]) => actions.filter((a) => a !== 'updated');
/** Leak alerts the scenario raised on the quiet PVC sensor, counted by the first test. */
let quietPvcAlerts: number | undefined;

describe('leak and meter alerts, end to end on real parts', () => {
  let dir: string;
  let system: AllInOne | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'suido-leak-'));
  });
  afterEach(async () => {
    await system?.close();
    system = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it('a leak raises exactly one alert for its sensor and the repair clears it; a premises leak raises continuous flow for its meter only; events go out on MQTT', async () => {
    system = await startAllInOne(
      loadAllInOneConfig({
        SUIDO_DATA_DIR: dir,
        MQTT_PORT: '0',
        API_PORT: '0',
        SUIDO_DEMO: 'false',
        DETECT_POLL_MS: '50',
        INGEST_BATCH_MAX_DELAY_MS: '5',
        MQTT_SERVICE_PASSWORD: SERVICE_PASSWORD,
      }),
      log,
    );
    const events: { topic: string; body: { eventId: number; action: string; alert: { kind: string; sourceId: string } } }[] = [];
    const subscriber = await mqtt.connectAsync(system.mqttUrl, { clientId: 'crew-test', reconnectPeriod: 0, username: MQTT_SERVICE_USERNAME, password: SERVICE_PASSWORD });
    await subscriber.subscribeAsync('water/v1/alerts/#', { qos: 1 });
    subscriber.on('message', (topic, payload) => events.push({ topic, body: JSON.parse(payload.toString()) }));

    const scenario = await loadScenario(LEAK_SCENARIO);
    const report = await new FleetSimulator({ url: system.mqttUrl, scenario, credentials: await prepareFleetAccess(system.store, scenario) }).run();
    expect(report).toMatchObject({ caughtUp: true, unacked: 0 });
    const store = system.store;

    const leak = await waitFor('the leak alert to clear after the repair', async () => {
      const a = await store.listAlerts({ kind: 'leak', sourceId: 'S-0001', limit: 10 });
      return a.length === 1 && a[0]!.state === 'cleared' ? a[0] : undefined;
    });
    await waitFor('continuous flow on M-000004', async () => ((await store.openAlertFor('M-000004', 'continuous_flow')) ? true : undefined));
    // Let every consumer drain what is left, then look at the whole picture.
    await new Promise((r) => setTimeout(r, 1000));

    const all = await store.listAlerts({ limit: 100 });
    const leakAlerts = all.filter((a) => a.kind === 'leak');
    const leakSpec = scenario.leaks[0]!;
    const hoursAfter = (ms: number, spec: NonNullable<typeof leakSpec.end>) => (ms - resolveTime(spec, report.simStartMs)) / 3_600_000;
    // The figures the README quotes for the shipped model: how soon, how late, and how near the quiet sensors came.
    const peaks = await Promise.all(
      ['S-0002', 'S-0003'].map(async (id) => `${id} ${Math.max(...(await store.scoresInRange(id, 0, Number.MAX_SAFE_INTEGER, 10_000)).map((x) => x.score)).toFixed(3)}`),
    );
    console.log(
      `leak scenario: raised ${hoursAfter(leak.raisedAtMs, leakSpec.start).toFixed(1)} h after the leak began, cleared ${hoursAfter(leak.clearedAtMs!, leakSpec.end!).toFixed(1)} h after the repair; highest score without a leak: ${peaks.join(', ')}; leak alerts: ${byKind(leakAlerts).join(', ')}; raised by the night verdict on level history: ${leakAlerts.filter((a) => (a.details as { levelVerdict?: unknown }).levelVerdict !== undefined).map((a) => a.sourceId).join(', ') || 'none'}`,
    );
    quietPvcAlerts = leakAlerts.filter((a) => a.sourceId === QUIET_PVC_SENSOR).length;
    expect(byKind(withoutQuietPvcSensor(leakAlerts))).toEqual(['leak:S-0001:cleared']);
    // In time: raised on the leak's first night (it starts at midnight; the sensor records 02:00–04:00), and
    // cleared no later than the night after the repair (at 03:00, one frame in ten minutes till 04:00).
    expect(hoursAfter(leak.raisedAtMs, leakSpec.start)).toBeGreaterThan(0);
    expect(hoursAfter(leak.raisedAtMs, leakSpec.start), 'hours from the leak to its alert').toBeLessThanOrEqual(4);
    expect(hoursAfter(leak.clearedAtMs!, leakSpec.end!)).toBeGreaterThan(0);
    expect(hoursAfter(leak.clearedAtMs!, leakSpec.end!), 'hours from the repair to the clear').toBeLessThanOrEqual(25);
    const history = (await store.alertEvents(leak.id)).map((e) => e.action);
    expect(lifeOf(history)).toEqual(['raised', 'cleared']);
    const flowAlerts = all.filter((a) => a.kind === 'continuous_flow');
    expect(flowAlerts.map((a) => a.sourceId)).toEqual(['M-000004']);

    const published = await waitFor('the alert events on MQTT', async () => {
      const seen = events.filter((e) => e.topic === 'water/v1/alerts/leak/S-0001').map((e) => e.body.action);
      return seen.includes('cleared') ? seen : undefined;
    });
    expect(lifeOf(published)).toEqual(['raised', 'cleared']);
    expect(published).toEqual(history);
    expect(events.some((e) => e.topic === 'water/v1/alerts/continuous_flow/M-000004' && e.body.action === 'raised')).toBe(true);
    await subscriber.endAsync();
  }, 120_000);

  // A known failure (leak-scenario-known-failure.ts): flip to `it` when a model keeps the quiet PVC sensor quiet.
  it.fails(`the quiet PVC sensor ${QUIET_PVC_SENSOR} raises no leak alert (known to fail with models 2.3.x, 2.4.x and the unshipped 2.5.0, 2.6.0 and 2.7.0)`, () => {
    expect(quietPvcAlerts, 'the test above ran the scenario').toBeDefined();
    expect(quietPvcAlerts).toBe(0);
  });

  it('a detector stopped in the middle and restarted neither loses nor duplicates the alert', async () => {
    // Ingest only: the fleet's frames and reads land in the store.
    system = await startAllInOne(
      loadAllInOneConfig({ SUIDO_DATA_DIR: dir, MQTT_PORT: '0', API_PORT: '0', SUIDO_DEMO: 'false', SUIDO_DETECT: 'false', INGEST_BATCH_MAX_DELAY_MS: '5' }),
      log,
    );
    const scenario = await loadScenario(LEAK_SCENARIO);
    await new FleetSimulator({ url: system.mqttUrl, scenario, credentials: await prepareFleetAccess(system.store, scenario) }).run();
    await system.close();
    system = undefined;

    const path = join(dir, 'suido.db');
    const model = await LeakModel.load(DEFAULT_MODEL_PATH);
    const config = { threshold: model.info.threshold, clearThreshold: 0.6 * model.info.threshold, modelVersion: model.info.version, ...model.info.persistence };
    const run = async (store: SqliteStore, stopAfter?: number) => {
      const scorer = new LeakScorer({ store, model, log, batchFrames: 20 });
      const engine = new LeakAlertEngine({ store, log, config, batchSize: 15 });
      for (let pass = 0; stopAfter === undefined || pass < stopAfter; pass++) {
        const scored = await scorer.runOnce();
        const decided = await engine.runOnce();
        if (!scored.more && !decided.more && scored.frames === 0 && decided.scores === 0) break;
      }
      await new MeterRulesEngine({ store, log }).drain();
    };

    // First detector: a few passes, then it "crashes" (dropped without closing).
    let store = new SqliteStore({ path });
    await run(store, 5);
    const midway = await store.listAlerts({ kind: 'leak', limit: 10 });
    await store.close();

    // The next one picks up from the durable cursors and histories.
    store = new SqliteStore({ path });
    await run(store);
    const alerts = await store.listAlerts({ kind: 'leak', limit: 10 });
    expect(byKind(withoutQuietPvcSensor(alerts))).toEqual(['leak:S-0001:cleared']);
    expect(lifeOf((await store.alertEvents(withoutQuietPvcSensor(alerts)[0]!.id)).map((e) => e.action))).toEqual(['raised', 'cleared']);
    // The interruption really fell before the end of the story.
    expect(midway.filter((a) => a.state === 'cleared')).toEqual([]);
    await store.close();
    await model.close();
  }, 120_000);
});
