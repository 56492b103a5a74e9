import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CORRELATED_LEAK_KIND } from '@suido/detect';
import { FleetSimulator, loadScenario, resolveTime } from '@suido/simulators';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadAllInOneConfig, prepareFleetAccess, startAllInOne, type AllInOne } from '../src/index.ts';

const log = pino({ level: 'silent' });
const PAIR_SCENARIO = fileURLToPath(new URL('../../simulators/scenarios/pair-leak.json', import.meta.url));

/**
 * simulators/scenarios/pair-leak.json: S-0001 and S-0002 on iron main
 * P-CORR-1, 180 m apart, a 0.3 L/s leak 50 m from S-0001 from night 2; a
 * quiet PVC pair S-0003/S-0004 on P-CORR-2, 80 m apart.
 */
describe('a correlator pair, end to end on real parts', () => {
  let dir: string;
  let system: AllInOne | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'suido-pair-'));
  });
  afterEach(async () => {
    await system?.close();
    system = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it('a leak between two sensors on one main raises one correlated_leak alert, placed along the main, the night it begins; the quiet pair raises none', async () => {
    system = await startAllInOne(
      loadAllInOneConfig({ SUIDO_DATA_DIR: dir, MQTT_PORT: '0', API_PORT: '0', SUIDO_DEMO: 'false', DETECT_POLL_MS: '50', INGEST_BATCH_MAX_DELAY_MS: '5' }),
      log,
    );
    const scenario = await loadScenario(PAIR_SCENARIO);
    const report = await new FleetSimulator({ url: system.mqttUrl, scenario, credentials: await prepareFleetAccess(system.store, scenario) }).run();
    expect(report).toMatchObject({ caughtUp: true, unacked: 0 });
    const store = system.store;
    // Every frame stored, then the correlator caught up with them: its cursor at the feed's end.
    const end = (await store.framesAfter(0, 1_000_000)).cursor;
    const deadline = Date.now() + 60_000;
    for (;;) {
      const state = await store.getConsumerState('pair-correlator');
      if ((state?.value as { cursor?: number } | undefined)?.cursor === end) break;
      if (Date.now() > deadline) throw new Error('timed out waiting for the pair correlator to catch up');
      await new Promise((r) => setTimeout(r, 100));
    }

    const alerts = await store.listAlerts({ kind: CORRELATED_LEAK_KIND, limit: 10 });
    const leakStart = resolveTime(scenario.leaks[0]!.start, report.simStartMs);
    const d = alerts[0]?.details as Record<string, number> | undefined;
    console.log(
      `pair scenario: ${alerts.map((a) => `${a.sourceId}:${a.state}`).join(', ') || 'no correlated alert'}; raised ${alerts[0] ? ((alerts[0].raisedAtMs - leakStart) / 3_600_000).toFixed(1) : '-'} h after the leak began, placed ${d?.fromFirstM} m from S-0001 (± ${d?.withinM}; planted at 50), peak ${alerts[0]?.peakScore}`,
    );
    expect(alerts.map((a) => `${a.sourceId}:${a.state}`)).toEqual(['S-0001:open']);
    const alert = alerts[0]!;
    // The leak begins at midnight; the pair records 02:00–04:00.
    expect((alert.raisedAtMs - leakStart) / 3_600_000).toBeGreaterThan(0);
    expect((alert.raisedAtMs - leakStart) / 3_600_000).toBeLessThanOrEqual(4);
    expect(d).toMatchObject({ partnerId: 'S-0002', pipeId: 'P-CORR-1', spacingM: 180 });
    expect(Math.abs(d!.fromFirstM! - 50)).toBeLessThanOrEqual(10);
  }, 120_000);
});
