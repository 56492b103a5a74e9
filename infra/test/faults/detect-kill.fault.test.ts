import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SqliteStore } from '@suido/ingest';
import { FleetSimulator, loadScenario } from '@suido/simulators';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, httpOk, printTally, startSuidoProcess, type SuidoProcess } from './suido-process.ts';
import { withoutQuietPvcSensor } from '../leak-scenario-known-failure.ts';

/**
 * The detector killed with SIGKILL while a leak alert is being raised (its
 * sensor's scores are crossing the threshold, the K-of-N window is filling),
 * and again just after the alert was raised. After restarts, the leak has
 * exactly one alert, raised once and cleared once after the repair: window
 * histories and cursors live in the store, committed with the alert changes.
 */
const LEAK_SCENARIO = fileURLToPath(new URL('../../../simulators/scenarios/leak.json', import.meta.url));

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('fault: detector killed with SIGKILL while an alert is raised (separate OS processes)', () => {
  let dir: string | undefined;
  let ingest: SuidoProcess | undefined;
  let detect: SuidoProcess | undefined;
  let store: SqliteStore | undefined;

  afterAll(async () => {
    await detect?.kill9();
    await ingest?.stop();
    await store?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('raises the leak alert once and clears it once', async () => {
    dir = await mkdtemp(join(tmpdir(), 'suido-fault-detect-'));
    const [mqttPort, ingestHttp, detectHttp] = [await freePort(), await freePort(), await freePort()];
    const common = { SUIDO_DATA_DIR: dir, MQTT_ALLOW_ANONYMOUS: 'true' };
    ingest = await startSuidoProcess({
      entry: 'ingest/src/main.ts',
      env: { ...common, MQTT_PORT: String(mqttPort), INGEST_HTTP_PORT: String(ingestHttp), INGEST_BATCH_MAX_DELAY_MS: '5' },
      ready: () => httpOk(`http://127.0.0.1:${ingestHttp}/readyz`),
    });
    const report = await new FleetSimulator({ url: `mqtt://127.0.0.1:${mqttPort}`, scenario: await loadScenario(LEAK_SCENARIO) }).run();
    expect(report).toMatchObject({ caughtUp: true, unacked: 0 });

    store = new SqliteStore({ path: join(dir, 'suido.db') });
    const s = store;
    const startDetect = () =>
      startSuidoProcess({
        entry: 'detect/src/main.ts',
        env: { ...common, DETECT_HTTP_PORT: String(detectHttp), DETECT_POLL_MS: '20' },
        ready: () => httpOk(`http://127.0.0.1:${detectHttp}/readyz`),
      });
    const leakAlerts = () => s.listAlerts({ kind: 'leak', sourceId: 'S-0001', limit: 10 });
    let kills = 0;
    let restarts = 0;

    // Kill 1: the leaking sensor's scores are rising (a leak night has been
    // scored at all), no alert yet or just now.
    detect = await startDetect();
    // The leak starts on night 2 of the scenario.
    const leakNightStart = report.simStartMs + 86_400_000;
    await waitFor('scores of S-0001 from the leak nights', async () => {
      const scores = await s.scoresInRange('S-0001', leakNightStart, report.simNowMs, 5);
      return scores.length > 0 ? true : undefined;
    });
    await detect.kill9();
    kills++;
    const alertsAtKill1 = (await leakAlerts()).length;
    detect = await startDetect();
    restarts++;

    // Kill 2: right after the alert was raised.
    const raised = await waitFor('the leak alert on S-0001', async () => (await leakAlerts())[0]);
    await detect.kill9();
    kills++;
    detect = await startDetect();
    restarts++;

    const cleared = await waitFor('the leak alert to clear after the repair', async () => {
      const a = await leakAlerts();
      return a.length === 1 && a[0]!.state === 'cleared' ? a[0] : undefined;
    });
    await detect.stop();
    detect = undefined;

    const all = await s.listAlerts({ kind: 'leak', limit: 100 });
    const actions = (await s.alertEvents(cleared.id)).map((e) => e.action).filter((a) => a !== 'updated');
    let frames = 0;
    for (let cursor = 0; ; ) {
      const page = await s.framesAfter(cursor, 1000);
      frames += page.frames.length;
      if (page.cursor === cursor) break;
      cursor = page.cursor;
    }
    const sensorFrames = report.messages.acoustic;
    printTally({
      scenario: 'kill -9 detect while a leak alert is raised',
      kills,
      restarts,
      sent: sensorFrames.published,
      acked: sensorFrames.acked,
      stored: frames,
      duplicates: withoutQuietPvcSensor(all).length - 1,
      lost: 1 - Math.min(1, all.filter((a) => a.sourceId === 'S-0001').length),
    });
    console.log(`  leak alerts when killed the first time: ${alertsAtKill1}; alert ${raised.id} raised, then cleared; events ${actions.join(' → ')}`);
    expect(withoutQuietPvcSensor(all).map((a) => `${a.sourceId}:${a.state}`)).toEqual(['S-0001:cleared']);
    expect(actions).toEqual(['raised', 'cleared']);
  }, 240_000);
});
